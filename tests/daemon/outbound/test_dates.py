"""Emails are dated when they were due, in their reader's zone (issue 15 item 15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from daemon.outbound.coachmail import schedule_all_digests
from tests.helpers.events import changed, created
from tests.helpers.firm import START
from tests.helpers.loop import Loop

pytestmark = pytest.mark.integration

REMINDER_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # Tuesday 09:00 Madrid
OVERDUE_1_AT = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)  # Friday 09:00 Madrid
COACH = "maria@northstar.example"


async def test_an_email_a_poll_made_late_is_dated_when_it_was_due_in_the_readers_zone(
    loop: Loop,
) -> None:
    await loop.emit(created())
    note = changed("reply.received", "r1", START + timedelta(hours=1), kind="reply")
    await loop.emit(note | {"intent": "note", "text": "Started on it.", "source": "smtp"})
    await loop.consume()
    await schedule_all_digests(loop.services)
    await loop.advance(datetime(2026, 11, 30, 16, 0, 2, tzinfo=UTC))  # Monday 17:00:02 Madrid
    await loop.advance(REMINDER_AT + timedelta(seconds=3))  # 3 s late: on time

    dates = [(m.rcpt_tos[0], str(m.message["Date"])) for m in loop.messages]
    assert dates == [
        (COACH, "Mon, 30 Nov 2026 17:00:00 +0100"),  # the digest, at 17:00 in Maria's zone
        ("ana@example.org", "Tue, 01 Dec 2026 09:00:00 +0100"),
    ]


async def test_an_email_sent_long_after_it_was_due_says_when_it_went(loop: Loop) -> None:
    await loop.emit(created())
    await loop.consume()
    await loop.advance(OVERDUE_1_AT + timedelta(minutes=20))  # down since Monday

    [prompt] = loop.messages
    assert str(prompt.message["Date"]) == "Fri, 04 Dec 2026 09:20:00 +0100"
