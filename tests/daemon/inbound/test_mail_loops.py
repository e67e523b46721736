"""An auto-responder in the loop: coachd never answers an auto-reply, so no mail loop forms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

from daemon.inbound.intake import ReplyIntake
from daemon.inbound.message import InboundMessage
from daemon.outbound.promptcap import ANSWERS_PER_DAY
from tests.helpers.events import created
from tests.helpers.loop import Loop

pytestmark = pytest.mark.integration

DOMAIN = "reply.northstar.example"
REMINDER_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
ROUNDS = 8  # every other day from Tuesday 1 to Tuesday 15 December


def auto_reply(to: EmailMessage, *, rfc3834: bool) -> bytes:
    """What a mail server's vacation responder sends back to whatever reached the client."""
    answer = EmailMessage()
    answer["From"] = "Ana Ruiz <ana@example.org>"
    answer["To"] = to["Reply-To"]
    answer["Subject"] = f"Automatic reply: {to['Subject']}"
    answer["Message-ID"] = f"<ooo-{abs(hash(str(to['Message-ID'])))}@example.org>"
    answer["In-Reply-To"] = to["Message-ID"]
    if rfc3834:
        answer["Auto-Submitted"] = "auto-replied"
    answer.set_content("I am away with limited access to email.")
    return answer.as_bytes()


@pytest.mark.parametrize("rfc3834", [True, False], ids=["auto-submitted", "subject-only"])
async def test_an_auto_responder_answering_every_email_gets_nothing_back(
    loop: Loop, rfc3834: bool
) -> None:
    await loop.emit(created())
    await loop.consume()
    intake = ReplyIntake(loop.redis, loop.services.signing_key, DOMAIN)
    answered: set[str] = set()
    moment = REMINDER_AT
    for _ in range(ROUNDS):
        await loop.advance(moment)
        for sent in list(loop.messages):
            if sent.message["Message-ID"] not in answered:
                answered.add(sent.message["Message-ID"])
                await intake(
                    InboundMessage(
                        auto_reply(sent.message, rfc3834=rfc3834),
                        (str(sent.message["Reply-To"]),),
                        "smtp",
                    )
                )
        await loop.consume()
        await loop.advance(moment + timedelta(minutes=30))  # anything a reply would trigger
        moment += timedelta(days=2)

    # Only the planned steps went out (reminder, three prompts, the coach's notice): the
    # auto-replies neither triggered an email nor counted as the client answering.
    recipients = [m.rcpt_tos[0] for m in loop.messages]
    assert recipients == ["ana@example.org"] * 4 + ["maria@northstar.example"]
    state = await loop.commitment()
    assert (state["status"], state.get("replies")) == ("quiet", None)


def stuck_reply(to: EmailMessage, round_number: int) -> bytes:
    """A responder with none of the RFC 3834 headers that answers every email 'I'm stuck'."""
    answer = EmailMessage()
    answer["From"] = "Ana Ruiz <ana@example.org>"
    answer["To"] = to["Reply-To"]
    answer["Subject"] = f"Re: {to['Subject']}"
    answer["Message-ID"] = f"<stuck-{round_number}@example.org>"
    answer["In-Reply-To"] = to["Message-ID"]
    answer.set_content("I'm stuck, I can't do this right now.")
    return answer.as_bytes()


async def test_a_responder_that_says_stuck_to_everything_gets_a_bounded_number_of_answers(
    loop: Loop,
) -> None:
    """Each "I'm stuck" would earn a "what would help?": the daily answer cap ends the loop."""
    await loop.emit(created())
    await loop.consume()
    await loop.advance(REMINDER_AT)
    intake = ReplyIntake(loop.redis, loop.services.signing_key, DOMAIN)
    answered: set[str] = set()
    moment = REMINDER_AT
    for round_number in range(ROUNDS):
        for sent in [m for m in loop.messages if m.rcpt_tos[0] == "ana@example.org"]:
            if sent.message["Message-ID"] not in answered:
                answered.add(sent.message["Message-ID"])
                raw = stuck_reply(sent.message, round_number)
                await intake(InboundMessage(raw, (str(sent.message["Reply-To"]),), "smtp"))
        await loop.consume()
        moment += timedelta(minutes=20)
        await loop.advance(moment)

    to_client = [m for m in loop.messages[1:] if m.rcpt_tos[0] == "ana@example.org"]
    assert 1 <= len(to_client) <= ANSWERS_PER_DAY  # not one answer per round
    assert len(loop.messages) < 2 * ROUNDS
