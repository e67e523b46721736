"""A client's own cadence: what they asked for by reply, the coach's bounds on it, and the
effective profile the planner uses (pure)."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from jobs.cadence import (
    DAYS_PER_WEEK,
    FIRST_WEEKEND_DAY,
    MAX_CLIENT_LEAD_DAYS,
    CadenceProfile,
    ClientKey,
    SendWindow,
    Weekday,
)

PartOfDay = Literal["morning", "afternoon", "evening"]
MAX_LEAD_DAYS = MAX_CLIENT_LEAD_DAYS
# "Less often": at most this many prompts a week, and one reminder. A cap, not a stretch, so
# that applying the request to a profile it was already applied to changes nothing.
LESS_OFTEN_PER_WEEK = 2
# The local hours each part of day means: [start, end).
PART_HOURS: dict[str, tuple[time, time]] = {
    "morning": (time(6, 0), time(12, 0)),
    "afternoon": (time(12, 0), time(17, 0)),
    "evening": (time(17, 0), time(22, 0)),
}


class CadenceRequest(BaseModel):
    """What a client asked about the emails' timing; a field left None was not asked about.

    `days`: only on these weekdays; `part`: that part of the day; `not_before`: no email
    earlier in the day; `weekends`: True fine, False not; `per_week`: at most that many
    prompts a week; `less_often`: fewer prompts than now; `lead_days`: the reminder comes
    this many days before the due date."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    days: tuple[Weekday, ...] = ()
    part: PartOfDay | None = None
    not_before: time | None = None
    weekends: bool | None = None
    per_week: int | None = Field(default=None, ge=1, le=DAYS_PER_WEEK)
    less_often: bool = False
    lead_days: int | None = Field(default=None, ge=1, le=MAX_LEAD_DAYS)

    def is_empty(self) -> bool:
        return self == CadenceRequest()

    def merged(self, newer: CadenceRequest) -> CadenceRequest:
        """This request with what `newer` asked about replacing it, key by key."""
        asked = newer.model_dump(exclude_defaults=True)
        return self.model_copy(update=asked)

    def to_text(self) -> str:
        """The compact JSON stored on the client record ("" when nothing is asked)."""
        return "" if self.is_empty() else self.model_dump_json(exclude_defaults=True)

    @classmethod
    def from_text(cls, text: str) -> CadenceRequest:
        return cls.model_validate_json(text) if text else cls()


# Which profile key (client_may_change) each field of a request needs.
KEY_OF: dict[str, ClientKey] = {
    "days": "days",
    "part": "hours",
    "not_before": "hours",
    "weekends": "weekends",
    "per_week": "frequency",
    "less_often": "frequency",
    "lead_days": "reminder_lead",
}
STORED_CACHE_SIZE = 1024
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, slots=True)
class Clamped:
    """A request kept within the profile's limits, and what was left out or moved (for the
    coach, in plain words; the client's confirmation says that some of it stays as it was)."""

    request: CadenceRequest
    notes: tuple[str, ...]


def clamp(request: CadenceRequest, profile: CadenceProfile) -> Clamped:
    """`request` within what `profile.client_may_change` and `client_bounds` allow."""
    kept: dict[str, Any] = {}
    notes: list[str] = []
    for field, value in request.model_dump(exclude_defaults=True).items():
        if KEY_OF[field] in profile.client_may_change:
            kept[field] = value
        else:
            notes.append(f"{field}: the profile does not let clients change {KEY_OF[field]}")
    bounds = profile.client_bounds
    if kept.get("per_week", DAYS_PER_WEEK) < bounds.min_prompts_per_week:
        kept["per_week"] = bounds.min_prompts_per_week
        notes.append(f"per_week: raised to the profile's minimum {bounds.min_prompts_per_week}")
    if kept.get("lead_days", 0) > bounds.max_lead_days:
        kept["lead_days"] = bounds.max_lead_days
        notes.append(f"lead_days: lowered to the profile's maximum {bounds.max_lead_days}")
    _clamp_hours(kept, profile, notes)
    _clamp_days(kept, profile, notes)
    return Clamped(CadenceRequest(**kept), tuple(notes))


def _clamp_hours(kept: dict[str, Any], profile: CadenceProfile, notes: list[str]) -> None:
    if "part" not in kept and "not_before" not in kept:
        return
    low, high = profile.client_hours
    start, end = requested_hours(kept.get("part"), kept.get("not_before"), profile.send_window)
    if max(start, low) >= min(end, high):
        kept.pop("part", None)
        kept.pop("not_before", None)
        notes.append(f"hours: nothing is left of them inside {low:%H:%M}-{high:%H:%M}")
    elif start < low and "not_before" in kept:
        kept["not_before"] = low
        notes.append(f"not_before: moved to the profile's earliest {low:%H:%M}")


