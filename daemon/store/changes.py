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
    reached: bool = True  # False: the server surely did not take it (refused, gave up)
    note: str = ""  # with an error: the coach's digest line (daemon.outbound.undelivered)
    rider: bool = False  # asked about in another commitment's email: that one records it
    asked_plan: bool = False  # a confirmation that asked for the client's plan (jobs.intention)


@dataclass(frozen=True, slots=True)
class Finish:
    """A step whose outcome the ledger holds: move its commitment on (Store.finish_all).

    The `version` the step was fired for moves on; with `same_step` (a plan generation), so
    does any newer version still waiting for that step: an event may have changed the
    wording between the final dot and this settling, or a rider may have been moved by the
    daily cap. A newer version that plans otherwise only counts the email (store.settling).
    """

    commitment_id: str
    version: int
    step: PlannedStep
    result: StepResult
    now: datetime
    same_step: int | None = None

    def moves_on(self, current: Commitment) -> bool:
        if current.version == self.version:
            return True
        # A newer version that still waits for this very step of this plan (its wording
        # changed meanwhile, say) moves on too; any other newer version plans on its own.
        waiting = (current.plan_gen, current.next_step) == (self.same_step, self.step.name)
        return self.same_step is not None and waiting
