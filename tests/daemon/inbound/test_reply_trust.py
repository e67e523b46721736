"""Who may change a commitment: only the client's own addresses, by token or by thread;
a thread reference must be young, name an email coachd sent and pass the MTA's checks."""

from __future__ import annotations

import json
from datetime import timedelta
from email.message import EmailMessage

import pytest

from daemon.inbound.intake import REFERENCE_LIFETIME, ReplyIntake
from daemon.inbound.message import InboundMessage
from daemon.outbound.firing import REPLY_TOKEN_LIFETIME
from daemon.store import keys
from jobs.replyeffect import NOTICE_UNKNOWN_ADDRESS
from tests.daemon.inbound.test_intake import DOMAIN, REMINDER_AT, answer, reminded
from tests.helpers.events import changed
from tests.helpers.firm import START
from tests.helpers.loop import Loop

pytestmark = pytest.mark.integration

DONE = "Done! Sent it to the foundation this morning."
STRANGER = "mallory@example.net"


async def deliver(loop: Loop, message: EmailMessage) -> None:
    intake = ReplyIntake(loop.redis, loop.services.signing_key, DOMAIN)
    await intake(InboundMessage(message.as_bytes(), (), "smtp"))
    await loop.consume()


def in_thread(reminder: EmailMessage, text: str, **headers: str) -> EmailMessage:
    """A reply without the token: to the coach's own address, tied only by In-Reply-To."""
    return answer(reminder, text, to_address=f"coach@{DOMAIN}", **headers)


def with_message_id(message: EmailMessage, header: str, value: str) -> EmailMessage:
    del message[header]
    message[header] = value
    return message


async def history(loop: Loop) -> list[dict[str, object]]:
    return [json.loads(e) for e in await loop.redis.lrange(keys.history("c1"), 0, -1)]


async def notices(loop: Loop) -> list[bytes | None]:
    found = [k async for k in loop.redis.scan_iter(match=keys.NOTICE_PATTERN)]
    return [await loop.redis.hget(k, "headline") for k in found]


async def test_a_valid_token_from_a_strangers_address_only_reaches_the_coach(
    loop: Loop,
) -> None:
    reminder = await reminded(loop)
    await deliver(loop, answer(reminder, DONE, sender=STRANGER))

    state = await loop.commitment()
    assert (state["status"], state.get("replies")) == ("active", None)
    [entry] = await history(loop)
    assert (entry["intent"], "unknown address" in str(entry["text"])) == ("note", True)
    assert DONE in str(entry["text"])
    assert await notices(loop) == [NOTICE_UNKNOWN_ADDRESS.encode()]
    digest = await loop.redis.lrange(keys.digest_entries("maria"), 0, -1)
    assert [json.loads(d)["kind"] for d in digest] == ["reply"]  # not "completed"


async def test_a_thread_reply_from_a_spoofed_stranger_changes_nothing_but_reaches_the_coach(
    loop: Loop,
) -> None:
    reminder = await reminded(loop)
    await deliver(loop, in_thread(reminder, DONE, sender=STRANGER))

    assert (await loop.commitment())["status"] == "active"
    [entry] = await history(loop)
    assert "unknown address" in str(entry["text"])
    assert await loop.dead_letters() == []


@pytest.mark.parametrize(
    ("failing", "passing"),
    [
        (
            "mx.coachd.example; dmarc=fail (p=reject) header.from=example.org",
            "mx.coachd.example; dmarc=pass (p=none) header.from=example.org",
        ),
        (
            "mx.coachd.example; dkim=pass header.d=evil.example; dmarc=fail",
            "mx.coachd.example; dkim=pass (good) header.d=example.org header.s=s1",
        ),
    ],
)
async def test_a_thread_reply_must_pass_the_topmost_authentication_results(
    loop: Loop, failing: str, passing: str
) -> None:
    reminder = await reminded(loop)
    for results in (failing, passing):
        reply = in_thread(reminder, DONE, Authentication_Results=results)
        # Below ours, a sender's own claim of a pass counts for nothing.
        reply["Authentication-Results"] = "forged.example; dmarc=pass header.from=example.org"
        await deliver(loop, reply)
        if results == failing:
            assert (await loop.commitment())["status"] == "active"
            [dead] = await loop.dead_letters()
            assert dead["reason"] == (
                "reply rejected: Authentication-Results show no DMARC or DKIM pass for From"
            )
    assert (await loop.commitment())["status"] == "completed"


async def test_a_thread_reply_to_an_email_older_than_the_token_lifetime_is_refused(
    loop: Loop,
) -> None:
    reminder = await reminded(loop)
    loop.traveller.move_to(REMINDER_AT + REFERENCE_LIFETIME + timedelta(days=1))
    await deliver(loop, in_thread(reminder, DONE))

    assert (await loop.commitment())["status"] == "active"
    [dead] = await loop.dead_letters()
    assert dead["reason"] == "reply rejected: references an email older than a reply token lasts"


async def test_a_thread_reply_to_an_email_coachd_never_sent_is_refused(loop: Loop) -> None:
    reminder = await reminded(loop)
    thread = str(reminder["Message-ID"]).strip("<>").split(".")[0]
    reply = with_message_id(in_thread(reminder, DONE), "In-Reply-To", f"<{thread}.5@{DOMAIN}>")
    await deliver(loop, reply)

    assert (await loop.commitment())["status"] == "active"
    [dead] = await loop.dead_letters()
    assert dead["reason"] == "reply rejected: references an email coachd never sent"


async def test_the_same_words_under_a_new_message_id_apply_once(loop: Loop) -> None:
    reminder = await reminded(loop)
    words = "I'm stuck: the foundation's portal  keeps rejecting my login."
    await deliver(loop, answer(reminder, words))
    replay = answer(reminder, words.upper().replace("  ", " "))  # the same words, normalised
    await deliver(loop, with_message_id(replay, "Message-ID", "<replayed@mail.example>"))

    state = await loop.commitment()
    assert (state["blocked"], state["replies"]) == ("1", "1")
    assert len(await history(loop)) == 1
    assert len(await notices(loop)) == 1
    # Past the window the same words count again (the client may mean it twice).
    loop.traveller.move_to(REMINDER_AT + timedelta(seconds=keys.REPLY_REPLAY_TTL_S + 60))
    later = with_message_id(answer(reminder, words), "Message-ID", "<later@mail.example>")
    await deliver(loop, later)
    assert (await loop.commitment())["replies"] == "2"


async def test_an_address_the_coach_added_may_change_the_commitment(loop: Loop) -> None:
    reminder = await reminded(loop)
    added = changed(
        "client.updated", "e-addr", START + timedelta(minutes=1), commitment_id="x",
        other_emails=["ana.work@example.com"],
    )  # fmt: skip
    del added["commitment_id"]
    added["client_id"] = "ana"
    await loop.emit(added)
    await loop.consume()
    assert await loop.dead_letters() == []

    await deliver(loop, in_thread(reminder, DONE, sender="Ana.Work@example.com"))
    assert (await loop.commitment())["status"] == "completed"


def test_a_thread_reference_lasts_as_long_as_a_reply_token() -> None:
    assert REFERENCE_LIFETIME == REPLY_TOKEN_LIFETIME
