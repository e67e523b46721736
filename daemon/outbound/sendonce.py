"""Sending one email at most once through the send ledger: claim, take over or wait, commit, record.

The protocol (daemon.outbound.ledger has the states), whoever the email is for:

1. `claim_once` claims the ledger key with a lease. A claim whose lease ran out belongs
   to a run that died before its point of no return (nothing was delivered): it is taken
   over. An earlier run still within its lease may yet finish: `RetryLater`, never a send.
   Anything else an earlier run left (an outcome, or a commit mark whose lease ran out) is
   returned for the caller to settle by its own policy.
2. `send_claimed` sends with the claim's commit mark written together with the final dot,
   and says what happened; on a transient failure it gives the claim back and raises
   `RetryLater` (or, on the job's last try, reports the email failed).
3. The caller records the outcome by compare-and-set (`Claim.finish`, or the ledger's
   `record_all` with `Claim.outcomes` alongside its own state change); a claim `counted_as`
   a tally is counted in the same call (daemon.outbound.tally).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from uuid import uuid4

import structlog
from redis.exceptions import RedisError

from daemon.errors import (
    PermanentSendError,
    RetryLater,
    StepGivenBack,
    TransientSendError,
    UnknownOutcomeError,
)
from daemon.metrics import Metrics
from daemon.outbound.ledger import (
    IN_FLIGHT,
    LedgerCommit,
    LedgerEntry,
    LedgerLost,
    LedgerOutcome,
    Outcome,
    SendLedger,
    wall_ms,
)
from daemon.outbound.mailer import Mailer
from daemon.outbound.sendgate import SendGate, SendingStopped
from daemon.outbound.smtpdata import CommitUnconfirmed
from daemon.outbound.tally import Report, Tally, plain_reason
from daemon.outbound.undelivered import UNKNOWN_NOTE, gave_up_note, refused_note
from daemon.store.keys import ledger_step_id

log = structlog.get_logger(__name__)

MS_PER_S = 1000
# A run that lost a take-over race, or waits on a lease about to run out, looks again this soon.
MIN_WAIT_S = 1.0
# Retrying an outcome while Redis is away: first pause, doubled each time up to the most
# (a failover takes seconds: the new primary is found soon after it is named).
DURABLE_RETRY_S = 0.1
DURABLE_RETRY_MAX_S = 0.5


@dataclass(frozen=True, slots=True)
class Claim:
    """This run's hold on a ledger key, and on the keys of any steps riding in the same email."""

    ledger: SendLedger
    key: str
    attempt: str
    claimed_at_ms: int
    riders: tuple[str, ...] = ()
    tally: Tally | None = None  # how its outcome is counted; None: not counted

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.key, *self.riders)

    def with_riders(self, riders: Sequence[str]) -> Claim:
        """The same claim, also covering `riders` (each already claimed by this attempt)."""
        return replace(self, riders=tuple(riders))

    def counted_as(self, tally: Tally) -> Claim:
        """The same claim, its outcome counted as `tally` (its riders' not counted again)."""
        return replace(self, tally=tally)

    def commit_point(self) -> LedgerCommit:
        """The commit mark for every key, to go out with the final dot."""
        return self.ledger.commit_point(
            self.key, self.attempt, self.claimed_at_ms, also=self.riders
        )

    def outcomes(self, attempted: Attempted) -> tuple[LedgerOutcome, ...]:
        """The outcome for every key, for the ledger's `record_all`."""
        return tuple(
            LedgerOutcome(k, self.attempt, self.claimed_at_ms, attempted.outcome, report)
            for k, report in zip(self.keys, self._reports(attempted), strict=True)
        )

    async def finish(self, attempted: Attempted) -> bool:
        """Record the outcome on every key still ours; False if the main key no longer is."""
        ours = [
            await self.ledger.finish(k, self.attempt, self.claimed_at_ms, attempted.outcome, r)
            for k, r in zip(self.keys, self._reports(attempted), strict=True)
        ]
        return ours[0]

    async def release(self) -> None:
        """Give every key back: nothing was delivered."""
        for key in self.keys:
            await self.ledger.release(key, self.attempt, self.claimed_at_ms)

    def _reports(self, attempted: Attempted) -> list[Report | None]:
        if self.tally is None:
            return [None] * len(self.keys)
        main = Report(self.tally, attempted.readable, attempted.code)
        riders = [
            replace(main, tally=Tally(self.tally.kind, ledger_step_id(k), counted=False))
            for k in self.riders
        ]
        return [main, *riders]


@dataclass(frozen=True, slots=True)
class JobTry:
    """Which start of the job this is, and what a transient failure means for it."""

    number: int
    last: bool  # a transient failure now is given up: the email is recorded failed
    retry_in_s: float  # else the job runs again this much later
    record_within_s: float  # how long to keep recording "sent" while Redis is away


@dataclass(frozen=True, slots=True)
class Attempted:
    """What sending under a claim came to; `error` and `code` are empty when it was sent.

    `error` is for the operator (log, `last_error`); `note` says it for the coach's digest.
    """

    outcome: Outcome
    error: str = ""
    code: int | None = None
    reason: str = ""
    note: str = ""

    @property
    def readable(self) -> str:
        """Why it did not (or may not) arrive, in a coach's words ("" when sent)."""
        return plain_reason(self.outcome.value, self.error, self.code, self.reason)


