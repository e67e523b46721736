"""Whether an operator may send a failed step's email again, and the state that does it.

A retry schedules the very step again, due now, through the normal send path: the send
ledger's claim still makes it one email at most. It is refused when sending it now would
be wrong for the client (the plan moved on, a later email went out, they opted out) and,
without `force`, when the first email may have arrived (`unknown`): a blind resend could
be a duplicate, which coachd's policy ranks worse than a missed email.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from jobs.commitment import Transition
from jobs.state import Client, Commitment, Status
from jobs.step import StepKind, step_from_name

FAILED = "failed"
UNKNOWN = "unknown"
UNKNOWN_NEEDS_FORCE = (
    "its outcome is unknown: the connection broke after the message was sent, so the client "
    "may have it; check the mail server's log for it, then retry with --force if it never left"
)
# The commitment status in which each kind of step still makes sense.
_NEEDS_STATUS = {
    StepKind.REMINDER: Status.ACTIVE,
    StepKind.OVERDUE: Status.ACTIVE,
    StepKind.BLOCKED: Status.ACTIVE,
    StepKind.REFLECTION: Status.COMPLETED,
    StepKind.COACH_QUIET: Status.QUIET,
}
_LEDGER_SAYS = {
    "sent": "it has been sent since",
    "claimed": "it is being sent right now",
    "committing": "it is being sent right now",
}


def retry_refusal(
    step_name: str,
    plan_gen: int,
    ledger_outcome: str | None,
    found: tuple[Commitment, Client] | None,
    now: datetime,
    *,
    force: bool = False,
) -> str | None:
    """Why the step may not be sent again now, or None when it may."""
    if ledger_outcome is None:
        return "the send ledger no longer holds it (it keeps an outcome 14 days)"
    if ledger_outcome in _LEDGER_SAYS:
        return _LEDGER_SAYS[ledger_outcome]
    if ledger_outcome == UNKNOWN and not force:
        return UNKNOWN_NEEDS_FORCE
    if ledger_outcome not in (FAILED, UNKNOWN):
        return f"the send ledger says {ledger_outcome!r}"
    if found is None:
        return "its commitment or client is gone (erased?)"
    return _state_refusal(step_name, plan_gen, *found, now)


def _state_refusal(
    step_name: str, plan_gen: int, commitment: Commitment, client: Client, now: datetime
) -> str | None:
    try:
        kind = step_from_name(step_name, now, now).kind
    except ValueError:
        return f"{step_name!r} is no step coachd knows"
    needed = _NEEDS_STATUS.get(kind, commitment.status)
    past_due = now.astimezone(client.zone).date() > commitment.due_date
    checks = (
        (
            commitment.plan_gen != plan_gen,
            "its commitment was planned again since (a new due date): that plan's emails follow",
        ),
        (
            commitment.last_sent != step_name,
            f"a later step ({commitment.last_sent or 'none'}) has been sent or tried since",
        ),
        (
            client.email_failing,
            "emails to this client stopped after a hard bounce; a new address resumes them",
        ),
        (client.opted_out and kind is not StepKind.ACK, "the client has opted out"),
        (commitment.status is not needed, f"the commitment is {commitment.status.value} now"),
        (
            kind is StepKind.REMINDER and past_due,
            "its due date has passed: the overdue prompts follow as planned",
        ),
    )
    return next((why for refused, why in checks if refused), None)


def retried(commitment: Commitment, client: Client, step_name: str, now: datetime) -> Transition:
    """The commitment with `step_name` scheduled again, due `now` (its send window and the
    client's daily cap still apply when it fires); the step it had scheduled is superseded
    and planned again once this one is settled."""
    step = step_from_name(step_name, now, now.astimezone(client.zone))
    again = replace(commitment, version=commitment.version + 1, next_step=step_name, next_at=now)
    return Transition(again, commitment.version, step)
