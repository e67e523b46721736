"""Reading what a pre-session brief is made of: the client, their commitments and replies."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, cast

from redis.asyncio import Redis

from daemon.config.load import CoachConfig
from daemon.store import keys
from daemon.store.records import commitments_by_id
from daemon.store.sessions import previous_session_start
from daemon.store.watched import read_client
from jobs.brief import BriefInputs
from jobs.questions import asked_before
from jobs.state import Client, Commitment


async def read_brief_inputs(
    redis: Redis,
    config: CoachConfig,
    client_id: str,
    now: datetime,
    session_start: datetime | None = None,
) -> tuple[BriefInputs, str] | None:
    """The brief's inputs and the coach it goes to (None: no such client).

    `session_start` None: on demand, "since the last session" is the last one before now."""
    client = await read_client(redis, client_id)
    if client is None:
        return None
    commitments = await commitments_by_id(redis, client.commitment_ids)
    history: dict[str, list[dict[str, Any]]] = {}
    sent: list[float] = []
    for commitment in commitments:
        raw = await cast(
            Awaitable[list[bytes]], redis.lrange(keys.history(commitment.commitment_id), 0, -1)
        )
        history[commitment.commitment_id] = [json.loads(r) for r in raw]
        # When each email of its thread went (daemon.store.settling): the latest one counts.
        times = await cast(Awaitable[list[bytes]], redis.hvals(keys.thread_sent(commitment.thread)))
        sent += [float(t) for t in times]
    since = await previous_session_start(redis, client_id, session_start or now)
    coach_id = _coach_of(commitments)
    zone = config.coach(coach_id).zone if coach_id in config.coaches else client.zone
    inputs = BriefInputs(
        client=client,
        commitments=commitments,
        history=history,
        now=now,
        zone=zone,
        session_start=session_start,
        since=since,
        last_questions=_question_texts(config, client),
        last_email_at=datetime.fromtimestamp(max(sent), UTC) if sent else None,
    )
    return inputs, coach_id


def _coach_of(commitments: list[Commitment]) -> str:
    """The coach of the client's most recently changed commitment ("" with none)."""
    newest = max(commitments, key=lambda c: c.updated_at or datetime.min.astimezone(), default=None)
    return newest.coach_id if newest else ""


def _question_texts(config: CoachConfig, client: Client) -> list[str]:
    """The texts of the questions the client's latest email asked, from any known bank."""
    texts = {q.id: q.text for bank in config.question_banks.values() for q in bank.questions}
    return [texts[i] for i in sorted(asked_before(client.last_question)) if i in texts]
