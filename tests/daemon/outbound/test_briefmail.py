"""The pre-session brief end to end: session events in, one email to the coach at its moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from daemon.outbound.briefmail import send_brief
from daemon.store import keys
from daemon.store.privacy import erase_now
from daemon.store.schedule import brief_job_id
from tests.helpers.events import changed, created
from tests.helpers.firm import SIGNING_KEY, START
from tests.helpers.loop import Loop, leave_commit_mark

pytestmark = pytest.mark.integration

COACH_ADDRESS = "maria@northstar.example"
# Friday 4 December, 11:00 in Madrid: the brief is due two hours before, 09:00 (08:00 UTC).
SESSION_AT = "2026-12-04T11:00:00+01:00"
BRIEF_AT = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
# Moved to Monday 7 December, 15:00 in Madrid: its brief at 13:00 (12:00 UTC).
MOVED_TO = "2026-12-07T15:00:00+01:00"
MOVED_BRIEF_AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
AFTER_THE_LEASE = timedelta(minutes=5)  # the worker's lease is 75 s


def scheduled(
    event_id: str, starts_at: str, session_id: str = "s1", **extra: Any
) -> dict[str, Any]:
    return {
        "version": 1,
        "event_id": event_id,
        "occurred_at": START.isoformat(),
        "type": "session.scheduled",
        "session_id": session_id,
        "client_id": "ana",
        "coach_id": "maria",
        "starts_at": starts_at,
    } | extra


def cancelled(event_id: str, session_id: str = "s1") -> dict[str, Any]:
    return {
        "version": 1,
        "event_id": event_id,
        "occurred_at": START.isoformat(),
        "type": "session.cancelled",
        "session_id": session_id,
    }


def briefs(loop: Loop) -> list[Any]:
    return [
        m
        for m in loop.messages
        if m.rcpt_tos == [COACH_ADDRESS] and "Before your session" in m.message["Subject"]
    ]


def text_of(message: Any) -> str:
    part = message.message.get_body(preferencelist=("plain",))
    return str(part.get_content()).replace("\r\n", "\n")


async def commitment_with_a_block(loop: Loop) -> None:
    """Ana's step is due Thursday 3 December; on Tuesday she writes that she is stuck."""
    await loop.emit(created())
    blocked = {"kind": "reply", "intent": "blocked", "text": "No time this week."}
    await loop.emit(changed("reply.received", "e-blocked", START + timedelta(days=1), **blocked))
    await loop.consume()


async def test_a_scheduled_session_briefs_the_coach_two_hours_before(loop: Loop) -> None:
    await commitment_with_a_block(loop)
    await loop.emit(scheduled("e-s1", SESSION_AT))
    await loop.consume()

    await loop.advance(BRIEF_AT - MINUTE)
    assert briefs(loop) == []
    await loop.advance(BRIEF_AT)

    [brief] = briefs(loop)
    assert brief.message["Subject"] == (
        "Before your session with Ana Ruiz (Friday 4 December, 11:00)"
    )
    assert brief.message["Date"] == "Fri, 04 Dec 2026 09:00:00 +0100"
    text = text_of(brief)
    for expected in (
        "Your session with Ana Ruiz is on Friday 4 December, 11:00.",
        "Since you started working together:",
        "Their steps\n  - “draft the grant proposal's first page”: blocked\n",
        "    in their words: “No time this week.”\n",
        "Their replies\n  - Tuesday 1 December, on “draft the grant proposal's first page”"
        " (blocked):\n      No time this week.\n",
        "The questions coachd asked last\n"
        "  - What would make this step a little easier for you? (no answer yet)\n",
        "To open with\n  How would you like to use our time today?\n",
        "you could ask when exactly, and what will the first step be?\n"
        "  - “draft the grant proposal's first page”\n",
    ):
        assert expected in text
    await loop.advance(BRIEF_AT + timedelta(days=1))
    assert len(briefs(loop)) == 1


async def test_a_cancelled_session_sends_no_brief(loop: Loop) -> None:
    await commitment_with_a_block(loop)
    await loop.emit(scheduled("e-s1", SESSION_AT), cancelled("e-c1"))
    await loop.consume()

    await loop.advance(BRIEF_AT + timedelta(hours=4))

    assert briefs(loop) == []
    assert await loop.redis.exists(keys.session("s1"), keys.client_sessions("ana")) == 0
    assert await loop.redis.zscore(keys.JOB_QUEUE, brief_job_id("s1")) is None


