"""The weekly digest's lines from the learning loop, through the real loop (real Redis and
SMTP): Monday's digest says how many emails were answered, and which reason; other days not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from daemon.outbound.coachmail import schedule_all_digests
from tests.helpers.events import changed, created
from tests.helpers.loop import Loop

pytestmark = pytest.mark.integration

COACH = "maria@northstar.example"
REMINDER_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # Tuesday 09:00 Madrid
OVERDUE_1_AT = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)  # Friday 09:00 Madrid
FRIDAY_DIGEST = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)  # 17:00 Madrid
MONDAY_PROMPT = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # overdue-4d, 09:00 Madrid
MONDAY_DIGEST = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)


def digest_texts(loop: Loop) -> list[str]:
    texts = []
    for recorded in loop.messages:
        body = recorded.message.get_body(preferencelist=("plain",))
        if recorded.rcpt_tos == [COACH] and body is not None:
            texts.append(str(body.get_content()).replace("\r\n", "\n"))
    return texts


async def test_mondays_digest_says_which_emails_the_clients_answered(loop: Loop) -> None:
    await schedule_all_digests(loop.services)
    await loop.emit(created())
    await loop.consume()
    await loop.advance(REMINDER_AT)
    await loop.advance(OVERDUE_1_AT)
    fields = {"kind": "reply", "source": "smtp", "intent": "note", "text": "Good question."}
    await loop.emit(changed("reply.received", "r1", OVERDUE_1_AT + timedelta(hours=2), **fields))
    await loop.consume()
    for day in range(3):  # the daily digests, Friday to Sunday
        await loop.advance(FRIDAY_DIGEST + timedelta(days=day))
    await loop.advance(MONDAY_PROMPT)
    await loop.advance(MONDAY_DIGEST)

    *before, monday = digest_texts(loop)
    assert before and all("Which emails your clients answer" not in text for text in before)
    # The reminder and two prompts, all at 09:00, one answered; each reason was asked once,
    # too few to name one.
    assert (
        "Which emails your clients answer (more: coachd insights --coach)\n"
        "  - Your clients answered 1 of 3 (33%) of coachd's emails this past week.\n"
        "  - Most answered send hour: 09:00, 1 of 3 (33%).\n"
    ) in monday
