"""Replies by SMTP into coachd's receiver: matched by token, acted on once, forgeries refused."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import aiosmtplib
import pytest

from daemon.inbound import intake as intake_module
from daemon.inbound.intake import ReplyIntake
from daemon.inbound.message import InboundMessage
from daemon.inbound.receiver import receiving
from daemon.store import keys
from jobs.reading.reply import ReadReply
from tests.helpers.events import changed, created
from tests.helpers.firm import START
from tests.helpers.loop import Loop

pytestmark = pytest.mark.integration

DOMAIN = "reply.northstar.example"
REMINDER_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
SMALL_LIMIT = 64 * 1024


@pytest.fixture
async def receiver(loop: Loop) -> AsyncIterator[int]:
    intake = ReplyIntake(loop.redis, loop.services.signing_key, DOMAIN)
    async with receiving(
        intake, DOMAIN, "127.0.0.1", 0, lmtp=False, max_message_bytes=SMALL_LIMIT
    ) as port:
        yield port


async def reminded(loop: Loop) -> EmailMessage:
    await loop.emit(created())
    await loop.consume()
    await loop.advance(REMINDER_AT)
    return loop.messages[0].message


def answer(
    to: EmailMessage,
    text: str,
    *,
    sender: str = "ana@example.org",
    to_address: str | None = None,
    **headers: str,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Ana Ruiz <{sender}>"
    message["To"] = to_address or str(to["Reply-To"])
    message["Subject"] = f"Re: {to['Subject']}"
    message["Date"] = "Tue, 01 Dec 2026 10:00:00 +0100"
    message["Message-ID"] = f"<{abs(hash(text))}@mail.example.org>"
    message["In-Reply-To"] = str(to["Message-ID"])
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(f"{text}\n\nOn Tue, 1 Dec 2026 at 09:00, Northstar wrote:\n> earlier\n")
    return message


async def send(port: int, message: EmailMessage, recipient: str | None = None) -> None:
    await aiosmtplib.send(
        message,
        hostname="127.0.0.1",
        port=port,
        recipients=[recipient or str(message["To"])],
        start_tls=False,
    )


async def test_a_reply_saying_done_completes_the_commitment(loop: Loop, receiver: int) -> None:
    reminder = await reminded(loop)
    await send(receiver, answer(reminder, "Done! Sent it to the foundation this morning."))
    await loop.consume()

    state = await loop.commitment()
    assert state["status"] == "completed"
    [entry] = await loop.redis.lrange(keys.history("c1"), 0, -1)
    assert b"Sent it to the foundation this morning." in entry
    assert b"earlier" not in entry  # quoted history is not the client's words


async def test_a_new_date_in_words_moves_the_due_date(loop: Loop, receiver: int) -> None:
    reminder = await reminded(loop)
    await send(receiver, answer(reminder, "Could we make it next Friday instead?"))
    await loop.consume()

    state = await loop.commitment()
    # "next Friday" said on a Tuesday: the Friday of next week (see jobs/datephrase.py).
    assert (state["due_date"], state["renegotiations"]) == ("2026-12-11", "1")


async def test_a_forged_token_changes_nothing_and_is_kept_without_its_body(
    loop: Loop, receiver: int
) -> None:
    reminder = await reminded(loop)
    address = str(reminder["Reply-To"])
    local, _, domain = address.partition("@")
    forged = local[:-1] + ("a" if local[-1] != "a" else "b") + "@" + domain
    await send(receiver, answer(reminder, "done", to_address=forged))
    await loop.consume()

    assert (await loop.commitment())["status"] == "active"
    [dead] = await loop.dead_letters()
    assert dead["reason"].startswith("reply rejected: reply token is forged")
    assert "done" not in dead["event"]


async def test_references_alone_are_trusted_only_from_the_clients_own_address(
    loop: Loop, receiver: int
) -> None:
    reminder = await reminded(loop)
    stranger = answer(reminder, "done", sender="mallory@example.net", to_address=f"coach@{DOMAIN}")
    del stranger["To"]
    stranger["To"] = f"reply+{'a' * 39}@{DOMAIN}"  # a well-formed but unsigned token
    await send(receiver, stranger)
    await loop.consume()
    assert (await loop.commitment())["status"] == "active"

    intake = ReplyIntake(loop.redis, loop.services.signing_key, DOMAIN)
    plain = answer(reminder, "done", to_address="ana-replies@example.org")
    await intake(InboundMessage(plain.as_bytes(), (), "imap"))
    await loop.consume()
    assert (await loop.commitment())["status"] == "completed"


async def test_the_receiver_refuses_addresses_that_are_not_ours(loop: Loop, receiver: int) -> None:
    reminder = await reminded(loop)
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
        await send(receiver, answer(reminder, "hi"), recipient=f"postmaster@{DOMAIN}")
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
        await send(receiver, answer(reminder, "hi"), recipient="reply+abc@elsewhere.example")


async def test_the_receiver_refuses_an_oversized_message(loop: Loop, receiver: int) -> None:
    reminder = await reminded(loop)
    # Refused at MAIL FROM (SIZE) or at DATA, whichever the client reaches first.
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await send(receiver, answer(reminder, "x" * (SMALL_LIMIT * 2)))
    assert refused.value.code == 552


async def test_the_same_reply_twice_is_applied_once(loop: Loop, receiver: int) -> None:
    reminder = await reminded(loop)
    reply = answer(reminder, "Could we make it next Friday instead?")
    await send(receiver, reply)
    await send(receiver, reply)
    await loop.consume()

    state = await loop.commitment()
    assert (state["renegotiations"], state["replies"]) == ("1", "1")


async def test_an_auto_reply_is_no_answer_and_gets_no_answer(loop: Loop, receiver: int) -> None:
    reminder = await reminded(loop)
    ooo = answer(
        reminder, "I am out of the office until 14 December.", Auto_Submitted="auto-replied"
    )
    del ooo["Subject"]
    ooo["Subject"] = "Automatic reply: Your step"
    await send(receiver, ooo)
    await loop.consume()
    await loop.advance(REMINDER_AT + timedelta(hours=2))

    state = await loop.commitment()
    assert state.get("replies") is None
    assert len(loop.messages) == 1  # nothing sent back
    assert await loop.redis.hget(keys.client("ana"), "paused_until") == b"2026-12-14"


async def test_writing_to_the_unsubscribe_address_opts_out(loop: Loop, receiver: int) -> None:
    reminder = await reminded(loop)
    unsubscribe = str(reminder["List-Unsubscribe"]).split("mailto:")[1].rstrip(">")
    await send(receiver, answer(reminder, "", to_address=unsubscribe))
    await loop.consume()

    assert await loop.redis.hget(keys.client("ana"), "opted_out") == b"1"


async def test_one_click_unsubscribe_works_even_after_the_reply_token_expired(
    loop: Loop,
) -> None:
    reminder = await reminded(loop)
    token = str(reminder["Reply-To"]).split("+")[1].split("@")[0]
    intake = ReplyIntake(loop.redis, loop.services.signing_key, DOMAIN)
    loop.traveller.move_to(START + timedelta(days=400))

    assert await intake.unsubscribe(token) is True
    assert await intake.unsubscribe(token[:-1] + "a") is False
    await loop.consume()
    assert await loop.redis.hget(keys.client("ana"), "opted_out") == b"1"


async def test_a_message_too_slow_to_read_neither_stalls_the_loop_nor_is_dropped(
    loop: Loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader runs in a thread under a time limit: the loop keeps ticking meanwhile,
    and the message still reaches the coach, as a note, once the limit has passed."""
    reminder = await reminded(loop)
    release = threading.Event()

    def stuck_reader(*_args: object, **_kwargs: object) -> ReadReply:
        release.wait(timeout=5)  # a reader stuck on a crafted message, released at the end
        raise AssertionError("the intake should have stopped waiting")

    monkeypatch.setattr(intake_module, "read_content", stuck_reader)
    monkeypatch.setattr(intake_module, "READ_TIMEOUT_S", 0.3)
    intake = ReplyIntake(loop.redis, loop.services.signing_key, DOMAIN)
    raw = bytes(answer(reminder, "Done, sent it off."))
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        await intake(
            InboundMessage(raw=raw, recipients=(str(reminder["Reply-To"]),), source="test")
        )
    finally:
        ticker.cancel()
        release.set()
    await loop.consume()

    assert ticks >= 10  # ~30 ticks of 10 ms fit in the 0.3 s limit; a blocked loop gives 0
    state = await loop.commitment()
    assert state["status"] == "active"  # not read as done: nobody could read it in time
    [entry] = await loop.redis.lrange(keys.history("c1"), 0, -1)
    assert b"Done, sent it off." in entry  # the client's words reach the coach unread


async def test_a_reply_answering_each_commitment_of_one_email_reaches_each(
    loop: Loop, receiver: int
) -> None:
    """One email asked about two commitments; the reply answers them line by line."""
    await loop.emit(created(), created("e-second", "c2"))
    words = {"commitment_id": "c2", "action": "call the foundation about the deadline"}
    await loop.emit(changed("commitment.updated", "e-words", START + timedelta(seconds=1), **words))
    await loop.consume()
    await loop.advance(REMINDER_AT)
    [reminder] = [m.message for m in loop.messages]
    assert (await loop.commitment("c1"))["sent_with"] == "c2"

    text = "1. Draft is done, sent it last night.\n2. The call I'll do on Friday 11 December."
    await send(receiver, answer(reminder, text))
    await loop.consume()

    first, second = await loop.commitment("c1"), await loop.commitment("c2")
    assert first["status"] == "completed"
    assert (second["status"], second["due_date"]) == ("active", "2026-12-11")
