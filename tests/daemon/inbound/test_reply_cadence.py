"""A client sets their own cadence by replying: real SMTP in and out, real Redis (issue 16)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest

from daemon.inbound.intake import ReplyIntake
from daemon.inbound.message import InboundMessage
from daemon.store import keys
from daemon.store.privacy import export_client
from tests.helpers.events import created
from tests.helpers.loop import Loop

pytestmark = pytest.mark.integration

MADRID = ZoneInfo("Europe/Madrid")
DOMAIN = "reply.northstar.example"
DUE = "2026-12-04"  # a Friday: the reminder comes Wednesday, the first prompt on Monday
REMINDER_AT = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # Wednesday 09:00 Madrid
REPLY_AT = REMINDER_AT + timedelta(hours=2)
USUAL_PROMPT_AT = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # Monday 09:00 Madrid
FRIDAY_PROMPT_AT = datetime(2026, 12, 11, 8, 0, tzinfo=UTC)  # Friday 09:00 Madrid
FRIDAY = 4
NOON = 12
US_PER_S = 1_000_000


def answer(reminder: EmailMessage, words: str, message_id: str) -> InboundMessage:
    reply = EmailMessage()
    reply["From"] = "Ana Ruiz <ana@example.org>"
    reply["To"] = reminder["Reply-To"]
    reply["Subject"] = f"Re: {reminder['Subject']}"
    reply["Date"] = "Wed, 02 Dec 2026 11:00:00 +0100"
    reply["Message-ID"] = message_id
    reply["In-Reply-To"] = reminder["Message-ID"]
    reply.set_content(f"{words}\n\nAna\n")
    return InboundMessage(reply.as_bytes(), (str(reminder["Reply-To"]),), "smtp")


def moment(stored: str) -> datetime:
    return datetime.fromtimestamp(int(stored) / US_PER_S, UTC)


def text(loop: Loop, index: int) -> str:
    body = loop.messages[index].message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


async def reminded_and_answered(loop: Loop, words: str) -> ReplyIntake:
    await loop.emit(created(due=DUE))
    await loop.consume()
    await loop.advance(REMINDER_AT)
    intake = ReplyIntake(loop.redis, loop.services.signing_key, DOMAIN)
    loop.traveller.move_to(REPLY_AT)
    await intake(answer(loop.messages[0].message, words, "<cadence-1@mail.example.org>"))
    await loop.consume()
    await loop.advance(REPLY_AT + timedelta(minutes=5))
    return intake


async def test_please_only_on_friday_mornings_is_confirmed_and_the_next_prompt_is_a_friday_morning(
    loop: Loop,
) -> None:
    await reminded_and_answered(loop, "Please only on Friday mornings.")

    assert len(loop.messages) == 2  # the reminder, then the one-line confirmation
    assert "Got it: from now on I’ll write on Fridays, in the morning." in text(loop, 1)
    assert "reply “undo”" in text(loop, 1)
    state = await loop.commitment()
    next_at = moment(state["next_at"]).astimezone(MADRID)
    assert (next_at.weekday(), next_at.hour < NOON) == (FRIDAY, True)

    await loop.advance(USUAL_PROMPT_AT + timedelta(days=3))  # past the coach's usual Monday
    assert len(loop.messages) == 2
    await loop.advance(FRIDAY_PROMPT_AT)
    assert len(loop.messages) == 3
    # Saturday's +1 and Tuesday's +4 both move to that Friday: one prompt, the later one.
    assert (await loop.commitment())["last_sent"] == "overdue-4d"

    exported = await export_client(loop.redis, "ana")
    assert json.loads(exported["client"]["cadence"]) == {"days": [FRIDAY], "part": "morning"}
    entries = [json.loads(e) for e in await loop.redis.lrange(keys.digest_entries("maria"), 0, -1)]
    assert [e.get("cadence") for e in entries] == ["their own cadence now: Fridays; mornings"]


async def test_undo_puts_the_coachs_cadence_back(loop: Loop) -> None:
    intake = await reminded_and_answered(
        loop, "Bitte schreib mir nur freitags vormittags, das passt mir besser."
    )
    assert "Verstanden: Ab jetzt schreibe ich dir freitags, vormittags." in text(loop, 1)

    undo_at = REPLY_AT + timedelta(minutes=30)
    loop.traveller.move_to(undo_at)
    await intake(
        answer(
            loop.messages[0].message,
            "Bitte mach das rückgängig, das habe ich nicht so gemeint.",
            "<cadence-2@mail.example.org>",
        )
    )
    await loop.consume()
    await loop.advance(undo_at + timedelta(minutes=5))

    to_ana = [i for i, m in enumerate(loop.messages) if m.rcpt_tos == ["ana@example.org"]]
    assert "Verstanden: Die letzte Änderung ist rückgängig gemacht." in text(loop, to_ana[-1])
    assert (await loop.redis.hget(keys.client("ana"), "cadence")) is None
    next_at = moment((await loop.commitment())["next_at"])
    assert next_at == USUAL_PROMPT_AT
