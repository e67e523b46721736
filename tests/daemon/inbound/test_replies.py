"""Replies change the plan and reach the coach: reply events applied on real Redis and SMTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from daemon.outbound.coachmail import schedule_all_digests
from daemon.store import keys
from tests.helpers.events import changed, created
from tests.helpers.firm import START
from tests.helpers.loop import Loop

pytestmark = pytest.mark.integration

COACH = "maria@northstar.example"
CLIENT = "ana@example.org"
REMINDER_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # Tuesday 09:00 Madrid
OVERDUE_1_AT = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)  # Friday 09:00 Madrid
OVERDUE_4_AT = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # Monday 09:00 Madrid


def reply(event_id: str, at: datetime, kind: str = "reply", **fields: Any) -> dict[str, Any]:
    return changed("reply.received", event_id, at, kind=kind, source="smtp", **fields)


def text_of(loop: Loop, index: int) -> str:
    body = loop.messages[index].message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


async def started(loop: Loop, *until: datetime) -> None:
    await loop.emit(created())
    await loop.consume()
    for moment in until:
        await loop.advance(moment)


async def test_done_completes_the_commitment_and_brings_the_reflection(loop: Loop) -> None:
    await started(loop, REMINDER_AT)
    done_at = REMINDER_AT + timedelta(hours=1)
    await loop.emit(reply("r1", done_at, intent="done", text="Done! Sent it this morning."))
    await loop.consume()
    await loop.advance(OVERDUE_4_AT)

    # The reminder, the confirmation of what coachd understood, then the reflection.
    assert [m.rcpt_tos[0] for m in loop.messages] == [CLIENT, CLIENT, CLIENT]
    assert "Got it: done." in text_of(loop, 1)
    assert "reply “undo”" in text_of(loop, 1)
    assert "learn" in text_of(loop, 2).lower()
    state = await loop.commitment()
    assert (state["status"], state["replies"]) == ("completed", "1")
    history = [json.loads(h) for h in await loop.redis.lrange(keys.history("c1"), 0, -1)]
    assert [(h["intent"], h["text"]) for h in history] == [("done", "Done! Sent it this morning.")]


async def test_a_new_date_is_confirmed_counted_and_replanned(loop: Loop) -> None:
    await started(loop, REMINDER_AT, OVERDUE_1_AT)
    asked_at = OVERDUE_1_AT + timedelta(hours=2)  # Friday 11:00 Madrid, inside the window
    await loop.emit(
        reply(
            "r1",
            asked_at,
            intent="reschedule",
            new_due="2026-12-10",
            text="Can we say next Thursday?",
        )
    )
    await loop.consume()
    await loop.advance(asked_at)

    ack = loop.messages[2]
    assert "Thursday 10 December" in text_of(loop, 2)
    assert ack.message["In-Reply-To"] == loop.messages[1].message["Message-ID"]
    state = await loop.commitment()
    assert (state["due_date"], state["renegotiations"], state.get("unanswered", "0")) == (
        "2026-12-10",
        "1",
        "0",
    )
    await loop.advance(datetime(2026, 12, 8, 8, 0, tzinfo=UTC))  # 2 days before the new date
    assert len(loop.messages) == 4
    assert "Thursday 10 December" in text_of(loop, 3)


async def test_blocked_pauses_the_ladder_asks_what_would_help_and_tells_the_coach_now(
    loop: Loop,
) -> None:
    await started(loop, REMINDER_AT, OVERDUE_1_AT)
    said_at = OVERDUE_1_AT + timedelta(hours=1)
    await loop.emit(reply("r1", said_at, intent="blocked", text="I'm stuck, no time at all."))
    await loop.consume()
    await loop.advance(said_at)
    await loop.advance(OVERDUE_4_AT + timedelta(days=20))

    recipients = [m.rcpt_tos[0] for m in loop.messages]
    assert sorted(recipients[2:]) == sorted([CLIENT, COACH])  # the answer and the notice
    notice = next(m for m in loop.messages if m.rcpt_tos == [COACH])
    assert notice.message["Subject"].startswith("Ana Ruiz says something is in the way")
    notice_body = notice.message.get_body(preferencelist=("plain",))
    assert notice_body is not None
    assert "I'm stuck, no time at all." in str(notice_body.get_content())
    answer = next(m for m in loop.messages[2:] if m.rcpt_tos == [CLIENT])
    answer_body = answer.message.get_body(preferencelist=("plain",))
    assert answer_body is not None
    assert "?" in str(answer_body.get_content())
    assert len(loop.messages) == 4  # and no more prompts after that


async def test_stop_opts_out_at_once_and_tells_the_coach(loop: Loop) -> None:
    await started(loop, REMINDER_AT)
    await loop.emit(reply("r1", REMINDER_AT + timedelta(minutes=5), intent="stop", text="stop"))
    await loop.consume()
    await loop.advance(OVERDUE_4_AT)

    # The reminder, the coach's notice, and one last email: the confirmation of the stop.
    assert sorted(m.rcpt_tos[0] for m in loop.messages) == sorted([CLIENT, COACH, CLIENT])
    [confirmation] = [m for m in loop.messages[1:] if m.rcpt_tos[0] == CLIENT]
    assert (
        "Got it: no more emails about this."
        in confirmation.message.get_body(("plain",)).get_content()
    )
    client = await loop.redis.hget(keys.client("ana"), "opted_out")
    assert client == b"1"
    assert await loop.redis.zcard(keys.STEP_SCHEDULE) == 0


async def test_an_out_of_office_pauses_prompts_until_the_return_date_and_is_no_answer(
    loop: Loop,
) -> None:
    await started(loop, REMINDER_AT, OVERDUE_1_AT)
    await loop.emit(
        reply(
            "r1", OVERDUE_1_AT + timedelta(minutes=1), kind="auto_reply", pause_until="2026-12-14"
        )
    )
    await loop.consume()
    await loop.advance(OVERDUE_4_AT)
    assert len(loop.messages) == 2  # the Monday prompt waits for her return

    await loop.advance(datetime(2026, 12, 14, 8, 0, tzinfo=UTC))
    assert len(loop.messages) == 3
    state = await loop.commitment()
    assert (state["unanswered"], state.get("replies")) == ("2", None)


async def test_a_hard_bounce_stops_client_emails_until_the_address_changes(loop: Loop) -> None:
    await started(loop, REMINDER_AT)
    await loop.emit(
        reply("r1", REMINDER_AT + timedelta(minutes=1), kind="bounce", bounce_permanent=True)
    )
    await loop.consume()
    await loop.advance(OVERDUE_1_AT)
    assert [m.rcpt_tos[0] for m in loop.messages] == [CLIENT, COACH]

    await loop.emit(
        {
            "version": 1,
            "event_id": "e-mail",
            "type": "client.updated",
            "occurred_at": OVERDUE_1_AT.isoformat(),
            "client_id": "ana",
            "email": "ana.ruiz@example.org",
        }
    )
    await loop.consume()
    await loop.advance(OVERDUE_4_AT)
    assert loop.messages[-1].rcpt_tos == ["ana.ruiz@example.org"]


async def test_a_reply_after_going_quiet_restarts_the_partnership(loop: Loop) -> None:
    await loop.emit(created(profile="twice"))
    await loop.consume()
    for moment in (REMINDER_AT, OVERDUE_1_AT, OVERDUE_4_AT):
        await loop.advance(moment)
    assert (await loop.commitment())["status"] == "quiet"

    await loop.emit(
        reply(
            "r1",
            OVERDUE_4_AT + timedelta(hours=1),
            intent="note",
            text="Sorry, family stuff. Back on it.",
        )
    )
    await loop.consume()
    state = await loop.commitment()
    assert (state["status"], state.get("unanswered", "0")) == ("active", "0")


async def test_the_same_reply_twice_changes_nothing_twice(loop: Loop) -> None:
    await started(loop, REMINDER_AT)
    event = reply(
        "r1",
        REMINDER_AT + timedelta(hours=1),
        intent="reschedule",
        new_due="2026-12-10",
        text="next Thursday",
    )
    await loop.emit(event, event)
    await loop.consume()

    state = await loop.commitment()
    assert (state["renegotiations"], state["replies"]) == ("1", "1")
    assert await loop.redis.llen(keys.history("c1")) == 1


async def test_the_daily_digest_lists_replies_and_overdue_and_nothing_means_no_email(
    loop: Loop,
) -> None:
    await schedule_all_digests(loop.services)
    await loop.advance(START + timedelta(hours=10))  # Monday 17:00 Madrid: nothing to say
    assert loop.messages == []

    await started(loop, REMINDER_AT, OVERDUE_1_AT)
    await loop.emit(
        reply(
            "r1",
            OVERDUE_1_AT + timedelta(hours=1),
            intent="note",
            text="Halfway there, the intro is the hard part.",
        )
    )
    await loop.consume()
    await loop.advance(datetime(2026, 12, 4, 16, 0, tzinfo=UTC))  # Friday 17:00 Madrid

    digest = loop.messages[-1]
    assert digest.rcpt_tos == [COACH]
    body = digest.message.get_body(preferencelist=("plain",))
    assert body is not None
    text = str(body.get_content())
    assert "Halfway there, the intro is the hard part." in text
    assert "Ana Ruiz: draft the grant proposal's first page (1 day)" in text
    assert await loop.redis.llen(keys.digest_entries("maria")) == 0


async def test_undo_after_a_misread_new_date_puts_the_old_one_back_and_tells_the_coach(
    loop: Loop,
) -> None:
    await started(loop, REMINDER_AT, OVERDUE_1_AT)
    asked_at = OVERDUE_1_AT + timedelta(hours=2)
    moved = reply("r1", asked_at, intent="reschedule", new_due="2026-12-10", text="Thursday?")
    await loop.emit(moved)
    await loop.consume()
    await loop.advance(asked_at)
    assert "Got it: new date Thursday 10 December." in text_of(loop, 2)

    undo_at = asked_at + timedelta(minutes=30)
    await loop.emit(reply("r2", undo_at, intent="undo", text="undo, I meant the 10th for Jo"))
    await loop.consume()
    await loop.advance(undo_at + timedelta(minutes=5))

    state = await loop.commitment()
    assert (state["due_date"], state.get("renegotiations", "0")) == ("2026-12-03", "0")
    to_coach = [m for m in loop.messages if m.rcpt_tos[0] == COACH]
    assert len(to_coach) == 1  # told at once that a change was undone
    bodies = [text_of(loop, i) for i, m in enumerate(loop.messages) if m.rcpt_tos[0] == CLIENT]
    assert "Got it: I’ve put back the last change." in bodies[-1]  # the client hears too


async def test_undo_after_a_misread_done_is_confirmed_too(loop: Loop) -> None:
    # A done changes no plan generation, so its confirmation and the undo's must still be
    # two emails, not one step id the ledger has already seen sent.
    await started(loop, REMINDER_AT)
    done_at = REMINDER_AT + timedelta(hours=1)
    await loop.emit(reply("r1", done_at, intent="done", text="Done!"))
    await loop.consume()
    await loop.advance(done_at + timedelta(minutes=5))
    assert "Got it: done." in text_of(loop, 1)

    undo_at = done_at + timedelta(minutes=30)
    await loop.emit(reply("r2", undo_at, intent="undo", text="no wait, that was the other one"))
    await loop.consume()
    await loop.advance(undo_at + timedelta(minutes=5))

    state = await loop.commitment()
    assert (state["status"], state["replies"]) == ("active", "2")
    bodies = [text_of(loop, i) for i, m in enumerate(loop.messages) if m.rcpt_tos[0] == CLIENT]
    assert "Got it: I’ve put back the last change." in bodies[-1]
