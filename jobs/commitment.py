"""Commitment and client state, and the pure transitions that events and sent steps cause."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from jobs.cadence import CadenceProfile
from jobs.events import (
    ClientUpdated,
    CommitmentCancelled,
    CommitmentCompleted,
    CommitmentCreated,
    CommitmentEvent,
    CommitmentUpdated,
    EventRejected,
)
from jobs.planner import coach_notice_step, plan_commitment, plan_reflection
from jobs.step import PlannedStep, StepKind, step_from_name

COACH_QUIET_STEP = "coach-quiet"
REFLECTION_STEP = "reflection"


class Status(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    QUIET = "quiet"  # stopped prompting after unanswered prompts; the coach was told


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    name: str
    email: str
    timezone: str
    opted_out: bool = False
    last_question: str = ""  # never ask the same question twice in a row
    updated_at: datetime | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def to_record(self) -> dict[str, str]:
        return {
            "client_id": self.client_id,
            "name": self.name,
            "email": self.email,
            "timezone": self.timezone,
            "opted_out": "1" if self.opted_out else "0",
            "last_question": self.last_question,
            "updated_at": _iso(self.updated_at),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, str]) -> Client:
        return cls(
            client_id=record["client_id"],
            name=record["name"],
            email=record["email"],
            timezone=record["timezone"],
            opted_out=record.get("opted_out") == "1",
            last_question=record.get("last_question", ""),
            updated_at=_parse_dt(record.get("updated_at", "")),
        )


@dataclass(frozen=True, slots=True)
class Commitment:
    """Everything coachd keeps about one commitment; `version` grows with every change."""

    commitment_id: str
    client_id: str
    coach_id: str
    profile: str
    action: str
    why: str
    due_date: date
    thread: str  # opaque per-commitment key used in Message-IDs and reply tokens
    status: Status = Status.ACTIVE
    version: int = 1
    updated_at: datetime | None = None
    plan_gen: int = 1  # grows when the due date moves: a new plan, with steps sent afresh
    last_sent: str = ""
    next_step: str = ""
    next_at: datetime | None = None
    sent_count: int = 0  # emails sent in this thread; numbers the next Message-ID
    unanswered: int = 0
    last_error: str = ""
    completed_at: datetime | None = None

    def to_record(self) -> dict[str, str]:
        return {
            "commitment_id": self.commitment_id,
            "client_id": self.client_id,
            "coach_id": self.coach_id,
            "profile": self.profile,
            "action": self.action,
            "why": self.why,
            "due_date": self.due_date.isoformat(),
            "thread": self.thread,
            "status": self.status.value,
            "version": str(self.version),
            "updated_at": _iso(self.updated_at),
            "plan_gen": str(self.plan_gen),
            "last_sent": self.last_sent,
            "next_step": self.next_step,
            "next_at": _iso(self.next_at),
            "sent_count": str(self.sent_count),
            "unanswered": str(self.unanswered),
            "last_error": self.last_error,
            "completed_at": _iso(self.completed_at),
        }

    @classmethod
    def from_record(cls, r: Mapping[str, str]) -> Commitment:
        return cls(
            commitment_id=r["commitment_id"],
            client_id=r["client_id"],
            coach_id=r["coach_id"],
            profile=r["profile"],
            action=r["action"],
            why=r.get("why", ""),
            due_date=date.fromisoformat(r["due_date"]),
            thread=r["thread"],
            status=Status(r["status"]),
            version=int(r["version"]),
            updated_at=_parse_dt(r.get("updated_at", "")),
            plan_gen=int(r.get("plan_gen", "1")),
            last_sent=r.get("last_sent", ""),
            next_step=r.get("next_step", ""),
            next_at=_parse_dt(r.get("next_at", "")),
            sent_count=int(r.get("sent_count", "0")),
            unanswered=int(r.get("unanswered", "0")),
            last_error=r.get("last_error", ""),
            completed_at=_parse_dt(r.get("completed_at", "")),
        )


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
    """The one step that should be scheduled next for this commitment, or None."""
    if client.opted_out:
        return None
    zone = client.zone
    if commitment.status is Status.COMPLETED:
        if commitment.last_sent == REFLECTION_STEP or commitment.completed_at is None:
            return None
        return plan_reflection(profile, commitment.completed_at, zone)
    if commitment.status is not Status.ACTIVE:
        return None
    if commitment.unanswered >= profile.stop_after_unanswered:
        return coach_notice_step(profile, now, zone)
    steps = plan_commitment(
        profile, commitment.due_date, zone, now, last_sent=commitment.last_sent or None
    )
    return steps[0] if steps else None


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
    _reject_stale(event.occurred_at, current.updated_at, current.commitment_id)
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
        _reject_stale(event.occurred_at, current.updated_at, event.client_id)
    return replace(
        current,
        name=event.name if event.name is not None else current.name,
        email=event.email if event.email is not None else current.email,
        timezone=event.timezone if event.timezone is not None else current.timezone,
        opted_out=event.opted_out if event.opted_out is not None else current.opted_out,
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
) -> Transition:
    """State after a step's email went out (or failed for good): move on to the next step."""
    status = commitment.status
    if step.kind is StepKind.COACH_QUIET:
        status = Status.QUIET
    sent = replace(
        commitment,
        status=status,
        last_sent=step.name,
        sent_count=commitment.sent_count + (0 if step.kind is StepKind.COACH_QUIET else 1),
        unanswered=commitment.unanswered + (1 if step.kind is StepKind.OVERDUE else 0),
        last_error=error or commitment.last_error,
    )
    return replan(sent, client, profile, now)


def _reject_stale(occurred_at: datetime, last_change: datetime | None, subject: str) -> None:
    if last_change is not None and occurred_at < last_change:
        raise EventRejected(
            f"stale event for {subject}: occurred_at {occurred_at.isoformat()} is older than "
            f"its last change at {last_change.isoformat()}"
        )


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def _parse_dt(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
