"""Whether a due step may go out now: the client's send window and their daily caps."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import structlog

from daemon.outbound.firing import Firing
from daemon.outbound.sendhour import learned_moment
from daemon.outbound.stepbatch import Settlement
from daemon.store.changes import StepResult
from jobs.planner import next_allowed_moment, prompt_at
from jobs.step import PlannedStep, StepKind

log = structlog.get_logger(__name__)

PROMPTS = (StepKind.REMINDER, StepKind.OVERDUE)
ANSWERS = (StepKind.ACK, StepKind.BLOCKED)  # replies to the client's own reply
WINDOW_SLACK = timedelta(minutes=1)


async def held_back(firing: Firing) -> str | None:
    """Reschedule (or, for an answer, skip) a step that may not go out now (outside the
    window, before the hour the learning loop chose, over the client's daily cap) and say
    why; None when it may."""
    step, now, zone = firing.step, firing.now, firing.client.zone
    if step.kind is StepKind.COACH_QUIET:
        return None
    opens = next_allowed_moment(firing.profile, now, zone)
    if opens - now > WINDOW_SLACK:
        return await reschedule(
            firing, replace(step, fire_at=opens, fire_at_local=opens), "deferred_to_window"
        )
    learned = await learned_moment(firing)  # an overdue prompt whose hour the loop learns
    if learned is not None and learned - now > WINDOW_SLACK:
        return await reschedule(
            firing,
            replace(step, fire_at=learned, fire_at_local=learned),
            "deferred_to_learned_hour",
        )
    if step.kind in ANSWERS:
        return await _answer_capped(firing)
    return await _prompt_capped(firing) if step.kind in PROMPTS else None


async def _prompt_capped(firing: Firing) -> str | None:
    """A prompt over the client's daily cap waits for tomorrow's window (unless it rides in
    another of today's emails)."""
    step, zone = firing.step, firing.client.zone
    cap = firing.services.config.firm.max_prompts_per_client_per_day
    today = firing.now.astimezone(zone).date()
    step_id = f"{firing.commitment.commitment_id}:{firing.commitment.plan_gen}:{step.name}"
    if await firing.services.prompt_cap.reserve(firing.client.client_id, today, step_id, cap):
        return None
    if await firing.services.ledger.peek(firing.ledger_key) is not None:
        return None  # it rides in another of today's emails: the ledger settles it
    usual = prompt_at(firing.profile) if step.kind is StepKind.OVERDUE else firing.profile.send_at
    tomorrow = datetime.combine(today + timedelta(days=1), usual, tzinfo=zone)
    later = next_allowed_moment(firing.profile, tomorrow, zone)
    return await reschedule(
        firing, replace(step, fire_at=later, fire_at_local=later), "capped_for_today"
    )


async def _answer_capped(firing: Firing) -> str | None:
    """An answer over the client's daily cap is not sent at all (a late answer is no
    answer): its commitment moves on as if it had been, and the log says why."""
    today = firing.now.astimezone(firing.client.zone).date()
    step_id = f"{firing.commitment.commitment_id}:{firing.commitment.plan_gen}:{firing.step.name}"
    if await firing.services.prompt_cap.reserve_answer(firing.client.client_id, today, step_id):
        return None
    await firing.settle(Settlement((), (firing.finished(StepResult("")),)))
    log.info("step_skipped", reason="answers_capped_for_today")
    return "skipped_answers_capped_for_today"


async def reschedule(firing: Firing, step: PlannedStep | None, reason: str) -> str:
    await firing.services.store.defer_step(firing.commitment, firing.client, step)
    log.info("step_rescheduled", reason=reason, fire_at=step.fire_at.isoformat() if step else None)
    return reason