def _clamp_days(kept: dict[str, Any], profile: CadenceProfile, notes: list[str]) -> None:
    weekends = kept.get("weekends", not profile.weekdays_only)
    days = tuple(d for d in kept.get("days", ()) if weekends or d < FIRST_WEEKEND_DAY)
    if profile.send_days:
        days = tuple(d for d in days if d in profile.send_days)
    if days != tuple(kept.get("days", ())):
        notes.append("days: only days the profile sends on are kept")
        kept["days"] = days
    if not kept.get("days"):
        kept.pop("days", None)


def requested_hours(
    part: str | None, not_before: time | None, window: SendWindow
) -> tuple[time, time]:
    """The hours a part of day and a "not before" leave of `window` (start may be >= end)."""
    start, end = PART_HOURS[part] if part else (window.start, window.end)
    if not_before is not None:
        start = max(start, not_before)
    return max(start, window.start), min(end, window.end)


def effective_profile(profile: CadenceProfile, request: CadenceRequest) -> CadenceProfile:
    """The coach's profile as this client hears it: `request` (already clamped) applied.
    Idempotent: the result with `request` applied again is the same profile."""
    if request.is_empty():
        return profile
    update: dict[str, Any] = {}
    if request.weekends is not None:
        update["weekdays_only"] = not request.weekends
    if request.days:
        update["send_days"] = request.days
    if request.part or request.not_before:
        start, end = requested_hours(request.part, request.not_before, profile.send_window)
        low, high = profile.client_hours
        window = SendWindow(start=max(start, low), end=min(end, high))
        update["send_window"] = window
        update["send_at"] = profile.send_at if window.contains(profile.send_at) else window.start
    reminders = profile.reminders_before_due_days
    overdue = profile.overdue_prompt_days
    if request.lead_days:
        reminders = (request.lead_days,)
    per_week = request.per_week or DAYS_PER_WEEK
    if request.less_often:
        reminders = reminders[:1]
        per_week = min(per_week, LESS_OFTEN_PER_WEEK)
    if per_week < DAYS_PER_WEEK:
        gap = math.ceil(DAYS_PER_WEEK / per_week)
        reminders = tuple(-d for d in _spaced(sorted(-d for d in reminders), gap))
        overdue = _spaced(sorted(overdue), gap)
    update["reminders_before_due_days"] = reminders
    update["overdue_prompt_days"] = tuple(dict.fromkeys(overdue))
    return profile.model_copy(update=update)


def _spaced(days: list[int], gap: int) -> tuple[int, ...]:
    """The first day, then each day at least `gap` after the last one kept."""
    kept: list[int] = []
    for day in days:
        if not kept or day - kept[-1] >= gap:
            kept.append(day)
    return tuple(kept)


def describe(request: CadenceRequest) -> str:
    """The override in a few English words for the coach: "Fridays, mornings, not before 10:00"."""
    parts = [", ".join(f"{DAY_NAMES[d]}s" for d in request.days)] if request.days else []
    if request.part:
        parts.append(f"{request.part}s")
    if request.not_before:
        parts.append(f"not before {request.not_before:%H:%M}")
    if request.weekends is not None:
        parts.append("weekends fine" if request.weekends else "no weekends")
    if request.per_week:
        parts.append(f"at most {request.per_week} a week")
    if request.less_often:
        parts.append("less often")
    if request.lead_days:
        parts.append(f"reminder {request.lead_days} day(s) before")
    return "; ".join(parts) or "the coach's cadence"


def client_profile(profile: CadenceProfile, cadence: str) -> CadenceProfile:
    """`profile` with a client's stored override (`Client.cadence`) applied."""
    return effective_profile(profile, _stored(cadence)) if cadence else profile


@functools.lru_cache(maxsize=STORED_CACHE_SIZE)
def _stored(cadence: str) -> CadenceRequest:
    # Planned at every event and send: the few distinct overrides are parsed once each.
    return CadenceRequest.from_text(cadence)


def coach_line(asked: CadenceRequest | None, stored: str, profile: CadenceProfile) -> str:
    """What the coach's digest says of a reply's cadence request: the client's cadence now,
    and what of the request the profile did not take ("" when the reply asked for none)."""
    if asked is None:
        return ""
    line = f"their own cadence now: {describe(CadenceRequest.from_text(stored))}"
    notes = clamp(asked, profile).notes
    return f"{line} (not taken: {'; '.join(notes)})" if notes else line
