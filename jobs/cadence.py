"""Cadence profiles: how often and when a coach's clients hear from coachd."""

from __future__ import annotations

from datetime import time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_REMINDER_DAYS = 60
MAX_OVERDUE_DAYS = 365
MAX_UNANSWERED = 20
MAX_REFLECTION_HOURS = 24 * 14

ReminderDay = Annotated[int, Field(ge=1, le=MAX_REMINDER_DAYS)]
OverdueDay = Annotated[int, Field(ge=1, le=MAX_OVERDUE_DAYS)]


def _refuse_number(value: object) -> object:
    # pydantic would read a bare number as seconds since midnight; a coach means an hour.
    if isinstance(value, int | float):
        raise ValueError('must be a time like "09:00" (in quotes)')
    return value


class SendWindow(BaseModel):
    """The local hours (start inclusive, end exclusive) in which a client may receive email."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: time = time(8, 0)
    end: time = time(20, 0)

    _times_are_text = field_validator("start", "end", mode="before")(_refuse_number)

    @model_validator(mode="after")
    def _start_before_end(self) -> SendWindow:
        if self.start >= self.end:
            raise ValueError("send_window.start must be earlier than send_window.end")
        return self

    def contains(self, moment: time) -> bool:
        return self.start <= moment < self.end


class CadenceProfile(BaseModel):
    """One named cadence from a coach file's `[profiles.NAME]` table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Days before the due date on which a short reminder goes out (e.g. [3, 1]).
    reminders_before_due_days: tuple[ReminderDay, ...] = (2,)
    # Days after the due date on which an overdue discovery prompt goes out.
    overdue_prompt_days: tuple[OverdueDay, ...] = (1, 4, 9)
    # Local time of day at which day-based steps are sent.
    send_at: time = time(9, 0)
    send_window: SendWindow = SendWindow()
    weekdays_only: bool = True
    # After this many overdue prompts without a reply coachd goes quiet and tells the coach.
    stop_after_unanswered: int = Field(default=3, ge=1, le=MAX_UNANSWERED)
    # Hours after completion before the reflection prompt (moved into the send window).
    reflection_after_hours: int = Field(default=4, ge=0, le=MAX_REFLECTION_HOURS)
    questions_per_prompt: int = Field(default=1, ge=1, le=2)
    question_bank: str = "default"
    # The learning loop chooses among questions of the right depth (jobs.choosing); off: the
    # fixed, seeded rotation. Off by default: it changes which questions go out.
    learn_questions: bool = False

    _send_at_is_text = field_validator("send_at", mode="before")(_refuse_number)

    @field_validator("reminders_before_due_days", "overdue_prompt_days")
    @classmethod
    def _unique(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        if len(set(days)) != len(days):
            raise ValueError("days must not repeat")
        return days