async def test_a_moved_session_is_briefed_once_at_its_new_time(loop: Loop) -> None:
    await commitment_with_a_block(loop)
    await loop.emit(scheduled("e-s1", SESSION_AT), scheduled("e-s1-moved", MOVED_TO))
    await loop.consume()

    await loop.advance(BRIEF_AT + timedelta(hours=4))
    assert briefs(loop) == []
    await loop.advance(MOVED_BRIEF_AT - MINUTE)
    assert briefs(loop) == []
    await loop.advance(MOVED_BRIEF_AT + timedelta(days=1))

    [brief] = briefs(loop)
    assert brief.message["Subject"].endswith("(Monday 7 December, 15:00)")


async def test_a_repeated_event_id_schedules_one_brief(loop: Loop) -> None:
    await commitment_with_a_block(loop)
    await loop.emit(scheduled("e-s1", SESSION_AT), scheduled("e-s1", MOVED_TO))
    await loop.consume()

    await loop.advance(MOVED_BRIEF_AT + timedelta(days=1))

    [brief] = briefs(loop)
    assert brief.message["Subject"].endswith("(Friday 4 December, 11:00)")


async def test_a_rerun_of_a_sent_brief_sends_nothing(loop: Loop) -> None:
    """The job runs again (a worker killed after the 250, before arq saw it finish)."""
    await commitment_with_a_block(loop)
    await loop.emit(scheduled("e-s1", SESSION_AT))
    await loop.consume()
    loop.traveller.move_to(BRIEF_AT)
    ctx = {"services": loop.services, "job_id": "x", "job_try": 1}
    starts = datetime.fromisoformat(SESSION_AT).astimezone(UTC).isoformat()

    assert await send_brief(ctx, "s1", starts) == "sent"
    assert await send_brief(ctx, "s1", starts) == "already_sent"

    assert len(briefs(loop)) == 1


async def test_a_brief_whose_worker_died_at_the_final_dot_is_not_resent(loop: Loop) -> None:
    await commitment_with_a_block(loop)
    await loop.emit(scheduled("e-s1", SESSION_AT))
    await loop.consume()
    starts = datetime.fromisoformat(SESSION_AT).astimezone(UTC)
    ledger_key = keys.sent("brief", f"s1:{int(starts.timestamp())}")
    await leave_commit_mark(loop, ledger_key, int(BRIEF_AT.timestamp() * 1000))

    await loop.advance(BRIEF_AT + AFTER_THE_LEASE)

    assert briefs(loop) == []
    assert await loop.redis.get(ledger_key) == b"unknown"


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (
            scheduled("e-bad", "2026-12-04T11:00:00"),
            "session.scheduled.starts_at: Input should have timezone info",
        ),
        (
            scheduled("e-bad", SESSION_AT, coach_id="nobody"),
            "no coach named 'nobody' in the coach config",
        ),
        (cancelled("e-bad", "s9"), "session s9 is not scheduled"),
    ],
)
async def test_an_invalid_session_event_is_dead_lettered_with_its_reason(
    loop: Loop, event: dict[str, Any], reason: str
) -> None:
    await loop.emit(event)
    await loop.consume()

    [letter] = await loop.dead_letters()
    assert reason in letter["reason"]
    assert await loop.redis.zcard(keys.JOB_QUEUE) <= 1  # at most the digest


async def test_erasing_the_client_drops_their_sessions_and_refuses_new_ones(loop: Loop) -> None:
    await commitment_with_a_block(loop)
    await loop.emit(scheduled("e-s1", SESSION_AT))
    await loop.consume()

    await erase_now(loop.redis, "ana", SIGNING_KEY)
    await loop.emit(scheduled("e-s2", MOVED_TO, session_id="s2"))
    await loop.consume()
    await loop.advance(MOVED_BRIEF_AT + timedelta(days=1))

    assert briefs(loop) == []
    assert await loop.redis.exists(keys.session("s1"), keys.session("s2")) == 0
    assert await loop.redis.exists(keys.client_sessions("ana")) == 0
    [letter] = await loop.dead_letters()
    assert letter["reason"] == "client erased"


async def test_a_past_session_gets_no_brief_and_is_the_last_session_of_the_next(
    loop: Loop,
) -> None:
    """A session recorded after it took place starts the next brief's "since"."""
    await commitment_with_a_block(loop)  # the reply came on Tuesday 1 December, 07:00 UTC
    await loop.emit(scheduled("e-s0", "2026-12-01T09:00:00+01:00", session_id="s0",
                              occurred_at=(START + timedelta(days=2)).isoformat()))  # fmt: skip
    await loop.emit(scheduled("e-s1", SESSION_AT))
    await loop.consume()

    await loop.advance(BRIEF_AT + timedelta(hours=1))

    [brief] = briefs(loop)  # none for s0
    text = text_of(brief)
    assert "Since your last session (Tuesday 1 December, 09:00):" in text
    assert "Their replies" not in text  # the reply came before that session
