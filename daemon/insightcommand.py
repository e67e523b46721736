"""`coachd insights`: answer rates of the learning loop's records, for the firm and for one
coach's or one client's emails, as text, JSON or an HTML page with inline charts."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from daemon.errors import OperatorRequestError
from daemon.insightsview import insights_html, insights_text
from daemon.redisplace import connected
from daemon.settings import Settings
from daemon.store.learning import read_learning
from jobs.insights import Email, Insights, emails_of, insights, select

TITLE = "coachd insights: which emails clients answer"


async def read_emails(settings: Settings, within_days: int) -> dict[str, list[Email]]:
    async with connected(settings) as redis:
        raw = await read_learning(redis)
    return {
        client_id: emails_of(client_id, records, within_days=within_days)
        for client_id, records in raw.items()
    }


def sections(
    by_client: dict[str, list[Email]], *, coach: str | None, client: str | None
) -> list[tuple[str, Insights]]:
    """The firm's figures, then (when asked) the chosen coach's or client's beside them."""
    found = [("firm", insights(select(by_client, coach=None, client=None)))]
    if coach is None and client is None:
        return found
    chosen = select(by_client, coach=coach, client=client)
    names = [f"coach {coach}" if coach else "", f"client {client}" if client else ""]
    scope = ", ".join(n for n in names if n)
    if not chosen:
        raise OperatorRequestError(f"no emails recorded for {scope} (see `coachd insights`)")
    return [(scope, insights(chosen)), *found]


def run(args: argparse.Namespace) -> int:
    by_client = asyncio.run(read_emails(args.settings, args.within_days))
    found = sections(by_client, coach=args.coach, client=args.client)
    if args.html:
        Path(args.html).write_text(insights_html(TITLE, found), encoding="utf-8")
    if args.json:
        print(json.dumps({name: i.as_json() for name, i in found}, indent=2))
    elif not args.html:
        print(insights_text(TITLE, found), end="")
    else:
        print(f"wrote {args.html}")
    return 0
