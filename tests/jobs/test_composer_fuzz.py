"""Fuzzing outgoing email: no text a client or coach controls can add a header or a recipient."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jobs.composer import (
    DISPLAY_NAME_MAX_CHARS,
    SUBJECT_MAX_CHARS,
    ComposeError,
    Composer,
    Envelope,
    RenderedMessage,
    one_line,
    thread_ids,
)
from jobs.step import StepKind

THREAD, DOMAIN, TO = "abcdefghijklmnop", "mail.example.org", "sam@example.com"
HEADERS = {
    "From",
    "To",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "List-Unsubscribe",
    "Auto-Submitted",
    "X-Auto-Response-Suppress",
    "MIME-Version",
    "Content-Type",
}
# Line breaks of every kind, NUL, bidi overrides, zero-width and the characters that give
# headers and addresses their structure, mixed into arbitrary Unicode.
TRICKS = [
    "\r", "\n", "\r\n", "\u2028", "\u2029", "\x85", "\x00", "\x0b", "\x0c", "\t", "\u202e",
    "\u202d", "\u2066", "\u200b", "\ufeff", ":", ";", ",", "<", ">", "@", '"', "\\", "(", ")",
    "=?", "?=", "=?utf-8?q?=0D=0A?=", "Bcc: evil@x.com", "\r\nBcc: evil@x.com",
    "\nTo: other@x.com", "\r\n\r\n<html>", " <evil@x.com>", "evil@x.com",
]  # fmt: skip
hostile = st.lists(st.sampled_from(TRICKS) | st.text(max_size=12), max_size=12).map("".join)
EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def composer() -> Composer:
    return Composer()


def envelope(**overrides: object) -> Envelope:
    message_id, in_reply_to, references = thread_ids(THREAD, 1, DOMAIN)
    base = Envelope(
        from_name="Ana at Bright Path",
        from_address="coach@bright.example",
        to_name="Sam",
        to_address=TO,
        reply_to="reply+token@bright.example",
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        list_unsubscribe="<mailto:unsubscribe+token@bright.example>",
        date=datetime(2026, 12, 4, 9, 0, tzinfo=UTC),
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def context(client: str, coach: str, action: str, why: str) -> dict[str, object]:
    return {
        "firm_name": "Bright Path",
        "coach_name": coach,
        "client_name": client,
        "action": action,
        "why": why,
        "due_date": "Friday 4 December",
        "days_until_due": 2,
        "overdue_days": 3,
        "questions": ["What would help?"],
        # ack
        "understood": "due",
        "lang": "en",
        "pause_until": "",
        "unanswered": 1,
    }


def parsed(raw: bytes) -> tuple[bytes, EmailMessage]:
    back = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(back, EmailMessage)
    return raw, back


def recipients(message: EmailMessage) -> list[str]:
    values = [str(v) for name in ("To", "Cc", "Bcc") for v in message.get_all(name, [])]
    return [address for _, address in getaddresses(values)]


def words_of(header: str) -> str:
    """A header's text without whitespace: RFC 2047 round trips may move spaces, nothing else."""
    return "".join(header.split())


def lines_of(body: str) -> list[str]:
    """Body lines: CR, LF and CRLF are all a line end once on the wire."""
    return body.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def assert_safe(raw: bytes, back: EmailMessage) -> None:
    """Exactly our headers, once each, one recipient, 7-bit and two body parts."""
    assert sorted(back.keys()) == sorted(HEADERS)
    assert recipients(back) == [TO]
    assert [a.addr_spec for a in back["From"].addresses] == ["coach@bright.example"]
    assert max(raw) < 0x80
    assert [p.get_content_type() for p in back.iter_parts()] == ["text/plain", "text/html"]


@EXAMPLES
@given(
    names=st.tuples(hostile, hostile),
    words=st.tuples(hostile.filter(bool), hostile),
    kind=st.sampled_from([StepKind.REMINDER, StepKind.OVERDUE, StepKind.REFLECTION]),
)
def test_hostile_names_and_words_cannot_add_headers_or_recipients(
    composer: Composer, names: tuple[str, str], words: tuple[str, str], kind: StepKind
) -> None:
    (client, coach), (action, why) = names, words
    rendered = composer.render(kind, context(client, coach, action, why))
    message = composer.compose(envelope(to_name=client, from_name=coach), rendered)

    raw, back = parsed(message)
    assert_safe(raw, back)
    shown = [back["To"].addresses[0].display_name, back["From"].addresses[0].display_name]
    expected = [one_line(client, DISPLAY_NAME_MAX_CHARS), one_line(coach, DISPLAY_NAME_MAX_CHARS)]
    assert [*map(words_of, shown), words_of(back["Subject"])] == [
        *map(words_of, expected),
        words_of(rendered.subject),
    ]


@EXAMPLES
@given(subject=hostile, text=hostile, html=hostile)
# Found by CI: quoted-printable encoding once swallowed a lone CR before a CRLF.
@example(subject="", text="a\r\r\nb", html="\n\r\r\nBcc: evil@x.com")
def test_a_hostile_subject_or_body_cannot_add_headers_or_recipients(
    composer: Composer, subject: str, text: str, html: str
) -> None:
    message = composer.compose(envelope(), RenderedMessage(subject, text, html))

    raw, back = parsed(message)
    assert_safe(raw, back)
    assert words_of(back["Subject"]) == words_of(one_line(subject, SUBJECT_MAX_CHARS))
    bodies = [lines_of(p.get_content()) for p in back.iter_parts()]
    assert bodies == [lines_of(text), lines_of(html)]


@EXAMPLES
@given(address=hostile | st.emails())
def test_any_to_address_is_used_alone_or_refused_with_compose_error(
    composer: Composer, address: str
) -> None:
    rendered = RenderedMessage("Your step", "t\n", "<p>t</p>\n")
    try:
        message = composer.compose(envelope(to_address=address), rendered)
    except ComposeError as refused:
        assert (refused.field, str(refused)) == ("To", "To: not a plain ASCII local@domain address")
        return
    _, back = parsed(message)
    assert sorted(back.keys()) == sorted(HEADERS)
    assert recipients(back) == [address]


def test_private_use_and_unassigned_characters_become_spaces_not_a_refused_message(
    composer: Composer,
) -> None:
    """Found by the fuzzer: the header guard refused them, so the email was never sent."""
    name, action = "Sam \uf8ff Lee", "draft \U00018cd6 the plan"  # Apple logo; unassigned
    rendered = composer.render(StepKind.REMINDER, context(name, "Ana", action, ""))

    raw, back = parsed(composer.compose(envelope(to_name=name), rendered))

    assert_safe(raw, back)
    assert (back["To"].addresses[0].display_name, back["Subject"]) == (
        "Sam Lee",
        "Your step: draft the plan",
    )
