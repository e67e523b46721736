"""What the store is handed and hands back: inbox entries to acknowledge, steps to move on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from jobs.state import Commitment
from jobs.step import PlannedStep


class Applied(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class StreamEntry:
    """An inbox entry to acknowledge in the same transaction that applies it."""

    stream: str
    group: str
    entry_id: str


@dataclass(frozen=True, slots=True)
class StepResult:
    """What came of a step's email: the error to record, the question it asked, and the
    other commitments it asked about (its riders)."""

    error: str = ""
    question_id: str = ""
    sent_with: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Finish:
    """A step whose outcome the ledger holds: move its commitment on (Store.finish_all).

    Normally only the `version` the step was fired for moves on. With `same_step` (a plan
    generation), any version still waiting for that step does: a step that rode in another
    commitment's email may have been moved meanwhile (e.g. by the daily cap).
    """

    commitment_id: str
    version: int
    step: PlannedStep
    result: StepResult
    now: datetime
    same_step: int | None = None

    def moves_on(self, current: Commitment) -> bool:
        if self.same_step is None:
            return current.version == self.version  # else the new version's step carries on
        return (current.plan_gen, current.next_step) == (self.same_step, self.step.name)
