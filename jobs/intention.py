"""The implementation intention a profile may ask for after a reschedule (pure): when the
confirmation of a new date asks "when exactly, and what will the first step be?", and which
of the client's next words become the commitment's plan, shown to the coach in the brief.

A plan with a day, a time and a first step is the one that gets done (Milkman et al., PNAS
2011); asking for it is an invitation, never an assignment (COACHING.md: enrolling), so the
question rides in the one confirmation coachd sends anyway: no email more, and the answer
gets none back.
"""

from __future__ import annotations

from dataclasses import replace

from jobs.cadence import CadenceProfile
from jobs.events import ReplyReceived
from jobs.state import Commitment, Status

# A plan is a line or two; the brief is one screen. Longer words are cut at a word.
MAX_PLAN_CHARS = 300
ELLIPSIS = "…"
# What the client's answer to the question may be read as. A plan names a day and often a
# time ("Thursday at 8, the outline first"), which the reader may take for a new date: then
# the date moves as they said, and their words are still the plan. A done, blocked, stop or
# undo answers something else.
PLAN_INTENTS = frozenset({"note", "reschedule"})
# The confirmation of a new date (ack_for "due"; empty as v0.2 wrote it).
NEW_DATE_ACKS = frozenset({"due", ""})


def asks_for_plan(commitment: Commitment, profile: CadenceProfile) -> bool:
    """Whether the confirmation pending for `commitment` asks for the plan: the profile says
    so, it confirms a new date, and the client has not already given one for it."""
    return (
        profile.ask_plan_after_reschedule
        and commitment.pending_ack
        and commitment.ack_for in NEW_DATE_ACKS
        and not commitment.plan
    )


def take_plan(asked: Commitment, after: Commitment, event: ReplyReceived) -> Commitment:
    """`after` (the commitment as the reply left it) with the reply's words as its plan, when
    `asked` (as it was before the reply) was waiting for one; any reply ends the waiting."""
    after = replace(after, plan_asked=False)
    if (
        not asked.plan_asked
        or event.intent not in PLAN_INTENTS
        or after.status is not Status.ACTIVE
    ):
        return after
    words = plan_words(event.text)
    return replace(after, plan=words) if words else after


def plan_words(text: str) -> str:
    """The client's words on one line, cut to MAX_PLAN_CHARS at a word boundary."""
    line = " ".join(text.split())
    if len(line) <= MAX_PLAN_CHARS:
        return line
    cut = line[: MAX_PLAN_CHARS - len(ELLIPSIS)]
    head, space, _ = cut.rpartition(" ")
    return (head if space else cut).rstrip(" ,;:") + ELLIPSIS