async def claim_once(ledger: SendLedger, key: str) -> Claim | LedgerEntry:
    """Claim `key` for a new attempt (taking over an abandoned claim), or say what is there.

    Raises `RetryLater` while an earlier attempt may still be running (within its lease).
    Returns the earlier attempt's entry when it has an outcome, or left a commit mark and
    is gone: settling that is the caller's policy (see `settle_abandoned`).
    """
    attempt, now_ms = uuid4().hex, wall_ms()
    previous = await ledger.claim(key, attempt, now_ms)
    if previous is None:
        return Claim(ledger, key, attempt, now_ms)
    if previous.outcome is Outcome.CLAIMED and ledger.lease_over(previous, now_ms):
        if await ledger.take_over(key, previous, attempt, now_ms):
            log.info("send_taken_over", abandoned_ms=now_ms - previous.claimed_at_ms)
            return Claim(ledger, key, attempt, now_ms)
        raise RetryLater(defer_s=MIN_WAIT_S)  # another run took it over just now
    if previous.outcome in IN_FLIGHT and not ledger.lease_over(previous, now_ms):
        # In flight elsewhere: its run records the outcome; look again when it must have.
        left_s = ledger.lease_left_ms(previous, now_ms) / MS_PER_S
        raise RetryLater(defer_s=max(left_s, MIN_WAIT_S))
    return previous


async def settle_abandoned(
    ledger: SendLedger,
    key: str,
    previous: LedgerEntry,
    outcome: Outcome,
    report: Report | None = None,
) -> bool:
    """Record `outcome` (counted as `report` says) for an earlier attempt that left a commit
    mark and died."""
    return await ledger.finish(key, previous.attempt, previous.claimed_at_ms, outcome, report)


async def send_claimed(
    claim: Claim,
    mailer: Mailer,
    message: bytes,
    envelope: tuple[str, Sequence[str]],
    job_try: JobTry,
    *,
    gate: SendGate | None = None,
    metrics: Metrics | None = None,
) -> Attempted:
    """Send under `claim` (sender and recipients in `envelope`); the outcome is not recorded.

    Raises `RetryLater` (claim given back) on a transient failure before the job's last
    try, and `LedgerLost` when another run took the claim over (it owns the email now).
    Each try's time in the mailer goes to `metrics`.
    """
    try:
        commit = claim.commit_point()
        await _timed_send(mailer, message, envelope, commit, gate=gate, metrics=metrics)
    except SendingStopped as exc:  # the worker is stopping: nothing went out, the next sends
        await claim.release()
        raise StepGivenBack from exc
    except TransientSendError as exc:
        if job_try.last:
            error = f"gave up after {job_try.number} tries: {exc}"
            note = gave_up_note(exc, job_try.number)
            return Attempted(Outcome.FAILED, error, exc.code, exc.reason, note)
        await claim.release()
        log.warning("email_send_retry", code=exc.code, reason=exc.reason, job_try=job_try.number)
        raise RetryLater(defer_s=job_try.retry_in_s) from exc
    except PermanentSendError as exc:
        return Attempted(Outcome.FAILED, f"refused: {exc}", exc.code, exc.reason, refused_note(exc))
    except UnknownOutcomeError as exc:
        error = f"outcome unknown, not resent: {exc}"
        return Attempted(Outcome.UNKNOWN, error, exc.code, exc.reason, UNKNOWN_NOTE)
    except LedgerLost:
        log.error("send_claim_lost")
        raise
    except CommitUnconfirmed as exc:
        # The message went out while Redis did not answer: record it once Redis is back.
        log.warning("send_commit_unconfirmed", error=type(exc.cause).__name__)
        await record_durably(claim, job_try.record_within_s)
    return Attempted(Outcome.SENT)


async def _timed_send(
    mailer: Mailer,
    message: bytes,
    envelope: tuple[str, Sequence[str]],
    commit: LedgerCommit,
    *,
    gate: SendGate | None,
    metrics: Metrics | None,
) -> None:
    """`mailer.send`, its time (whatever the outcome, a wait for a pooled connection
    included) observed in `metrics`: what an SMTP server's slowness costs each send."""
    started = time.perf_counter()
    try:
        await mailer.send(message, envelope[0], envelope[1], commit=commit, gate=gate)
    finally:
        if metrics is not None:
            metrics.smtp_seconds.observe(time.perf_counter() - started)


async def record_durably(
    claim: Claim, within_s: float, attempted: Attempted = Attempted(Outcome.SENT)
) -> None:
    """Keep trying to write `attempted` for `within_s`: a lost "sent" would mean a resend, or
    (once the commit mark is there) an email recorded `unknown` that was delivered."""
    deadline = time.monotonic() + within_s
    delay = DURABLE_RETRY_S
    while True:
        try:
            await claim.finish(attempted)
            return
        except RedisError:
            if time.monotonic() + delay > deadline:
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, DURABLE_RETRY_MAX_S)
