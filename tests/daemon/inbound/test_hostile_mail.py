"""Hostile replies through ReplyIntake: refused or neutralised, never a crash or a wrong act."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemon.inbound.intake import ReplyIntake
from daemon.inbound.message import InboundMessage
from daemon.outbound.firing import REPLY_TOKEN_LIFETIME
from daemon.store import keys
from jobs.composer import thread_ids
from jobs.events import MAX_REPLY_CHARS
from jobs.replytoken import ALPHABET, SIGNED_CHARS, TOKEN_CHARS, sign_reply_token
from tests.helpers.events import created
from tests.helpers.firm import SIGNING_KEY
from tests.helpers.loop import Loop

pytestmark = pytest.mark.integration

DOMAIN = "reply.northstar.example"
REMINDER_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # both reminders: Tuesday 09:00 Madrid
CLIENTS = {"c1": "ana@example.org", "c2": "bo@example.org"}
FORGED = "reply rejected: reply token is forged, expired or for an unknown commitment"
MIME_DEPTH = 1000
OVERSIZED_BYTES = 11 * 1024 * 1024  # over the 10 MB coachd parses at most
BIDI_AND_CONTROL = {"Cc", "Cf"}


@pytest.fixture
async def tokens(loop: Loop) -> dict[str, str]:
    """Set up once per test (not per hypothesis example): every example starts from it."""
    return await two_reminded(loop)


async def two_reminded(loop: Loop) -> dict[str, str]:
    """Ana (c1) and Bo (c2) each have a commitment; their reminders' reply tokens and ids.

    The tokens are the ones the reminders at REMINDER_AT carry (see daemon.outbound.delivery), made
    here so these tests do not depend on sending.
    """
    await loop.emit(created("e1", "c1"), created("e2", "c2", client_id="bo", email=CLIENTS["c2"]))
    await loop.consume()
    expires = (REMINDER_AT + REPLY_TOKEN_LIFETIME).date()
    tokens = {}
    for cid in CLIENTS:
        thread = (await loop.commitment(cid))["thread"]
        tokens[cid] = sign_reply_token(SIGNING_KEY, thread, 0, expires)
        tokens[f"{cid}-message-id"] = thread_ids(thread, 0, DOMAIN)[0]
    loop.traveller.move_to(REMINDER_AT + timedelta(hours=1))
    return tokens


def mail(
    token: str,
    body: bytes,
    *,
    sender: str = "ana@example.org",
    headers: bytes = b"",
    content_type: bytes = b"text/plain; charset=utf-8",
) -> bytes:
    return (
        b"From: <" + sender.encode() + b">\r\nTo: <reply+" + token.encode() + b"@"
        + DOMAIN.encode() + b">\r\nSubject: Re: Your step\r\n"
        + b"Date: Tue, 01 Dec 2026 10:00:00 +0100\r\nMessage-ID: <"
        + str(abs(hash(body))).encode() + b"@mail.example.org>\r\n" + headers
        + b"MIME-Version: 1.0\r\nContent-Type: " + content_type + b"\r\n\r\n" + body
    )  # fmt: skip


async def deliver(loop: Loop, raw: bytes, source: str = "smtp", *recipients: str) -> None:
    intake = ReplyIntake(loop.redis, loop.services.signing_key, DOMAIN)
    await intake(InboundMessage(raw, tuple(recipients), source))
    await loop.consume()


async def snapshot(loop: Loop) -> dict[str, dict[str, str]]:
    return {cid: await loop.commitment(cid) for cid in CLIENTS}


async def history(loop: Loop, cid: str = "c1") -> list[dict[str, str]]:
    return [json.loads(entry) for entry in await loop.redis.lrange(keys.history(cid), 0, -1)]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_a_forged_token_changes_nothing_even_from_the_client_replying_in_thread(
    loop: Loop, tokens: dict[str, str], data: st.DataObject
) -> None:
    genuine = tokens["c1"]
    position = data.draw(st.integers(0, TOKEN_CHARS - 1))
    char = data.draw(st.sampled_from(ALPHABET).filter(lambda c: c != genuine[position]))
    forged = data.draw(
        st.just(genuine[:position] + char + genuine[position + 1 :])
        | st.text(ALPHABET, min_size=TOKEN_CHARS, max_size=TOKEN_CHARS)
        | st.just(
            genuine[:SIGNED_CHARS] + tokens["c2"][SIGNED_CHARS:]
        )  # c1's claims under c2's signature
    )
    before = await snapshot(loop)
    in_thread = b"In-Reply-To: " + tokens["c1-message-id"].encode() + b"\r\n"

    await deliver(loop, mail(forged, b"done", headers=in_thread))

    assert await snapshot(loop) == before
    assert (await loop.dead_letters())[-1]["reason"] == FORGED


async def test_the_same_reply_through_three_routes_and_a_day_later_is_applied_once(
    loop: Loop, tokens: dict[str, str]
) -> None:
    raw = mail(tokens["c1"], b"new date 2026-12-10")
    for source in ("imap", "postmark", "smtp"):
        await deliver(loop, raw, source)
    loop.traveller.move_to(REMINDER_AT + timedelta(days=1))
    await deliver(loop, raw, "imap")

    state = await loop.commitment("c1")
    assert (state["due_date"], state["renegotiations"], state["replies"]) == (
        "2026-12-10",
        "1",
        "1",
    )
    assert len(await history(loop)) == 1


@pytest.mark.parametrize(
    ("sender", "headers"),
    [
        (CLIENTS["c2"], b""),
        (CLIENTS["c2"], b"In-Reply-To: <{c1-message-id}>\r\n"),
        ("ana@example.org", b"References: <{c1-message-id}>\r\n"),
    ],
)
async def test_another_clients_token_acts_only_on_that_tokens_commitment(
    loop: Loop, tokens: dict[str, str], sender: str, headers: bytes
) -> None:
    """The token names the commitment, whatever the thread says; it changes it only when
    its own client wrote (Ana using Bo's token reaches Bo's coach as an unknown address)."""
    headers = headers.replace(b"<{c1-message-id}>", tokens["c1-message-id"].encode())
    before = await snapshot(loop)

    await deliver(loop, mail(tokens["c2"], b"Done!", sender=sender, headers=headers))

    after = await snapshot(loop)
    assert after["c1"] == before["c1"]
    expected = "completed" if sender == CLIENTS["c2"] else "active"
    assert after["c2"]["status"] == expected
    assert await history(loop, "c1") == []


async def test_two_tokens_in_one_message_act_on_exactly_one_commitment(
    loop: Loop, tokens: dict[str, str]
) -> None:
    cc = f"Cc: <reply+{tokens['c1']}@{DOMAIN}>\r\n".encode()
    before = await snapshot(loop)

    await deliver(loop, mail(tokens["c2"], b"Done!", headers=cc))

    after = await snapshot(loop)
    assert [cid for cid in CLIENTS if after[cid] != before[cid]] == ["c2"]  # To comes first


async def test_an_expired_token_changes_nothing_and_is_dead_lettered(
    loop: Loop, tokens: dict[str, str]
) -> None:
    loop.traveller.move_to(REMINDER_AT + REPLY_TOKEN_LIFETIME + timedelta(days=1))
    before = await snapshot(loop)

    await deliver(loop, mail(tokens["c1"], b"done"))

    assert await snapshot(loop) == before
    assert [d["reason"] for d in await loop.dead_letters()] == [FORGED]


async def test_an_oversized_message_is_read_capped_and_stores_bounded_words(
    loop: Loop, tokens: dict[str, str]
) -> None:
    subject = b"X-Long: " + b"y" * (1024 * 1024) + b"\r\n"
    body = b"Done, finally!\n" + b"blah " * (OVERSIZED_BYTES // 5)

    await deliver(loop, mail(tokens["c1"], body, headers=subject))

    assert (await loop.commitment("c1"))["status"] == "completed"
    [entry] = await history(loop)
    assert entry["text"].startswith("Done, finally!")
    assert len(entry["text"]) <= MAX_REPLY_CHARS


async def test_mime_nested_a_thousand_deep_is_survived_and_read_as_an_empty_note(
    loop: Loop, tokens: dict[str, str]
) -> None:
    head = "".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'
        for i in range(1, MIME_DEPTH)
    )
    tail = "".join(f"\r\n--b{i}--\r\n" for i in reversed(range(MIME_DEPTH)))
    body = (f"--b0\r\n{head}Content-Type: text/plain\r\n\r\ndone{tail}").encode()

    await deliver(loop, mail(tokens["c1"], body, content_type=b'multipart/mixed; boundary="b0"'))

    state = await loop.commitment("c1")
    assert (state["status"], state["replies"]) == ("active", "1")  # nothing past depth 20 read
    assert [(e["intent"], e["text"]) for e in await history(loop)] == [("note", "")]


PLAIN = b"text/plain; charset=utf-8"
ENCODINGS = {
    "unknown charset": (b'text/plain; charset="x-klingon"', b"", b"Erledigt! Gr\xc3\xbc\xc3\x9fe"),
    "invalid utf-8": (PLAIN, b"", b"done \xff\xfe\xfd"),
    "utf-7": (b"text/plain; charset=utf-7", b"", b"Halfway +AOk-t+AOk-"),
    "broken base64": (b"text/plain", b"Content-Transfer-Encoding: base64\r\n", b"!!!not*b64==="),
    "bogus encoded word": (PLAIN, b"Subject: =?x-bogus?q?Re=3A_=FF?=\r\n", b"done"),
    "8-bit charset name": (b"text/plain; charset=\xff\xfe", b"X-Raw: \xc3\x28\xa0\r\n", b"done"),
    "utf-16": (b"text/plain; charset=utf-16", b"", "done".encode("utf-16")),
    "latin-1 html": (
        b"text/html; charset=iso-8859-1",
        b"Content-Transfer-Encoding: quoted-printable\r\n",
        b"<p>Fini =E0 moiti=E9=\r\n",
    ),
}
READ_AS = {
    "unknown charset": ("done", "Erledigt! Grüße"),
    "invalid utf-8": ("done", "done \ufffd\ufffd\ufffd"),
    "utf-7": ("note", "Halfway été"),
    "broken base64": ("note", "[ë"),  # decoded leniently, as mail clients do
    "bogus encoded word": ("done", "done"),
    "8-bit charset name": ("done", "done"),
    "utf-16": ("done", "done"),
    "latin-1 html": ("note", "Fini à moitié"),  # half finished: a partial step is a note
}


@pytest.mark.parametrize("case", ENCODINGS)
async def test_broken_encodings_and_unknown_charsets_are_read_not_crashed_on(
    loop: Loop, tokens: dict[str, str], case: str
) -> None:
    content_type, headers, body = ENCODINGS[case]

    await deliver(loop, mail(tokens["c1"], body, headers=headers, content_type=content_type))

    assert [(e["intent"], e["text"]) for e in await history(loop)] == [READ_AS[case]]


SCRIPTED = (
    b"<html><head><script>alert('head')</script></head><body>"
    b"<p>Halfway there</p><SCRIPT type='text/javascript'>steal()</SCRIPT>"
    b"<svg><script>evil()</script></svg><style>p{}</style><noscript>noscript</noscript>"
    b"<img src=x onerror=\"alert('img')\"><a href=\"javascript:alert('a')\">link</a>"
    b"<iframe srcdoc=\"<script>alert('frame')</script>\"></iframe>"
    b"<scr<script>ipt>nested()</script>"
    b"<script>unclosed()"
)


async def test_html_scripts_never_reach_the_stored_words_or_the_coachs_digest(
    loop: Loop, tokens: dict[str, str]
) -> None:
    await deliver(loop, mail(tokens["c1"], SCRIPTED, content_type=b"text/html; charset=utf-8"))

    [entry] = await history(loop)
    assert entry["text"].startswith("Halfway there")
    stored = [*await loop.redis.lrange(keys.history("c1"), 0, -1)]
    stored += await loop.redis.lrange(keys.digest_entries("maria"), 0, -1)
    # "<scr<script>ipt>nested()" is text to a browser too (a tag named "scr<script"), and the
    # stored words are only ever shown escaped; what was inside real script tags is gone.
    for word in (b"alert", b"steal", b"evil", b"unclosed", b"<script", b"noscript", b"p{}"):
        assert [word in item for item in stored] == [False] * len(stored), word


async def test_nul_control_and_bidi_characters_never_reach_the_stored_words(
    loop: Loop, tokens: dict[str, str]
) -> None:
    body = "Halfway\x00 there\x1b[2J, \u202eevil\u202c fine\x7f\x85 ok".encode()
    headers = b"X-Nul: a\x00b\r\nSubject: Re:\x00 step\r\n"

    await deliver(loop, mail(tokens["c1"], body, headers=headers))

    [entry] = await history(loop)
    assert entry["text"] == "Halfway there[2J, evil fine ok"
    assert {unicodedata.category(c) for c in entry["text"]} & BIDI_AND_CONTROL == set()


addresses = st.sampled_from(
    ["ana@example.org", "bo@example.org", f"reply+x@{DOMAIN}", "postmaster@x"]
) | st.text(max_size=60)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    raw=st.binary(max_size=3000),
    recipients=st.lists(addresses, max_size=3),
    route=st.tuples(st.booleans(), st.sampled_from(["smtp", "imap", "postmark"])),
)
async def test_arbitrary_bytes_never_crash_the_intake_or_change_a_commitment_without_a_token(
    loop: Loop, tokens: dict[str, str], raw: bytes, recipients: list[str], route: tuple[bool, str]
) -> None:
    """Only c1's token can be in the message, so c2 never changes, nor c1 without it."""
    with_token, source = route
    if with_token:
        raw = f"To: <reply+{tokens['c1']}@{DOMAIN}>\r\n".encode() + raw
    before = await snapshot(loop)

    await deliver(loop, raw, source, *recipients)

    after = await snapshot(loop)
    assert after["c2"] == before["c2"]
    if not with_token:
        assert after["c1"] == before["c1"]
    pending = await loop.redis.xpending(keys.INBOX_STREAM, keys.INBOX_GROUP)
    assert pending["pending"] == 0
