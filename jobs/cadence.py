"""Cadence profiles: how often and when a coach's clients hear from coachd."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_REMINDER_DAYS = 60
MAX_OVERDUE_DAYS = 365
MAX_UNANSWERED = 20
MAX_REFLECTION_HOURS = 24 * 14

ReminderDay = Annotated[int, Field(ge=1, le=MAX_REMINDER_DAYS)]
OverdueDay = Annotated[int, Field(ge=1, le=MAX_OVERDUE_DAYS)]
Weekday = Annotated[int, Field(ge=0, le=6)]  # date.weekday(): Monday is 0
DAYS_PER_WEEK = 7
FIRST_WEEKEND_DAY = 5  # date.weekday() of Saturday
MAX_CLIENT_LEAD_DAYS = 14
# What a client may change by reply (jobs.clientcadence): "days" (which weekdays), "hours"
# (part of day, not before an hour), "frequency" (prompts a week, less often), "weekends",
# "reminder_lead" (days before the due date).
ClientKey = Literal["days", "hours", "frequency", "weekends", "reminder_lead"]
# The default only lets a client narrow what the coach set (fewer days, later or fewer hours,
# fewer prompts): weekends and the reminder lead widen or reshape it, so the coach opts in.
DEFAULT_CLIENT_KEYS: tuple[ClientKey, ...] = ("days", "hours", "frequency")


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


class ClientBounds(BaseModel):
    """The limits of what a client may ask: prompts a week, the hours (inside the send window,
    unset: the window's own), and how many days ahead a reminder may come."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_prompts_per_week: int = Field(default=1, ge=1, le=DAYS_PER_WEEK)
    earliest: time | None = None
    latest: time | None = None
    max_lead_days: int = Field(default=7, ge=1, le=MAX_CLIENT_LEAD_DAYS)

    _times_are_text = field_validator("earliest", "latest", mode="before")(_refuse_number)


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
    # The learning loop chooses the hour of each overdue prompt within the send window
    # (jobs.choosing.sampled_hour): planned at the window's start, it goes at the hour drawn
    # from this client's (and the firm's) answers by hour. Off: at `send_at`. A key of its own:
    # it changes *when* clients hear from coachd, which a coach may want fixed.
    learn_send_hour: bool = False
    # After a new date asked for by reply, the confirmation also asks when exactly and what
    # the first step will be (jobs.intention); the answer goes into the coach's brief.
    ask_plan_after_reschedule: bool = False
    # Only on these weekdays (0 Monday … 6 Sunday); empty: any day `weekdays_only` allows.
    # A client's "only on Fridays" sets it in their own copy of the profile.
    send_days: tuple[Weekday, ...] = ()
    client_may_change: tuple[ClientKey, ...] = DEFAULT_CLIENT_KEYS
    client_bounds: ClientBounds = ClientBounds()

    _send_at_is_text = field_validator("send_at", mode="before")(_refuse_number)

    @field_validator("reminders_before_due_days", "overdue_prompt_days", "send_days")
    @classmethod
    def _unique(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        if len(set(days)) != len(days):
            raise ValueError("days must not repeat")
        return days

    @model_validator(mode="after")
    def _bounds_in_window(self) -> CadenceProfile:
        window, bounds = self.send_window, self.client_bounds
        for name, moment in (("earliest", bounds.earliest), ("latest", bounds.latest)):
            if moment is not None and not window.start <= moment <= window.end:
                raise ValueError(
                    f"client_bounds.{name} {moment:%H:%M} is outside send_window "
                    f"{window.start:%H:%M}-{window.end:%H:%M}"
                )
        if bounds.earliest and bounds.latest and bounds.earliest >= bounds.latest:
            raise ValueError("client_bounds.earliest must be earlier than client_bounds.latest")
        if self.send_days and self.weekdays_only and min(self.send_days) >= FIRST_WEEKEND_DAY:
            raise ValueError("send_days names only weekend days, but weekdays_only is true")
        return self

    @property
    def client_hours(self) -> tuple[time, time]:
        """The hours a client may choose within: the bounds, else the send window."""
        bounds = self.client_bounds
        return bounds.earliest or self.send_window.start, bounds.latest or self.send_window.end
