"""A client's own cadence: what they asked for by reply, the coach's bounds on it, and the
effective profile the planner uses (pure)."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

PartOfDay = Literal["morning", "afternoon", "evening"]
Weekday = Annotated[int, Field(ge=0, le=6)]  # date.weekday(): Monday is 0
DAYS_PER_WEEK = 7
MAX_LEAD_DAYS = 14
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
