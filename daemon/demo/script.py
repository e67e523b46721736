"""The demo's week, as data: what the coaches' system sends, and what the clients reply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

# Monday 30 November 2026, 07:00 UTC: the demo's week starts here, whatever today is.
DEMO_START = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
# The script is over by Monday 7 December, 16:00 UTC.
DEMO_END = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)


@dataclass(frozen=True)
class ScriptedEvent:
    at: datetime
    event: dict[str, Any]


def _client(client_id: str, name: str, email_address: str, zone: str) -> dict[str, str]:
    return {"client_id": client_id, "name": name, "email": email_address, "timezone": zone}


# What the coaches' system sends during the demo week: (hours after the start, type, fields).
_EVENTS: tuple[tuple[int, str, dict[str, Any]], ...] = (
    (
        0,
        "commitment.created",
        {
            "commitment_id": "ana-grant",
            "coach_id": "maria",
            "client": _client("ana", "Ana Ruiz", "ana@example.org", "Europe/Madrid"),
            "action": "draft the grant proposal's first page",
            "why": "so the community garden gets its funding",
            "due_date": "2026-12-02",
        },
    ),
    (
        0,
        "commitment.created",
        {
            "commitment_id": "ben-calls",
            "coach_id": "james",
            "client": _client("ben", "Ben Carter", "ben@example.org", "America/New_York"),
            "action": "call three former colleagues about the job market",
            "due_date": "2026-12-01",
        },
    ),
    (
        0,
        "commitment.created",
        {
            "commitment_id": "chloe-mentor",
            "coach_id": "maria",
            "client": _client("chloe", "Chloé Martin", "chloe@example.org", "Europe/Madrid"),
            "action": "book a first session with a mentor",
            "due_date": "2026-12-03",
        },
    ),
    # The coach and Chloé agree a new date before the first reminder went out.
    (20, "commitment.updated", {"commitment_id": "chloe-mentor", "due_date": "2026-12-07"}),
    # Hearing that Ben is stuck, James books a session with him for Monday, 10:00 in New
    # York: his brief on Ben comes two hours before.
    (
        4 * 24 + 11,
        "session.scheduled",
        {
            "session_id": "ben-monday",
            "client_id": "ben",
            "coach_id": "james",
            "starts_at": "2026-12-07T10:00:00-05:00",
        },
    ),
)


def demo_script() -> list[ScriptedEvent]:
    """What the coaches' system sends during the demo week, in order."""
    scripted = []
    for number, (hours, kind, fields) in enumerate(_EVENTS, start=1):
        at = DEMO_START + timedelta(hours=hours)
        body = {
            "version": 1,
            "event_id": f"demo-{number}",
            "occurred_at": at.isoformat(),
            "type": kind,
            **fields,
        }
        scripted.append(ScriptedEvent(at, body))
    return scripted


@dataclass(frozen=True)
class ScriptedReply:
    """A client answering the last email they got, as they would from their phone."""

    at: datetime
    client_email: str
    text: str


def demo_replies() -> list[ScriptedReply]:
    """Each reply comes hours after the email it answers and hours from any digest: on the
    demo's fast clock an hour is a quarter of a second, and reading a reply takes some."""
    t0 = DEMO_START
    return [
        # Ben answers his second prompt (Friday, New York): something is in the way.
        ScriptedReply(
            t0 + timedelta(days=4, hours=9, minutes=30),  # 11:30 there
            "ben@example.org",
            "Honestly I'm stuck - no time this week with the move.",
        ),
        # Ana answers her Saturday prompt: done.
        ScriptedReply(
            t0 + timedelta(days=5, hours=4),  # 12:00 in Madrid: hours from her digest
            "ana@example.org",
            "Done! I sent the first page to the foundation this morning.",
        ),
    ]
