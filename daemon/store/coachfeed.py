"""What coaches hear about a commitment, written in the transaction that changes it."""

from __future__ import annotations

import json
from datetime import datetime

from redis.asyncio.client import Pipeline

from daemon.store import keys
from daemon.store.schedule import SEND_NOTICE, StepQueue, notice_job_id
from jobs.events import ReplyReceived
from jobs.state import Client, Commitment

# Replies are kept whole in the event; history and digest keep an excerpt.
EXCERPT_CHARS = 500
# An undelivered email whose step result has no words for the coach (daemon.outbound.undelivered).
UNEXPLAINED_EMAIL = "an email was not sent (details are in the operator log)"


def add_to_history(pipe: Pipeline, event: ReplyReceived) -> None:
    """The commitment's reply history: newest first, capped."""
    entry = {
        "at": event.occurred_at.isoformat(),
        "kind": event.kind,
        "intent": event.intent,
        "new_due": event.new_due.isoformat() if event.new_due else None,
        "text": event.text[:EXCERPT_CHARS],
        "source": event.source,
    }
    pipe.lpush(keys.history(event.commitment_id), json.dumps(entry))
    pipe.ltrim(keys.history(event.commitment_id), 0, keys.HISTORY_MAX - 1)


def add_to_digest(
    pipe: Pipeline,
    commitment: Commitment,
    client: Client,
    kind: str,
    at: datetime,
    *,
    reply: ReplyReceived | None = None,
    note: str = "",
    cadence: str = "",
) -> None:
    """An entry for the coach's next digest (`kind`: "reply", "completed", "undelivered");
    `cadence`: what a reply changed of the client's own cadence (jobs.clientcadence)."""
    entry = {
        "kind": kind,
        "at": at.isoformat(),
        "commitment_id": commitment.commitment_id,
        "client_name": client.name,
        "action": commitment.action,
        "intent": reply.intent if reply else None,
        "text": reply.text[:EXCERPT_CHARS] if reply else note[:EXCERPT_CHARS],
        "moved": commitment.renegotiations,
    }
    if cadence:
        entry["cadence"] = cadence
    pipe.rpush(keys.digest_entries(commitment.coach_id), json.dumps(entry))


def notify_coach(pipe: Pipeline, queue: StepQueue, event: ReplyReceived, headline: str) -> None:
    """An immediate coach notice: its text in a short-lived hash, its job due now."""
    notice_id = event.event_id
    pipe.hset(
        keys.notice(notice_id),
        mapping={
            "commitment_id": event.commitment_id,
            "headline": headline,
            "text": event.text,
            "at": event.occurred_at.isoformat(),  # the notice is due then: its email's Date
        },
    )
    pipe.expire(keys.notice(notice_id), keys.NOTICE_TTL_S)
    queue.add_job(pipe, SEND_NOTICE, notice_job_id(notice_id), (notice_id,), event.occurred_at)
