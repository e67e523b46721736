"""A step whose ledger entry shows an earlier attempt that is over: settle what it left.

(`sendonce.claim_once` has already taken over an abandoned claim, or made this run wait
for one still within its lease; what reaches here is an outcome, or a commit mark whose
run died.)
"""

from __future__ import annotations

import structlog

from daemon.outbound.firing import Firing
from daemon.outbound.ledger import LedgerEntry, LedgerOutcome, Outcome
from daemon.outbound.stepbatch import Settlement
from daemon.outbound.tally import STOPPED_ANSWERING, Report, Tally
from daemon.outbound.undelivered import outcome_note, undelivered_line
from daemon.store.changes import StepResult
from daemon.store.keys import ledger_step_id

log = structlog.get_logger(__name__)


async def after_earlier_attempt(firing: Firing, previous: LedgerEntry) -> str:
    """Move the commitment on from what an earlier run of this step left in the ledger."""
    outcome, error = previous.outcome, ""
    recorded: tuple[LedgerOutcome, ...] = ()
    if outcome is Outcome.COMMITTING:
        # Its worker died after the final dot but before it saw the server's answer: the
        # server may have taken the message or refused it. Not resent, and not called sent.
        outcome = Outcome.UNKNOWN
        error = "its worker stopped while the server was answering the final dot"
        key = firing.ledger_key
        report = Report(Tally(firing.step.kind.value, ledger_step_id(key)), STOPPED_ANSWERING)
        recorded = (LedgerOutcome(key, previous.attempt, previous.claimed_at_ms, outcome, report),)
        # Counted here: the run that sent it died before it could count it.
        firing.services.metrics.email(firing.step.kind, outcome.value)
    elif outcome is not Outcome.SENT:
        error = f"earlier attempt ended {outcome.value}"
    result = StepResult(
        error,
        reached=outcome is not Outcome.FAILED,
        note=undelivered_line(firing.step.kind, outcome_note(outcome)),
    )
    await firing.settle(Settlement(recorded, (firing.finished(result),)))
    log.info("step_recovered", outcome=outcome.value)
    return f"recovered_{outcome.value}"
