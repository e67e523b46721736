"""The pre-session brief's composition: statuses, replies, questions, prompts (pure)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jobs.brief import (
    INTENTION_PROMPT,
    OPENING_QUESTION,
    BriefInputs,
    compose_brief,
    reader_context,
)
from jobs.composer import Composer
from jobs.state import Client, Commitment, Status
from jobs.step import StepKind

NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)  # Friday 4 December, 09:00 in Madrid
LAST_SESSION = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
MADRID = ZoneInfo("Europe/Madrid")
ANA = Client("ana", "Ana Ruiz", "ana@example.org", "Europe/Madrid")


def commitment(cid: str, due: date, **fields: Any) -> Commitment:
    base = Commitment(cid, "ana", "maria", "standard", f"step {cid}", "", due, "t" * 16)
    return replace(base, **fields)


def reply(at: datetime, intent: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"at": at.isoformat(), "kind": "reply", "intent": intent, "text": text} | extra


def brief(
    commitments: list[Commitment], history: dict[str, Any] | None = None, **kw: Any
) -> dict[str, Any]:
    inputs = BriefInputs(
        client=ANA,
        commitments=commitments,
        history=history or {},
        now=NOW,
        zone=MADRID,
        session_start=NOW + timedelta(hours=2),
        since=LAST_SESSION,
        **kw,
    )
    return compose_brief(inputs)


def statuses(result: dict[str, Any]) -> dict[str, str]:
    return {c["commitment_id"]: c["status"] for c in result["commitments"]}


def test_each_commitment_gets_its_status_since_the_last_session() -> None:
    result = brief(
        [
            commitment("ok", date(2026, 12, 10)),
            commitment("late", date(2026, 12, 1)),
            commitment("stuck", date(2026, 12, 10), blocked=True),
            commitment("silent", date(2026, 11, 20), status=Status.QUIET, unanswered=3),
            commitment(
                "done",
                date(2026, 12, 1),
                status=Status.COMPLETED,
                completed_at=NOW - timedelta(days=2),
            ),
            commitment(
                "old",
                date(2026, 11, 1),
                status=Status.COMPLETED,
                completed_at=LAST_SESSION - timedelta(days=1),
            ),
            commitment("gone", date(2026, 12, 1), status=Status.CANCELLED),
        ]
    )

    assert statuses(result) == {
        "silent": "quiet",
        "late": "overdue",
        "done": "done",
        "ok": "on_track",
        "stuck": "blocked",
    }  # done before the last session, and cancelled: left out
    late = next(c for c in result["commitments"] if c["commitment_id"] == "late")
    assert (late["overdue_days"], late["due_date"]) == (3, "Tuesday 1 December")
    done = next(c for c in result["commitments"] if c["commitment_id"] == "done")
    assert done["done_on"] == "Wednesday 2 December"


def test_a_moved_commitment_lists_its_dates_oldest_first_and_is_slipped() -> None:
    history = {
        "m": [  # newest first, as stored
            reply(NOW - timedelta(days=1), "reschedule", "Friday then", new_due="2026-12-11"),
            reply(NOW - timedelta(days=5), "reschedule", "next week", new_due="2026-12-07"),
        ]
    }
    result = brief([commitment("m", date(2026, 12, 11), renegotiations=2)], history)

    [item] = result["commitments"]
    assert (item["status"], item["moved"]) == ("on_track", 2)
    assert item["moved_to"] == ["Monday 7 December", "Friday 11 December"]
    assert result["intentions"] == [{"action": "step m", "prompt": INTENTION_PROMPT}]


def test_blocked_shows_the_clients_own_words() -> None:
    history = {"b": [reply(NOW - timedelta(days=1), "blocked", "No time this week.")]}
    result = brief([commitment("b", date(2026, 12, 10), blocked=True)], history)

    [item] = result["commitments"]
    assert item["blocked_words"] == "No time this week."
    assert INTENTION_PROMPT == "when exactly, and what will the first step be?"


def test_only_replies_since_the_last_session_are_listed_oldest_first() -> None:
    history = {
        "a": [
            reply(NOW - timedelta(days=1), "note", "Half done."),
            {"at": (NOW - timedelta(days=2)).isoformat(), "kind": "auto_reply", "text": "away"},
            reply(LAST_SESSION - timedelta(days=1), "note", "Before the session."),
        ],
        "b": [reply(NOW - timedelta(days=3), "blocked", "Stuck.")],
    }
    result = brief(
        [commitment("a", date(2026, 12, 10)), commitment("b", date(2026, 12, 10))], history
    )

    assert [(r["on"], r["action"], r["text"]) for r in result["replies"]] == [
        ("Tuesday 1 December", "step b", "Stuck."),
        ("Thursday 3 December", "step a", "Half done."),
    ]


def test_the_latest_questions_count_as_answered_only_by_a_reply_after_that_email() -> None:
    history = {"a": [reply(NOW - timedelta(days=2), "note", "Thinking about it.")]}
    questions = ["Who could help?"]
    replied = NOW - timedelta(days=2)
    cases = {replied - timedelta(days=1): True, replied: False, NOW: False, None: False}
    for sent_at, answered in cases.items():
        result = brief(
            [commitment("a", date(2026, 12, 10))],
            history,
            last_questions=questions,
            last_email_at=sent_at,
        )
        assert result["questions"] == [{"text": "Who could help?", "answered": answered}]


def test_the_opening_question_is_partnering_and_on_track_steps_get_no_prompt() -> None:
    result = brief([commitment("ok", date(2026, 12, 10))])

    assert result["opening_question"] == OPENING_QUESTION
    assert OPENING_QUESTION == "How would you like to use our time today?"
    assert result["intentions"] == []


def test_the_session_and_the_last_one_are_shown_in_the_coachs_zone() -> None:
    result = brief([])

    assert result["session"] == "Friday 4 December, 11:00"
    assert result["since"] == "Friday 27 November, 11:00"
    assert json.loads(json.dumps(result)) == result  # plain data: `coachd brief --json`


def test_a_first_session_counts_everything() -> None:
    history = {"a": [reply(datetime(2025, 1, 6, tzinfo=UTC), "note", "Long ago.")]}
    inputs = BriefInputs(ANA, [commitment("a", date(2026, 12, 10))], history, NOW, MADRID)

    result = compose_brief(inputs)

    assert (result["session"], result["since"]) == ("", "")
    assert [r["on"] for r in result["replies"]] == ["Monday 6 January 2025"]


def test_the_brief_renders_as_text_and_escaped_html_for_the_coach() -> None:
    history = {"b": [reply(NOW - timedelta(days=1), "blocked", "Stuck <b>badly</b>")]}
    result = brief([commitment("b", date(2026, 12, 1), blocked=True)], history)
    context = reader_context("Northstar Coaching", "Maria Lopez") | result

    rendered = Composer().render(StepKind.BRIEF, context)

    assert rendered.subject == "Before your session with Ana Ruiz (Friday 4 December, 11:00)"
    assert rendered.text.startswith("Hi Maria,\n\nYour session with Ana Ruiz is on")
    assert "in their words: “Stuck <b>badly</b>”\n" in rendered.text
    assert "in their words: “Stuck &lt;b&gt;badly&lt;/b&gt;”" in rendered.html
    assert "<b>badly" not in rendered.html
    assert "<p>How would you like to use our time today?</p>" in rendered.html
