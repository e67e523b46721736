"""The `fire_step` job: re-check state, compose, send once through the ledger, move on."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any
from uuid import uuid4

import structlog
from jinja2 import TemplateError
from redis.exceptions import RedisError

from daemon.errors import PermanentSendError, RetryLater, TransientSendError, UnknownOutcomeError
from daemon.outbound.firing import Companion, Firing, Services
from daemon.outbound.holdback import PROMPTS, WINDOW_SLACK, held_back, reschedule
from daemon.outbound.ledger import LedgerLost, LedgerOutcome, Outcome
from daemon.outbound.recovery import after_earlier_attempt, may_take_over, wall_ms
from daemon.outbound.sendgate import SendGate, SendingStopped
from daemon.outbound.smtpdata import CommitUnconfirmed
from daemon.outbound.stepbatch import Settlement, StepBatch
from daemon.outbound.stepmail import bounce_address, compose_step, step_questions
from daemon.store.changes import Finish, StepResult
from jobs.commitment import next_step, scheduled_step
from jobs.composer import ComposeError
from jobs.questions import Question
from jobs.state import Status
from jobs.step import StepKind

log = structlog.get_logger(__name__)

# Transient SMTP failures are retried with bounded exponential backoff, then given up.
MAX_SEND_TRIES = 8
RETRY_BASE_S = 10
RETRY_MAX_S = 15 * 60
# arq counts every start (crash restarts too) against max_tries; leave room for ours.
ARQ_MAX_TRIES = MAX_SEND_TRIES + 3
REDIS_RETRY_S = 5
# How much of its time a job spends recording a sent email while Redis is away.
DURABLE_SHARE = 0.8
DURABLE_RETRY_S = 0.1
# A step this late fired after downtime: what to send is decided again (see _fire).
LATE_AFTER = timedelta(hours=1)
# At most this many of a client's other prompts due the same day ride in one email.
MAX_COMPANIONS = 5
# The steps that count as prompts for the per-client daily cap.
# A job that fires a little before its window opens (clock skew) still sends.
MS_PER_S = 1000


class StepGivenBack(RetryLater):
    """Raised when a step was not sent because the worker is stopping: no SMTP transaction
    was started (or it was cut off before its final dot) and its claims are released.
    It is due again at once, for the next worker; this start does not count."""

    def __init__(self) -> None:
        super().__init__(defer_s=0.0)


def retry_delay_s(job_try: int, base_s: float = RETRY_BASE_S) -> float:
    """Bounded exponential backoff: base, 2 x base, 4 x base ... at most RETRY_MAX_S."""
    return float(min(base_s * 2 ** max(job_try - 1, 0), RETRY_MAX_S))


async def fire_step(
    ctx: dict[str, Any], commitment_id: str, version: int, step_name: str | None = None
) -> str:
    """Send the step if it is still the commitment's current one; returns what happened.

    Run by daemon.outbound.dispatcher for each claimed step (and by arq for step jobs queued before
    steps had their own schedule, which name their step)."""
    services: Services = ctx["services"]
    structlog.contextvars.bind_contextvars(job_id=ctx.get("job_id"), commitment_id=commitment_id)
    try:
        job_try, batch, gate = int(ctx.get("job_try", 1)), ctx.get("batch"), ctx.get("gate")
        return await _fire(
            services, commitment_id, version, step_name, job_try, batch=batch, gate=gate
        )
    except RedisError as exc:
        # Redis went away mid-step: try again once it is back; the ledger keeps it single.
        log.warning("step_redis_unavailable", error=type(exc).__name__)
        raise RetryLater(defer_s=REDIS_RETRY_S) from exc
    finally:
        structlog.contextvars.unbind_contextvars("job_id", "commitment_id", "step")


async def _fire(
    services: Services,
    commitment_id: str,
    version: int,
    name: str | None,
    job_try: int,
    *,
    batch: StepBatch | None = None,
    gate: SendGate | None = None,
) -> str:
    loaded = await services.store.load(commitment_id)
    if loaded is None:
        return _skipped("commitment_gone")
    commitment, client = loaded
    step = scheduled_step(commitment, client.zone)
    if commitment.version != version or step is None or name not in (None, step.name):
        return _skipped("superseded")
    structlog.contextvars.bind_contextvars(step=step.name)
    # An opted-out client gets one email more: the confirmation that they are opted out.
    if client.opted_out and step.kind not in (StepKind.COACH_QUIET, StepKind.ACK):
        return _skipped("client_opted_out")
    now = services.clock.now()
    profile = services.store.profile_of(commitment)
    firing = Firing(services, commitment, client, profile, step, now, batch=batch)
    if step.kind in PROMPTS and now - step.fire_at > LATE_AFTER:
        # Downtime: what is right now may differ (a reminder after the due date is no use;
        # of several missed prompts only the latest goes out). Never a flood.
        current = next_step(commitment, client, profile, now)
        if current is None or current.fire_at > now + WINDOW_SLACK:
            return await reschedule(firing, current, "replanned_after_downtime")
        firing = replace(firing, step=current)
    held = await held_back(firing)
    if held:
        return held
    if step.kind in PROMPTS:
        firing = replace(firing, companions=await _due_today_too(firing))
    return await _deliver(firing, job_try, gate)


async def _due_today_too(firing: Firing) -> tuple[Companion, ...]:
    """The client's other prompts due today: they go out in this email, not another day's."""
    store, mine = firing.services.store, firing.commitment.commitment_id
    if firing.client.commitment_ids == (mine,):  # the usual case: nothing more to read
        return ()
    zone, today = firing.client.zone, firing.now.astimezone(firing.client.zone).date()
    companions = []
    for other in await store.client_commitments(firing.client):
        step = scheduled_step(other, zone) if other.status is Status.ACTIVE else None
        due_today = step is not None and step.fire_at_local.date() == today
        if step and due_today and other.commitment_id != mine and step.kind in PROMPTS:
            companions.append(Companion(other, step))
    return tuple(companions[:MAX_COMPANIONS])


async def _deliver(firing: Firing, job_try: int, gate: SendGate | None) -> str:
    ledger, key = firing.services.ledger, firing.ledger_key
    if gate is not None and gate.closed:  # stopping: claim nothing, leave it to the next worker
        raise StepGivenBack
    attempt, claimed_at_ms = uuid4().hex, wall_ms()
    previous = await ledger.claim(key, attempt, claimed_at_ms)
    if previous is not None and not await may_take_over(firing, previous, attempt, claimed_at_ms):
        return await after_earlier_attempt(firing, previous)
    firing = await _claim_companions(firing, attempt, claimed_at_ms)
    questions = step_questions(firing)
    try:
        message, recipient = compose_step(firing, questions)
    except (ComposeError, TemplateError) as exc:
        # A coach's broken template or an unusable address: retrying cannot help.
        log.error("email_not_composed", error=type(exc).__name__)
        outcome, error, code = (
            Outcome.FAILED, f"could not compose: {type(exc).__name__}: {exc}", None
        )  # fmt: skip
    else:
        outcome, error, code = await _send(
            firing, message, recipient, attempt, claimed_at_ms, job_try=job_try, gate=gate
        )
    riders = tuple(
        Finish(
            c.commitment.commitment_id,
            c.commitment.version,
            c.step,
            StepResult(error, reached=outcome is not Outcome.FAILED),
            firing.now,
            same_step=c.commitment.plan_gen,
        )
        for c in firing.companions
    )
    await firing.settle(
        Settlement(
            tuple(LedgerOutcome(k, attempt, claimed_at_ms, outcome) for k in _step_keys(firing)),
            (firing.finished(_main_result(firing, outcome, error, questions)), *riders),
        )
    )
    if outcome is Outcome.SENT:
        log.info("email_sent", outcome=outcome.value, kind=firing.step.kind.value,
                 together_with=len(firing.companions))  # fmt: skip
    else:  # the coach's digest lists it too ("emails that did not, or may not, reach the client")
        log.warning("email_not_sent", outcome=outcome.value, kind=firing.step.kind.value,
                    code=code, reason=error)  # fmt: skip
    return outcome.value


async def _claim_companions(firing: Firing, attempt: str, claimed_at_ms: int) -> Firing:
    """Claim the riding steps too; one another run already holds stays out of this email."""
    claimed = []
    for companion in firing.companions:
        if await firing.services.ledger.claim(companion.ledger_key, attempt, claimed_at_ms) is None:
            claimed.append(companion)
    return replace(firing, companions=tuple(claimed))


def _step_keys(firing: Firing) -> list[str]:
    return [firing.ledger_key, *(companion.ledger_key for companion in firing.companions)]


async def _send(
    firing: Firing,
    message: bytes,
    recipient: str,
    attempt: str,
    claimed_at_ms: int,
    *,
    job_try: int,
    gate: SendGate | None = None,
) -> tuple[Outcome, str, int | None]:
    """Send under our claim; transient failures give the claim back and retry later."""
    ledger, key, riding = firing.services.ledger, firing.ledger_key, _step_keys(firing)[1:]
    commit = ledger.commit_point(key, attempt, claimed_at_ms, also=riding)
    try:
        await firing.services.mailer.send(
            message, bounce_address(firing), [recipient], commit=commit, gate=gate
        )
    except SendingStopped as exc:  # nothing delivered: the next worker sends it
        await _release(firing, attempt, claimed_at_ms)
        raise StepGivenBack from exc
    except TransientSendError as exc:
        if job_try >= MAX_SEND_TRIES:
            return Outcome.FAILED, f"gave up after {job_try} tries: {exc}", exc.code
        await _release(firing, attempt, claimed_at_ms)
        log.warning("email_send_retry", code=exc.code, job_try=job_try)
        raise RetryLater(defer_s=retry_delay_s(job_try, firing.services.retry_base_s)) from exc
    except PermanentSendError as exc:
        return Outcome.FAILED, f"refused: {exc}", exc.code
    except UnknownOutcomeError as exc:
        return Outcome.UNKNOWN, f"outcome unknown, not resent: {exc}", exc.code
    except LedgerLost:
        # Our claim outlived its lease and another run took the step over: it owns it now.
        log.error("send_claim_lost")
        raise
    except CommitUnconfirmed as exc:
        # The message went out while Redis did not answer: record it once Redis is back.
        log.warning("send_commit_unconfirmed", error=type(exc.cause).__name__)
        await _record_sent_durably(firing, attempt, claimed_at_ms)
    return Outcome.SENT, "", None


async def _release(firing: Firing, attempt: str, claimed_at_ms: int) -> None:
    for step_key in _step_keys(firing):
        await firing.services.ledger.release(step_key, attempt, claimed_at_ms)


async def _record_sent_durably(firing: Firing, attempt: str, claimed_at_ms: int) -> None:
    """Keep trying to write "sent" (within the job's time): a lost mark means a resend."""
    ledger = firing.services.ledger
    deadline = time.monotonic() + firing.services.job_timeout_s * DURABLE_SHARE
    delay = DURABLE_RETRY_S
    while True:
        try:
            for step_key in _step_keys(firing):
                await ledger.finish(step_key, attempt, claimed_at_ms, Outcome.SENT)
            return
        except RedisError:
            if time.monotonic() + delay > deadline:
                raise
            await asyncio.sleep(delay)
            delay *= 2


def _main_result(
    firing: Firing, outcome: Outcome, error: str, questions: tuple[Question, ...]
) -> StepResult:
    """A refused email asked nothing: its question may come again, and it is not counted."""
    reached = outcome is not Outcome.FAILED
    riders = tuple(c.commitment.commitment_id for c in firing.companions) if reached else ()
    question = questions[0].id if questions and reached else ""
    return StepResult(error, question, riders, reached=reached)


def _skipped(reason: str) -> str:
    log.info("step_skipped", reason=reason)
    return f"skipped_{reason}"
