"""How a reply, auto-reply or bounce changes a commitment and its client (pure)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from jobs.cadence import CadenceProfile
from jobs.clientcadence import CadenceRequest, clamp
from jobs.events import ReplyReceived
from jobs.intention import take_plan
from jobs.planner import plan_commitment
from jobs.state import Client, Commitment, Status


@dataclass(frozen=True, slots=True)
class ReplyOutcome:
    """What a reply changes: the commitment, the client, and what the coach must hear now."""

    commitment: Commitment
    client: Client
    notice: str | None  # a headline for an immediate coach notice, e.g. "is blocked"


# Replies the coach hears about at once; the rest wait for the daily digest.
NOTICE_BLOCKED = "says something is in the way"
NOTICE_MAYBE_BLOCKED = "may be stuck: their reply is worth a look"
NOTICE_STOP = "asked to stop the emails"
NOTICE_MAYBE_STOP = "may have asked to stop the emails: paused until you confirm"
NOTICE_COMPLAINT = "marked an email as spam: emails to them are stopped"
NOTICE_BOUNCE = "cannot be reached: emails to them bounce"
NOTICE_REFUSED = "is not getting the emails: their mail server keeps refusing them"
# A refused email (policy, spam filter, full mailbox) is no proof the address is gone; this
# many in a row and the coach hears of it (again at each further multiple).
REFUSALS_BEFORE_NOTICE = 3
NOTICE_UNDO = "says coachd misread their last reply: please check it with them"
NOTICE_UNDONE = "said coachd misread their last reply, so that change was undone"
NOTICE_UNKNOWN_ADDRESS = "has a reply from an unknown address (nothing was changed)"
# Below this a reading is a guess: coachd takes the path that cannot hurt the client. A
# possible stop pauses every email and asks the coach; a possible done or new date changes
# nothing (the reply still reaches the coach); a possible blocked tells the coach at once.
CONFIDENT = 0.7
# The confirmation of a cadence request the profile kept only part of.
CADENCE_PARTLY = "cadence_partly"
NOTICES_PER_DAY = 3
UNSURE_STOP_PAUSE_DAYS = 14
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def apply_reply(
    event: ReplyReceived, commitment: Commitment, client: Client, profile: CadenceProfile
) -> ReplyOutcome:
    """A reply, auto-reply or bounce, read and matched: how state changes because of it."""
    if event.from_unknown_address:  # anyone can write to a reply address: the coach decides
        outcome = ReplyOutcome(commitment, client, NOTICE_UNKNOWN_ADDRESS)
    else:
        outcome = _apply(event, commitment, client, profile)
    if outcome.notice is None:
        return outcome
    return _counted_notice(outcome, event.occurred_at.astimezone(client.zone).date().isoformat())


def _counted_notice(outcome: ReplyOutcome, day: str) -> ReplyOutcome:
    """At most NOTICES_PER_DAY immediate coach notices a client's day: a responder that
    answers every email must not flood the coach (the replies still reach the digest)."""
    client = outcome.client
    count = client.notices + 1 if client.notice_day == day else 1
    counted = replace(client, notice_day=day, notices=count)
    return replace(
        outcome, client=counted, notice=outcome.notice if count <= NOTICES_PER_DAY else None
    )


def _apply(
    event: ReplyReceived, commitment: Commitment, client: Client, profile: CadenceProfile
) -> ReplyOutcome:
    if event.kind == "bounce":
        return _bounced(event, commitment, client)
    if event.kind == "auto_reply":  # never an answer, never answered
        paused = replace(client, paused_until=event.pause_until or client.paused_until)
        return ReplyOutcome(commitment, paused, None)
    client = replace(client, language=event.language or client.language)
    outcome = _replied(event, commitment, client, profile)
    # The client's next words after a confirmation that asked for their plan (jobs.intention).
    return replace(outcome, commitment=take_plan(commitment, outcome.commitment, event))


def _replied(
    event: ReplyReceived, commitment: Commitment, client: Client, profile: CadenceProfile
) -> ReplyOutcome:
    """A reply in the client's own words: undo, pause, cadence, then what they intend."""
    if event.intent == "undo" and event.confidence >= CONFIDENT and commitment.undo:
        return _undo(commitment, client)
    if event.pause_until is not None:
        commitment = _confirming(commitment, "pause", undo=f"pause:{_iso(client.paused_until)}")
        client = replace(client, paused_until=event.pause_until)
    if event.cadence is not None:
        commitment, client = _own_cadence(event.cadence, commitment, client, profile)
    client = replace(client, refusals=0)  # their mail gets through
    answered = replace(
        commitment,
        replies=commitment.replies + 1,
        unanswered=0,
        last_sent=_caught_up(commitment, client, profile, event.occurred_at),
        status=Status.ACTIVE if commitment.status is Status.QUIET else commitment.status,
    )
    if answered.status is not Status.ACTIVE:
        return ReplyOutcome(answered, client, None)  # a note on a closed step: kept, no change
    if event.confidence < CONFIDENT:
        return _act_when_unsure(event, answered, client)
    return _act_on_intent(event, answered, client)


