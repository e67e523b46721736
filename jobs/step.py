"""The steps of a commitment's timeline: what is sent, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class StepKind(StrEnum):
    """What a step sends; the value is the template folder's name."""

    REMINDER = "reminder"  # before the due date: short and encouraging
    OVERDUE = "overdue"  # after the due date: one or two discovery questions
    REFLECTION = "reflection"  # after completion: celebrate, ask what they learned
    COACH_QUIET = "coach_quiet"  # to the coach: the client went quiet, talk in person
    ACK = "ack"  # to the client: the new date they asked for is noted
    BLOCKED = "blocked"  # to the client: thanks, one question about what would help
    COACH_NOTICE = "coach_notice"  # to the coach at once: blocked, stop or a hard bounce
    DIGEST = "digest"  # to the coach daily: replies, overdue, quiet, completed
    BRIEF = "brief"  # to the coach before a session with a client (jobs.brief)


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """One step with its fire time; `name` is stable for a given profile and due date.

    Names are wire format (they appear in ledger keys and job arguments):
    `reminder-3d` (3 days before due), `overdue-4d` (4 days after due),
    `reflection`, `coach-quiet`, `ack` (a new date confirmed), `blocked-2` (the answer to
    the client's 2nd reply, which said they are blocked).
    """

    name: str
    kind: StepKind
    fire_at: datetime  # aware, UTC
    fire_at_local: datetime  # aware, in the client's zone
    # Days relative to the due date: negative before it, positive once overdue.
    offset_days: int = 0


_KIND_BY_PREFIX = {"reminder-": StepKind.REMINDER, "overdue-": StepKind.OVERDUE}
BLOCKED_PREFIX = "blocked-"
# A confirmation is named by the reply it answers ("ack-3"), so the confirmation of an undo
# is a new email even when the plan did not change; plain "ack" is an earlier release's name.
ACK_PREFIX = "ack-"
_KIND_BY_NAME = {
    "reflection": StepKind.REFLECTION,
    "coach-quiet": StepKind.COACH_QUIET,
    "ack": StepKind.ACK,
}


def step_from_name(name: str, fire_at: datetime, fire_at_local: datetime) -> PlannedStep:
    """Rebuild a scheduled step from its wire name (see PlannedStep) and fire time."""
    if name in _KIND_BY_NAME:
        return PlannedStep(name, _KIND_BY_NAME[name], fire_at, fire_at_local)
    if name.startswith(BLOCKED_PREFIX) and name.removeprefix(BLOCKED_PREFIX).isdigit():
        return PlannedStep(name, StepKind.BLOCKED, fire_at, fire_at_local)
    if name.startswith(ACK_PREFIX) and name.removeprefix(ACK_PREFIX).isdigit():
        return PlannedStep(name, StepKind.ACK, fire_at, fire_at_local)
    for prefix, kind in _KIND_BY_PREFIX.items():
        days = name.removeprefix(prefix).removesuffix("d")
        if name.startswith(prefix) and name.endswith("d") and days.isdigit():
            offset = -int(days) if kind is StepKind.REMINDER else int(days)
            return PlannedStep(name, kind, fire_at, fire_at_local, offset)
    raise ValueError(f"unknown step name {name!r}")
