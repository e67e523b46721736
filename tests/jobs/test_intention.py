"""jobs.intention and where it acts: the confirmation of a new date asks for the client's plan
when the profile says so; their next words become the plan; the brief shows it (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jobs.brief import INTENTION_PROMPT, BriefInputs, compose_brief, reader_context
from jobs.cadence import CadenceProfile
from jobs.commitment import change_commitment, record_sent
from jobs.composer import Composer
from jobs.events import CommitmentUpdated, ReplyReceived
from jobs.intention import MAX_PLAN_CHARS, asks_for_plan, plan_words, take_plan
from jobs.replyeffect import apply_reply
from jobs.state import Commitment, Status
from jobs.step import PlannedStep, StepKind
from tests.helpers.events import changed
from tests.helpers.state import ANA, commitment

ASKING = CadenceProfile(ask_plan_after_reschedule=True)
# Wednesday 2 December 2026, 11:00 in Madrid: before C1's due date, Thursday 3 December.
NOW = datetime(2026, 12, 2, 10, tzinfo=UTC)
MOVED = commitment(pending_ack=True, ack_for="due", undo="due:2026-12-03")
WAITING = commitment(plan_asked=True, sent_count=2, version=4)
PLAN = "Tuesday at 7, before work: first I open the file and write the heading."


def reply(intent: str, text: str = PLAN, **fields: Any) -> ReplyReceived:
    return ReplyReceived.model_validate(
        changed("reply.received", "r1", NOW, kind="reply", intent=intent, text=text, **fields)
    )


def ack(at: datetime = NOW) -> PlannedStep:
    return PlannedStep("ack", StepKind.ACK, at, at.astimezone(ZoneInfo("Europe/Madrid")))


@pytest.mark.parametrize(
    ("profile", "pending", "expected"),
    [
        (ASKING, MOVED, True),
        (CadenceProfile(), MOVED, False),  # the key is off by default
        (ASKING, replace(MOVED, ack_for=""), True),  # a new date's confirmation, as v0.2 kept it
        (ASKING, replace(MOVED, ack_for="done"), False),
        (ASKING, replace(MOVED, ack_for="cadence"), False),
        (ASKING, replace(MOVED, plan="Monday at 9"), False),  # given already: not asked again
        (ASKING, replace(MOVED, pending_ack=False), False),
    ],
)
def test_only_the_confirmation_of_a_new_date_asks_for_the_plan_and_only_when_the_profile_says(
    profile: CadenceProfile, pending: Commitment, expected: bool
) -> None:
    assert asks_for_plan(pending, profile) is expected


def test_the_confirmation_that_asked_waits_for_the_next_reply_and_the_next_email_ends_it() -> None:
    sent = record_sent(MOVED, ANA, ASKING, ack(), now=NOW, asked_plan=True).commitment
    assert (sent.plan_asked, sent.pending_ack) == (True, False)

    reminder = PlannedStep("reminder-2d", StepKind.REMINDER, NOW + timedelta(days=1), NOW)
    assert not record_sent(sent, ANA, ASKING, reminder, now=NOW).commitment.plan_asked
    refused = record_sent(sent, ANA, ASKING, reminder, now=NOW, reached=False).commitment
    assert refused.plan_asked  # an email that did not reach them asked nothing else


@pytest.mark.parametrize("intent", ["note", "reschedule"])
def test_the_next_words_after_the_question_are_the_plan(intent: str) -> None:
    new_due = {"new_due": "2026-12-08"} if intent == "reschedule" else {}
    after = apply_reply(reply(intent, **new_due), WAITING, ANA, ASKING).commitment
    assert (after.plan, after.plan_asked) == (PLAN, False)


def test_a_move_not_asked_about_clears_the_old_plan_so_the_confirmation_asks_again() -> None:
    planned = replace(commitment(), plan="Monday at 9")
    after = apply_reply(reply("reschedule", new_due="2026-12-10"), planned, ANA, ASKING).commitment
    assert (after.plan, after.due_date) == ("", date(2026, 12, 10))
    assert asks_for_plan(after, ASKING)


@pytest.mark.parametrize(
    ("intent", "before", "text"),
    [
        ("blocked", WAITING, PLAN),  # answers something else
        ("done", WAITING, PLAN),
        ("note", commitment(), PLAN),  # nothing was asked
        ("note", WAITING, "   "),  # no words
        ("note", replace(WAITING, status=Status.COMPLETED), PLAN),  # a closed step
    ],
)
def test_other_replies_are_no_plan_and_end_the_waiting(
    intent: str, before: Commitment, text: str
) -> None:
    after = take_plan(before, replace(before, blocked=intent == "blocked"), reply(intent, text))
    assert (after.plan, after.plan_asked) == ("", False)


def test_a_new_date_from_the_coach_is_a_new_agreement_and_clears_the_plan() -> None:
    planned = commitment(plan="Monday at 9", plan_asked=True)
    event = CommitmentUpdated.model_validate(
        changed("commitment.updated", "u1", NOW, due_date="2026-12-10")
    )
    after = change_commitment(event, planned, ANA, ASKING, NOW).commitment
    assert (after.plan, after.plan_asked) == ("", False)


def test_the_plan_is_one_line_cut_at_a_word() -> None:
    assert plan_words("  Monday\n at 9,\tthe outline  ") == "Monday at 9, the outline"
    long = plan_words("word " * 100)
    assert (len(long) <= MAX_PLAN_CHARS, long.endswith("word…")) == (True, True)


def test_the_plan_is_stored_and_read_back() -> None:
    planned = commitment(plan=PLAN, plan_asked=True)
    assert Commitment.from_record("c1", planned.to_record()) == planned
    assert "plan" not in {k for k, v in commitment().to_record().items() if v}


# The question in each language, and the word of the undo hint that follows it.
WORDS = {
    "en": ("If it helps: when exactly will you start, and what will the first step be?", "undo"),
    "de": ("Wann genau fängst du an, und was wird der erste Schritt sein?", "rückgängig"),
    "fr": ("quand exactement allez-vous commencer, et quelle sera la première étape ?", "annuler"),
    "es": ("¿cuándo exactamente vas a empezar y cuál será el primer paso?", "deshacer"),
    "pt": ("quando exatamente você vai começar, e qual será o primeiro passo?", "desfazer"),
}


@pytest.mark.parametrize(("lang", "question", "undo"), [(k, *v) for k, v in sorted(WORDS.items())])
def test_the_confirmation_asks_in_the_clients_language_in_both_parts(
    lang: str, question: str, undo: str
) -> None:
    context = {
        "firm_name": "Northstar Coaching",
        "coach_name": "Maria Lopez",
        "client_name": "Ana",
        "action": "draft the first page",
        "due_date": "Friday 4 December",
        "pause_until": "",
        "understood": "due",
        "lang": lang,
    }
    asked = Composer().render(StepKind.ACK, context | {"ask_plan": True})
    plain = Composer().render(StepKind.ACK, context | {"ask_plan": False})
    assert (question in asked.text, question in asked.html) == (True, True)
    assert question not in plain.text
    assert asked.text.index(question) < asked.text.index(undo)  # then how to undo the date


def test_the_brief_shows_the_plan_in_the_clients_words_instead_of_the_prompt() -> None:
    moved = commitment(due_date=date(2026, 12, 10), renegotiations=1, plan=PLAN)
    other = commitment(commitment_id="c2", action="call the funder", renegotiations=1)
    inputs = BriefInputs(ANA, [moved, other], {}, NOW, ZoneInfo("Europe/Madrid"))

    brief = compose_brief(inputs)
    text = Composer().render(StepKind.BRIEF, reader_context("Northstar", "Maria Lopez") | brief)

    assert [c["plan"] for c in brief["commitments"]] == ["", PLAN]  # by due date
    assert brief["intentions"] == [{"action": "call the funder", "prompt": INTENTION_PROMPT}]
    assert f"\n    plan: “{PLAN}”\n" in text.text
    assert text.text.startswith("Hi Maria,\n")
