"""The step a commitment is at now: the firing both the due-time path
(daemon.outbound.delivery) and the look-ahead (daemon.outbound.lookahead) start from."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import structlog

from daemon.clock import acting_moment
from daemon.outbound.firing import Companion, Firing, Services
from daemon.outbound.holdback import ANSWERS, PROMPTS, WINDOW_SLACK, reschedule
from daemon.outbound.stepbatch import StepBatch
from jobs.clientcadence import client_profile
from jobs.commitment import next_step, scheduled_step
from jobs.state import Client, Commitment, Status
from jobs.step import StepKind

log = structlog.get_logger(__name__)

# A step this late fired after downtime: what to send is decided again (see current_firing).
LATE_AFTER = timedelta(hours=1)
# At most this many of a client's other prompts due the same day ride in one email.
MAX_COMPANIONS = 5


async def current_firing(
    services: Services,
    loaded: tuple[Commitment, Client] | None,
    version: int,
    name: str | None,
    *,
    batch: StepBatch | None = None,
    ahead: bool = False,
) -> Firing | str:
    """The firing of the commitment's current step, or why there is none (a skip).

    `ahead`: as it will fire on time (daemon.outbound.composeahead), with nothing done.
    """
    if loaded is None:
        return skipped("commitment_gone", log_it=not ahead)
    commitment, client = loaded
    structlog.contextvars.bind_contextvars(coach_id=commitment.coach_id)
    step = scheduled_step(commitment, client.zone)
    if commitment.version != version or step is None or name not in (None, step.name):
        return skipped("superseded", log_it=not ahead)
    structlog.contextvars.bind_contextvars(step=step.name)
    if not ahead:
        lateness_s = (services.clock.now() - step.fire_at).total_seconds()
        services.metrics.step_lateness.observe(max(lateness_s, 0.0))
    # An opted-out client gets one email more: the confirmation that they are opted out.
    if client.opted_out and step.kind not in (StepKind.COACH_QUIET, StepKind.ACK):
        return skipped("client_opted_out", log_it=not ahead)
    profile = services.store.profile_of(commitment)
    if step.kind not in ANSWERS:  # a prompt held back waits for the client's own hours
        profile = client_profile(profile, client.cadence)
    if ahead:
        return Firing(services, commitment, client, profile, step, step.fire_at)
    now = acting_moment(services.clock, step.fire_at)  # on time: the moment it was due
    firing = Firing(services, commitment, client, profile, step, now, batch=batch)
    late = services.clock.real(now) - services.clock.real(step.fire_at)
    if step.kind in PROMPTS and late > LATE_AFTER:
        # Downtime: what is right now may differ (a reminder after the due date is no use;
        # of several missed prompts only the latest goes out). Never a flood. Measured on
        # the wall clock: on the demo's fast clock a 0.3 s pause is over an hour.
        current = next_step(commitment, client, profile, now)
        if current is None or current.fire_at > now + WINDOW_SLACK:
            return await reschedule(firing, current, "replanned_after_downtime")
        firing = replace(firing, step=current)
    return firing


async def due_today_too(firing: Firing) -> tuple[Companion, ...]:
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


def skipped(reason: str, *, log_it: bool = True) -> str:
    if log_it:
        log.info("step_skipped", reason=reason)
    return f"skipped_{reason}"
