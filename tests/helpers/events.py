"""Inbox events as a producer writes them, for the test firm's coach and client Ana."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.helpers.firm import START


def created(
    event_id: str = "e-created",
    commitment_id: str = "c1",
    *,
    due: str = "2026-12-03",
    at: datetime = START,
    client_id: str = "ana",
    email: str = "ana@example.org",
    zone: str = "Europe/Madrid",
    profile: str | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "version": 1,
        "event_id": event_id,
        "occurred_at": at.isoformat(),
        "type": "commitment.created",
        "commitment_id": commitment_id,
        "coach_id": "maria",
        "client": {"client_id": client_id, "name": "Ana Ruiz", "email": email, "timezone": zone},
        "action": "draft the grant proposal's first page",
        "why": "so the garden gets funded",
        "due_date": due,
    }
    if profile:
        event["profile"] = profile
    return event


def changed(
    event_type: str, event_id: str, at: datetime, commitment_id: str = "c1", **fields: Any
) -> dict[str, Any]:
    return {
        "version": 1,
        "event_id": event_id,
        "occurred_at": at.isoformat(),
        "type": event_type,
        "commitment_id": commitment_id,
        **fields,
    }
