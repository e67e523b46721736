"""Coaching-session events: a session booked (or moved) and a session called off."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from jobs.eventbase import EventBase, Identifier, Slug


class SessionScheduled(EventBase):
    """A coaching session is booked; the same `session_id` again moves it to `starts_at`."""

    type: Literal["session.scheduled"]
    session_id: Identifier
    client_id: Identifier
    coach_id: Slug
    starts_at: AwareDatetime = Field(
        description="When the session starts, with its UTC offset, e.g. 2026-12-08T10:00:00+01:00."
    )


class SessionCancelled(EventBase):
    """The session will not take place: its brief is not sent."""

    type: Literal["session.cancelled"]
    session_id: Identifier


SessionEvent = SessionScheduled | SessionCancelled
