"""A step whose ledger entry shows an earlier attempt: take over, wait for it, or settle it."""

from __future__ import annotations

import time

import structlog

from daemon.errors import RetryLater
from daemon.outbound.firing import Firing
from daemon.outbound.ledger import LedgerEntry, LedgerOutcome, Outcome
from daemon.outbound.stepbatch import Settlement
from daemon.store.changes import StepResult

log = structlog.get_logger(__name__)

MS_PER_S = 1000


async def may_take_over(firing: Firing, previous: LedgerEntry, attempt: str, now_ms: int) -> bool:
    """A claim whose lease ran out belongs to a worker that died before the point of no
    return: nothing was delivered, so this run may send."""
    ledger = firing.services.ledger
    if not ledger.expired(previous, now_ms):
        return False
    taken = await ledger.take_over(firing.ledger_key, previous, attempt, now_ms)
    if taken:
        log.info("send_taken_over", abandoned_ms=now_ms - previous.claimed_at_ms)
    return taken


async def after_earlier_attempt(firing: Firing, previous: LedgerEntry) -> str:
    """An earlier run of this step holds or settled it: wait for it, or finish its work."""
    ledger = firing.services.ledger
    if previous.outcome is Outcome.CLAIMED:  # still within its lease: in flight elsewhere
        remaining_ms = previous.claimed_at_ms + ledger.lease_ms - wall_ms()
        raise RetryLater(defer_s=max(remaining_ms / MS_PER_S, 1.0))
    outcome, error = previous.outcome, ""
    recorded: tuple[LedgerOutcome, ...] = ()
    if outcome is Outcome.COMMITTING:
        # Its worker died after the final dot but before it saw the server's answer: the
        # server may have taken the message or refused it. Not resent, and not called sent.
        outcome = Outcome.UNKNOWN
        error = "its worker stopped while the server was answering the final dot"
        key = firing.ledger_key
        recorded = (LedgerOutcome(key, previous.attempt, previous.claimed_at_ms, outcome),)
    elif outcome is not Outcome.SENT:
        error = f"earlier attempt ended {outcome.value}"
    result = StepResult(error, reached=outcome is not Outcome.FAILED)
    await firing.settle(Settlement(recorded, (firing.finished(result),)))
    log.info("step_recovered", outcome=outcome.value)
    return f"recovered_{outcome.value}"


def wall_ms() -> int:
    """Ledger leases are wall-clock (Redis expiry is too), whatever the domain clock says."""
    return int(time.time() * MS_PER_S)
