"""The pure transitions of commitment and client state that events and sent steps cause."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from jobs.cadence import CadenceProfile
from jobs.clientcadence import client_profile
from jobs.events import (
    ClientUpdated,
    CommitmentCancelled,
    CommitmentCompleted,
    CommitmentCreated,
    CommitmentEvent,
    CommitmentUpdated,
    EventRejected,
)
from jobs.planner import (
    coach_notice_step,
    next_allowed_moment,
    plan_commitment,
    plan_reflection,
)
from jobs.state import Client, Commitment, Status
from jobs.step import ACK_PREFIX, BLOCKED_PREFIX, PlannedStep, StepKind, step_from_name

REFLECTION_STEP = "reflection"


@dataclass(frozen=True, slots=True)
class Transition:
    """A commitment's new state and the one step to keep scheduled for it (if any).

    The previously scheduled step (for `previous_version`) is always superseded.
    """

    commitment: Commitment
    previous_version: int | None
    step: PlannedStep | None


def scheduled_step(commitment: Commitment, zone: ZoneInfo) -> PlannedStep | None:
    """The step the commitment's current job is for, as recorded when it was scheduled."""
    if not commitment.next_step or commitment.next_at is None:
        return None
    at = commitment.next_at
    return step_from_name(commitment.next_step, at, at.astimezone(zone))


def next_step(
    commitment: Commitment, client: Client, profile: CadenceProfile, now: datetime
) -> PlannedStep | None:
    """The one step that should be scheduled next for this commitment, or None. Prompts and
    reflections follow the client's own cadence, if they set one by reply (jobs.clientcadence);
    an answer to their reply (the confirmation of that too) goes in the coach's window."""
    if client.email_failing:
        return None
    if client.opted_out:  # one last email: "got it, no more emails" (and how to undo that)
        confirming_stop = commitment.pending_ack and commitment.ack_for == "stop"
        return _confirmation_step(commitment, profile, client, now) if confirming_stop else None
    if commitment.status is Status.COMPLETED:
        if commitment.pending_ack:
            return _confirmation_step(commitment, profile, client, now)
        return _reflection_step(commitment, client, client_profile(profile, client.cadence))
    if commitment.status is not Status.ACTIVE:
        return None
    return _active_step(commitment, client, profile, now)


def _reflection_step(
    commitment: Commitment, client: Client, profile: CadenceProfile
) -> PlannedStep | None:
    if commitment.last_sent == REFLECTION_STEP or commitment.completed_at is None:
        return None
    reflection = plan_reflection(profile, commitment.completed_at, client.zone)
    return _after_pause(profile, client, reflection)


def _active_step(
    commitment: Commitment, client: Client, profile: CadenceProfile, now: datetime
) -> PlannedStep | None:
    answer = _answer_step(commitment, profile, client, now)
    if answer is not None or commitment.blocked:
        return answer  # blocked: one question back, then the ladder waits for the client
    profile = client_profile(profile, client.cadence)
    if commitment.unanswered >= profile.stop_after_unanswered:
        return coach_notice_step(profile, now, client.zone)
    # Planning as of the end of a pause makes the steps missed during it collapse into one.
    plan_from = max(now, _pause_end(profile, client) or now)
    steps = plan_commitment(
        profile,
        commitment.due_date,
        client.zone,
        plan_from,
        last_sent=commitment.last_sent or None,
    )
    return steps[0] if steps else None


def _answer_step(
    commitment: Commitment, profile: CadenceProfile, client: Client, now: datetime
) -> PlannedStep | None:
    """The one email that answers the client's last reply, if it still needs sending."""
    if commitment.pending_ack:
        return _confirmation_step(commitment, profile, client, now)
    if not commitment.blocked:
        return None
    name = f"{BLOCKED_PREFIX}{commitment.replies}"
    if commitment.last_sent == name:
        return None
    local = next_allowed_moment(profile, now, client.zone)
    return PlannedStep(name, StepKind.BLOCKED, local.astimezone(UTC), local)


def _confirmation_step(
    commitment: Commitment, profile: CadenceProfile, client: Client, now: datetime
) -> PlannedStep:
    """The one short email that says what coachd understood from the client's last reply."""
    local = next_allowed_moment(profile, now, client.zone)
    name = f"{ACK_PREFIX}{commitment.replies}"
    return PlannedStep(name, StepKind.ACK, local.astimezone(UTC), local)


def _pause_end(profile: CadenceProfile, client: Client) -> datetime | None:
    if client.paused_until is None:
        return None
    back = datetime.combine(client.paused_until, profile.send_at, tzinfo=client.zone)
    return next_allowed_moment(profile, back, client.zone)


def _after_pause(profile: CadenceProfile, client: Client, step: PlannedStep) -> PlannedStep:
    """Nothing goes to a client before the day their out-of-office says they are back."""
    back = _pause_end(profile, client)
    if back is None or step.fire_at >= back:
        return step
    return replace(step, fire_at=back.astimezone(UTC), fire_at_local=back)