def _bounced(event: ReplyReceived, commitment: Commitment, client: Client) -> ReplyOutcome:
    """A complaint stops the emails; a gone address stops them until it changes; a refused
    message (policy, full mailbox) changes nothing: the address still works."""
    gone = event.bounce_class == "gone" or (event.bounce_class is None and event.bounce_permanent)
    if event.bounce_class == "complaint":
        return ReplyOutcome(commitment, replace(client, opted_out=True), NOTICE_COMPLAINT)
    if gone:
        return ReplyOutcome(commitment, replace(client, email_failing=True), NOTICE_BOUNCE)
    refused = replace(client, refusals=client.refusals + 1)
    persists = refused.refusals % REFUSALS_BEFORE_NOTICE == 0
    return ReplyOutcome(commitment, refused, NOTICE_REFUSED if persists else None)


def _act_on_intent(event: ReplyReceived, commitment: Commitment, client: Client) -> ReplyOutcome:
    if event.intent == "done":
        done = replace(
            _confirming(commitment, "done", undo="done"),
            status=Status.COMPLETED,
            completed_at=event.occurred_at,
            blocked=False,
        )
        return ReplyOutcome(done, client, None)
    if event.intent == "reschedule" and event.new_due is not None:
        moved = replace(
            _confirming(commitment, "due", undo=f"due:{commitment.due_date.isoformat()}"),
            due_date=event.new_due,
            plan_gen=commitment.plan_gen + 1,
            last_sent="",
            renegotiations=commitment.renegotiations + 1,
            blocked=False,
            plan="",  # a new date, a new plan: the confirmation may ask for it
        )
        return ReplyOutcome(moved, client, None)
    if event.intent == "blocked":
        return ReplyOutcome(replace(commitment, blocked=True), client, NOTICE_BLOCKED)
    if event.intent == "stop":
        stopped = _confirming(commitment, "stop", undo="stop")
        return ReplyOutcome(stopped, replace(client, opted_out=True), NOTICE_STOP)
    if event.intent == "undo":  # reverting is the coach's call: they hear it at once
        return ReplyOutcome(commitment, client, NOTICE_UNDO)
    return ReplyOutcome(replace(commitment, blocked=False), client, None)


def _act_when_unsure(event: ReplyReceived, commitment: Commitment, client: Client) -> ReplyOutcome:
    if event.intent == "stop":
        until = event.occurred_at.date() + timedelta(days=UNSURE_STOP_PAUSE_DAYS)
        paused = replace(client, paused_until=max(until, client.paused_until or until))
        return ReplyOutcome(commitment, paused, NOTICE_MAYBE_STOP)
    if event.intent in ("blocked", "undo"):
        return ReplyOutcome(commitment, client, NOTICE_MAYBE_BLOCKED)
    return ReplyOutcome(commitment, client, None)  # a possible done or new date: the coach reads it


def _undo(commitment: Commitment, client: Client) -> ReplyOutcome:
    """Put back what the last consequential reply changed; the coach hears of it at once."""
    what, _, previous = commitment.undo.partition(":")
    # Counted as a reply: its confirmation is then an email of its own (named by the count).
    counted = replace(commitment, replies=commitment.replies + 1, unanswered=0)
    restored = _confirming(counted, "undo", undo="")
    if what == "done":
        restored = replace(restored, status=Status.ACTIVE, completed_at=None)
    elif what == "due" and previous:
        restored = replace(
            restored,
            due_date=date.fromisoformat(previous),
            plan_gen=commitment.plan_gen + 1,
            last_sent="",
            renegotiations=max(commitment.renegotiations - 1, 0),
        )
    elif what == "stop":
        client = replace(client, opted_out=False)
    elif what == "pause":
        client = replace(client, paused_until=date.fromisoformat(previous) if previous else None)
    elif what == "cadence":
        client = replace(client, cadence=previous)
        restored = replace(restored, plan_gen=commitment.plan_gen + 1)
    return ReplyOutcome(restored, client, NOTICE_UNDONE)


def _own_cadence(
    asked: CadenceRequest, commitment: Commitment, client: Client, profile: CadenceProfile
) -> tuple[Commitment, Client]:
    """The client's cadence request, kept within the profile's limits, on top of any earlier
    one; confirmed back ("partly" when the profile kept some of it as it was)."""
    kept = clamp(asked, profile)
    if kept.request.is_empty():  # nothing they may change: the coach reads it in the digest
        return commitment, client
    merged = CadenceRequest.from_text(client.cadence).merged(kept.request).to_text()
    what = CADENCE_PARTLY if kept.notes else "cadence"
    confirming = _confirming(commitment, what, undo=f"cadence:{client.cadence}")
    # A new plan (steps keep their names, sent ones stay sent): and a second confirmation
    # (of a later change, or of its undo) is a new email, not a repeat of the first one.
    return replace(confirming, plan_gen=commitment.plan_gen + 1), replace(client, cadence=merged)


def _confirming(commitment: Commitment, what: str, *, undo: str) -> Commitment:
    """The commitment with one confirmation to the client pending (what coachd understood,
    and how to undo it), replacing any earlier one not yet sent."""
    return replace(commitment, pending_ack=True, ack_for=what, undo=undo)


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def _caught_up(
    commitment: Commitment, client: Client, profile: CadenceProfile, now: datetime
) -> str:
    """The latest step already due: after a reply, prompts resume with the next one, not a
    catch-up of what the client has just answered."""
    timeline = plan_commitment(profile, commitment.due_date, client.zone, _EPOCH)
    passed = [step.name for step in timeline if step.fire_at <= now]
    return passed[-1] if passed else commitment.last_sent
