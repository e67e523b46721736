"""The coach's pre-session brief, composed from what coachd keeps about a client (pure).

Written for the coach: where each open commitment stands since the last session, the
client's replies in their own words, the questions asked and whether an answer came, one
partnering opening question, and for each slipped commitment an implementation-intention
prompt (a plan with a date, a time and a first step is the one that gets done), and the
plan the client gave when a confirmation asked for it (jobs.intention).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from jobs.daynames import day_name, due_name
from jobs.state import Client, Commitment, Status, first_name

# Partnering first (COACHING.md): the client decides what the session is for.
OPENING_QUESTION = "How would you like to use our time today?"
INTENTION_PROMPT = "when exactly, and what will the first step be?"
DONE, ON_TRACK, OVERDUE, BLOCKED, QUIET = "done", "on_track", "overdue", "blocked", "quiet"
SLIPPED = (OVERDUE, BLOCKED, QUIET)
History = Mapping[str, Sequence[Mapping[str, Any]]]  # commitment id -> replies, newest first


@dataclass(frozen=True, slots=True)
class BriefInputs:
    """What a brief is made of; `since` None: the client's first session (everything counts)."""

    client: Client
    commitments: Sequence[Commitment]
    history: History
    now: datetime
    zone: ZoneInfo  # the coach's: session times are shown in it
    session_start: datetime | None = None  # None: asked for on demand (`coachd brief`)
    since: datetime | None = None
    # The texts of the questions the client's latest email asked (jobs.questions ids, resolved),
    # and when that email went: a reply since then answered them.
    last_questions: Sequence[str] = field(default_factory=tuple)
    last_email_at: datetime | None = None


def reader_context(firm_name: str, coach_name: str) -> dict[str, str]:
    """What the brief's template knows of its reader: a note to a colleague greets them by
    their first name ("Hi Maria,"), as the client's emails greet the client."""
    return {
        "firm_name": firm_name,
        "coach_name": coach_name,
        "coach_first_name": first_name(coach_name),
    }


def compose_brief(inputs: BriefInputs) -> dict[str, Any]:
    """The brief as plain data: the template's context and `coachd brief --json`'s output."""
    today = inputs.now.astimezone(inputs.client.zone).date()
    items = [
        item
        for c in sorted(inputs.commitments, key=lambda c: (c.due_date, c.commitment_id))
        if (item := _commitment_item(c, inputs, today)) is not None
    ]
    answered = _answered_since(inputs.history, inputs.last_email_at)
    name = inputs.client.name
    return {
        "client_name": name,
        "session": _moment_text(inputs.session_start, inputs.zone, today),
        "since": _moment_text(inputs.since, inputs.zone, today),
        "commitments": items,
        "replies": _replies(inputs, today),
        "questions": [{"text": q, "answered": answered} for q in inputs.last_questions],
        "opening_question": OPENING_QUESTION,
        # A step the client already gave their plan for shows that plan instead.
        "intentions": [
            {"action": i["action"], "prompt": INTENTION_PROMPT}
            for i in items
            if i["slipped"] and not i["plan"]
        ],
    }


def _commitment_item(c: Commitment, inputs: BriefInputs, today: date) -> dict[str, Any] | None:
    if c.status is Status.CANCELLED:
        return None
    if c.status is Status.COMPLETED:
        done_at = c.completed_at
        if done_at is None or (inputs.since is not None and done_at < inputs.since):
            return None  # done before the last session: that session talked about it
    entries = inputs.history.get(c.commitment_id, ())
    status = _status(c, today)
    moved_to = [
        due_name(date.fromisoformat(e["new_due"]), today)
        for e in reversed(entries)  # oldest first
        if e.get("intent") == "reschedule" and e.get("new_due")
    ]
    blocked_words = next((e.get("text", "") for e in entries if e.get("intent") == "blocked"), "")
    return {
        "commitment_id": c.commitment_id,
        "action": c.action,
        "why": c.why,
        "status": status,
        "due_date": due_name(c.due_date, today),
        "overdue_days": max((today - c.due_date).days, 0) if status != DONE else 0,
        "done_on": day_name(c.completed_at.astimezone(inputs.client.zone).date())
        if status == DONE and c.completed_at
        else "",
        "moved": c.renegotiations,
        "moved_to": moved_to,
        "blocked_words": blocked_words if status == BLOCKED else "",
        # When exactly and the first step, in the client's words (jobs.intention).
        "plan": c.plan if status != DONE else "",
        "unanswered": c.unanswered if status != DONE else 0,
        "slipped": status in SLIPPED or (status != DONE and c.renegotiations > 0),
    }


def _answered_since(history: History, moment: datetime | None) -> bool:
    """Whether the client replied (about any step) after the latest email went. Strictly
    after: the answer to a reply goes the moment it comes, and does not answer itself."""
    return moment is not None and any(
        e.get("kind") == "reply" and datetime.fromisoformat(e["at"]) > moment
        for entries in history.values()
        for e in entries
    )


def _status(c: Commitment, today: date) -> str:
    if c.status is Status.COMPLETED:
        return DONE
    if c.blocked:
        return BLOCKED
    if c.status is Status.QUIET:
        return QUIET
    return OVERDUE if c.due_date < today else ON_TRACK


def _replies(inputs: BriefInputs, today: date) -> list[dict[str, str]]:
    """The client's replies since the last session, oldest first, in their own words."""
    actions = {c.commitment_id: c.action for c in inputs.commitments}
    found = []
    for commitment_id, entries in inputs.history.items():
        for e in entries:
            at = datetime.fromisoformat(e["at"])
            if e.get("kind") != "reply" or (inputs.since is not None and at < inputs.since):
                continue
            found.append((at, actions.get(commitment_id, ""), e))
    return [
        {
            "on": day_name(
                at.astimezone(inputs.client.zone).date(), with_year=at.year != today.year
            ),
            "action": action,
            "intent": str(e.get("intent") or ""),
            "text": str(e.get("text") or ""),
        }
        for at, action, e in sorted(found, key=lambda f: f[0])
    ]


def _moment_text(moment: datetime | None, zone: ZoneInfo, today: date) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    return f"{day_name(local.date(), with_year=local.year != today.year)}, {local:%H:%M}"
