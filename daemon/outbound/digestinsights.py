"""The learning loop's three lines in a coach's digest, once a week: on Mondays (in the
coach's zone), about the emails their clients got in the seven days before."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from redis.asyncio import Redis

from daemon.store import keys
from jobs.insights import digest_lines, emails_of

WEEKLY_ON = 0  # Monday: the digest that opens the coach's week looks back on the last one
WEEK_S = 7 * 24 * 3600


async def weekly_lines(
    redis: Redis, coach_id: str, client_ids: Sequence[str], today: date, now: datetime
) -> list[str]:
    """The lines for the digest of `today` (none but on WEEKLY_ON); one pipelined read of
    the clients' learning records."""
    if today.weekday() != WEEKLY_ON or not client_ids:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for client_id in client_ids:
            pipe.lrange(keys.learning(client_id), 0, -1)
        lists = await pipe.execute()
    since = now.timestamp() - WEEK_S
    emails = [
        email
        for client_id, raw in zip(client_ids, lists, strict=True)
        for email in emails_of(client_id, raw)
        if email.coach_id == coach_id and since <= email.at <= now.timestamp()
    ]
    return digest_lines(emails)
