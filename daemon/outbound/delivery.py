"""The `fire_step` job: re-check state, compose, send once through the ledger, move on."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import structlog
from jinja2 import TemplateError
from redis.exceptions import RedisError

from daemon.errors import (
    RetryLater,
    StepGivenBack,
)
from daemon.outbound.composeahead import Precomposed, kept_email, read_kept
from daemon.outbound.currentstep import current_firing, due_today_too
from daemon.outbound.firing import Firing, Services
from daemon.outbound.holdback import PROMPTS, held_back
from daemon.outbound.ledger import Outcome
from daemon.outbound.recovery import after_earlier_attempt
from daemon.outbound.sendgate import SendGate
from daemon.outbound.sendonce import (
    Attempted,
    Claim,
    JobTry,
    claim_once,
    record_durably,
    send_claimed,
)
from daemon.outbound.stepbatch import Settlement, StepBatch
from daemon.outbound.stepmail import (
    bounce_address,
    compose_step,
    learned_scores,
    plan_question,
    step_questions,
)
from daemon.outbound.tally import Tally
from daemon.outbound.undelivered import uncomposed_note, undelivered_line
from daemon.store.changes import Finish, StepResult
from daemon.store.keys import ledger_step_id
from jobs.composer import ComposeError
from jobs.questions import Question, remember_questions

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
# The steps that count as prompts for the per-client daily cap.
# A job that fires a little before its window opens (clock skew) still sends.
MS_PER_S = 1000
RENDER_TIMEOUT_S = 5.0  # a coach template's render, off the loop (see composed)


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
        structlog.contextvars.unbind_contextvars("job_id", "commitment_id", "coach_id", "step")


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
    loaded, kept = await asyncio.gather(  # one round trip
        services.store.load(commitment_id), read_kept(services, commitment_id, version)
    )
    firing = await current_firing(services, loaded, version, name, batch=batch)
    if isinstance(firing, str):
        return firing
    held = await held_back(firing)
    if held:
        return held
    if firing.step.kind in PROMPTS:
        firing = replace(firing, companions=await due_today_too(firing))
    return await _deliver(firing, job_try, gate, kept)


async def _deliver(
    firing: Firing, job_try: int, gate: SendGate | None, kept: Precomposed | None = None
) -> str:
    """Send the step's email once, through the same protocol as every email
    (daemon.outbound.sendonce), then settle the ledger and the commitment together."""
    services = firing.services
    if gate is not None and gate.closed:  # stopping: claim nothing, leave it to the next worker
        raise StepGivenBack
    held = await claim_once(services.ledger, firing.ledger_key)
    if not isinstance(held, Claim):
        return await after_earlier_attempt(firing, held)
    firing = await _claim_companions(firing, held.attempt, held.claimed_at_ms)
    tally = Tally(firing.step.kind.value, ledger_step_id(firing.ledger_key))
    claim = held.with_riders([c.ledger_key for c in firing.companions]).counted_as(tally)
    ready = kept_email(firing, kept)
    if ready is not None:
        services.metrics.emails_composed_ahead.labels("used").inc()
    questions = ready[0] if ready else step_questions(firing, await learned_scores(firing))
    try:
        message, recipient = ready[1:] if ready else await composed(firing, questions)
    except (ComposeError, TemplateError, TimeoutError) as exc:
        # A coach's broken template or an unusable address: retrying cannot help.
        log.error("email_not_composed", error=type(exc).__name__)
        error = f"could not compose: {type(exc).__name__}: {exc}"
        attempted = Attempted(Outcome.FAILED, error, note=uncomposed_note(exc))
    else:
        envelope = (bounce_address(firing), [recipient])
        attempted = await send_claimed(
            claim, services.mailer, message, envelope, _job_try(firing, job_try), gate=gate,
            metrics=services.metrics,
        )  # fmt: skip
    outcome, error, code = attempted.outcome, attempted.error, attempted.code
    riders = tuple(
        Finish(
            c.commitment.commitment_id,
            c.commitment.version,
            c.step,
            StepResult(
                error,
                reached=outcome is not Outcome.FAILED,
                note=undelivered_line(c.step.kind, attempted.note),
                rider=True,
            ),
            firing.now,
            same_step=c.commitment.plan_gen,
        )
        for c in firing.companions
    )
    settlement = Settlement(
        claim.outcomes(attempted),
        (firing.finished(_main_result(firing, attempted, questions)), *riders),
    )
    await _settle_durably(firing, claim, settlement, attempted, _job_try(firing, job_try))
    services.metrics.email(firing.step.kind, outcome.value)  # once recorded: counted once
    if outcome is Outcome.SENT:
        log.info("email_sent", outcome=outcome.value, kind=firing.step.kind.value,
                 together_with=len(firing.companions))  # fmt: skip
    else:  # the coach's digest lists it too ("emails that did not, or may not, reach the client")
        log.warning("email_not_sent", outcome=outcome.value, kind=firing.step.kind.value,
                    code=code, reason=error)  # fmt: skip
    return outcome.value


async def _settle_durably(
    firing: Firing, claim: Claim, settlement: Settlement, attempted: Attempted, job_try: JobTry
) -> None:
    """Settle; if Redis went away meanwhile (a restart, a failover), keep trying to record
    the email's outcome in the ledger at least, so that the step's next run finds it and
    moves the state on, instead of finding a commit mark and calling a delivered email
    `unknown`."""
    try:
        await firing.settle(settlement)
    except RedisError:
        await record_durably(claim, job_try.record_within_s, attempted)
        raise


async def _claim_companions(firing: Firing, attempt: str, claimed_at_ms: int) -> Firing:
    """Claim the riding steps too; one another run already holds stays out of this email."""
    claimed = []
    for companion in firing.companions:
        if await firing.services.ledger.claim(companion.ledger_key, attempt, claimed_at_ms) is None:
            claimed.append(companion)
    return replace(firing, companions=tuple(claimed))


async def composed(firing: Firing, questions: tuple[Question, ...]) -> tuple[bytes, str]:
    """A coach's own templates render in a worker thread under a time limit (the sandbox
    bounds what a template can do; this is the backstop); the built-in ones inline."""
    if firing.services.config.template_dir_for(firing.commitment.coach_id) is None:
        return compose_step(firing, questions)
    async with asyncio.timeout(RENDER_TIMEOUT_S):
        return await asyncio.to_thread(compose_step, firing, questions)


def _job_try(firing: Firing, job_try: int) -> JobTry:
    services = firing.services
    return JobTry(
        number=job_try,
        last=job_try >= MAX_SEND_TRIES,
        retry_in_s=retry_delay_s(job_try, services.retry_base_s),
        record_within_s=services.job_timeout_s * DURABLE_SHARE,
    )


def _main_result(
    firing: Firing, attempted: Attempted, questions: tuple[Question, ...]
) -> StepResult:
    """A refused email asked nothing: its question may come again, and it is not counted."""
    reached = attempted.outcome is not Outcome.FAILED
    riders = tuple(c.commitment.commitment_id for c in firing.companions) if reached else ()
    # Every question of this email, so the next one repeats none of them.
    question = remember_questions(questions) if reached else ""
    note = undelivered_line(firing.step.kind, attempted.note)
    asked_plan = reached and plan_question(firing)
    return StepResult(
        attempted.error, question, riders, reached=reached, note=note, asked_plan=asked_plan
    )