def replan(
    commitment: Commitment, client: Client, profile: CadenceProfile, now: datetime
) -> Transition:
    """Bump the version and pick the next step again (old jobs then never fire)."""
    step = next_step(commitment, client, profile, now)
    updated = replace(
        commitment,
        version=commitment.version + 1,
        next_step=step.name if step else "",
        next_at=step.fire_at if step else None,
    )
    return Transition(updated, commitment.version, step)


def create_commitment(
    event: CommitmentCreated,
    client: Client,
    profile_name: str,
    profile: CadenceProfile,
    thread: str,
) -> Transition:
    """State for a new commitment and its first step."""
    fresh = Commitment(
        commitment_id=event.commitment_id,
        client_id=client.client_id,
        coach_id=event.coach_id,
        profile=profile_name,
        action=event.action,
        why=event.why,
        due_date=event.due_date,
        thread=thread,
        version=0,
        updated_at=event.occurred_at,
    )
    transition = replan(fresh, client, profile, event.occurred_at)
    return Transition(transition.commitment, None, transition.step)


def change_commitment(
    event: CommitmentEvent,
    current: Commitment,
    client: Client,
    profile: CadenceProfile,
    now: datetime,
) -> Transition:
    """Apply an update, completion or cancellation to an existing commitment."""
    reject_stale(event.occurred_at, current.updated_at, current.commitment_id)
    if current.status in (Status.CANCELLED, Status.COMPLETED):
        raise EventRejected(f"commitment {current.commitment_id} is already {current.status}")
    changed = replace(current, updated_at=event.occurred_at)
    if isinstance(event, CommitmentUpdated):
        changed = _updated(changed, event)
    elif isinstance(event, CommitmentCompleted):
        changed = replace(changed, status=Status.COMPLETED, completed_at=event.occurred_at)
    elif isinstance(event, CommitmentCancelled):
        changed = replace(changed, status=Status.CANCELLED)
    else:
        raise EventRejected(f"commitment {current.commitment_id} already exists")
    return replan(changed, client, profile, now)


def _updated(current: Commitment, event: CommitmentUpdated) -> Commitment:
    changed = replace(
        current,
        action=event.action if event.action is not None else current.action,
        why=event.why if event.why is not None else current.why,
    )
    if event.due_date is not None and event.due_date != current.due_date:
        # A new date is a new agreement: its reminders and prompts start afresh.
        changed = replace(
            changed,
            due_date=event.due_date,
            plan_gen=current.plan_gen + 1,
            last_sent="",
            unanswered=0,
            plan="",
            plan_asked=False,
        )
    return changed


def update_client(event: ClientUpdated, current: Client | None) -> Client:
    """The client's new details; a client coachd has not met needs name, email and zone."""
    if current is None:
        if event.name is None or event.email is None or event.timezone is None:
            raise EventRejected(
                f"unknown client {event.client_id}: a first client.updated needs name, "
                "email and timezone"
            )
        current = Client(event.client_id, event.name, event.email, event.timezone)
    else:
        reject_stale(event.occurred_at, current.updated_at, event.client_id)
    return replace(
        current,
        name=event.name if event.name is not None else current.name,
        greeting_name=current.greeting_name if event.greeting_name is None else event.greeting_name,
        email=event.email if event.email is not None else current.email,
        timezone=event.timezone if event.timezone is not None else current.timezone,
        opted_out=event.opted_out if event.opted_out is not None else current.opted_out,
        other_emails=event.other_emails if event.other_emails is not None else current.other_emails,
        # A new address is worth trying again after a hard bounce.
        email_failing=current.email_failing and event.email in (None, current.email),
        updated_at=event.occurred_at,
    )


def record_sent(
    commitment: Commitment,
    client: Client,
    profile: CadenceProfile,
    step: PlannedStep,
    *,
    now: datetime,
    error: str = "",
    sent_with: tuple[str, ...] = (),
    reached: bool = True,
    asked_plan: bool = False,
) -> Transition:
    """State after a step's email went out (or failed for good): move on to the next step.

    `sent_with` are the other commitments the same email asked about (none for a rider).
    An email that surely did not reach the client (`reached` False: refused, given up) is
    not counted: neither as sent nor as a prompt left unanswered. `asked_plan`: the email
    asked for the client's plan (jobs.intention); until their next reply, or the next email
    to them about this step, their words will be the plan."""
    status = commitment.status
    if step.kind is StepKind.COACH_QUIET:
        status = Status.QUIET
    counted = reached and step.kind is not StepKind.COACH_QUIET
    sent = replace(
        commitment,
        status=status,
        pending_ack=commitment.pending_ack and step.kind is not StepKind.ACK,
        last_sent=step.name,
        sent_count=commitment.sent_count + (1 if counted else 0),
        unanswered=commitment.unanswered + (1 if reached and step.kind is StepKind.OVERDUE else 0),
        last_error=error or commitment.last_error,
        sent_with=sent_with if reached else (),
        plan_asked=asked_plan if counted else commitment.plan_asked,
    )
    return replan(sent, client, profile, now)


def reject_stale(occurred_at: datetime, last_change: datetime | None, subject: str) -> None:
    if last_change is not None and occurred_at < last_change:
        raise EventRejected(
            f"stale event for {subject}: occurred_at {occurred_at.isoformat()} is older than "
            f"its last change at {last_change.isoformat()}"
        )
