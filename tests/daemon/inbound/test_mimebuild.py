"""Rebuilding messages from webhook fields, fuzzed: hostile fields never inject or crash."""

from __future__ import annotations

import contextlib
import email
import email.policy
import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from daemon.inbound.form import parse_form
from daemon.inbound.message import InboundMessage
from daemon.inbound.mimebuild import MalformedPayloadError, build_message, clean_header_value
from daemon.inbound.providers import parse_mailgun, parse_postmark, parse_sendgrid

FUZZ = settings(max_examples=100, deadline=None)
INJECTED = "X-Injected"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
POSTMARK_KEYS = [
    "From",
    "FromFull",
    "To",
    "ToFull",
    "Subject",
    "Date",
    "Headers",
    "RawEmail",
    "TextBody",
    "HtmlBody",
    "MessageID",
    "OriginalRecipient",
    "Cc",
    "ReplyTo",
]
FORM_KEYS = [
    "from",
    "to",
    "subject",
    "recipient",
    "headers",
    "message-headers",
    "body-plain",
    "body-html",
    "text",
    "html",
    "envelope",
    "charsets",
    "email",
    "body-mime",
]


def header_names(raw: bytes) -> list[str]:
    return list(email.message_from_bytes(raw, policy=email.policy.default).keys())


def test_line_breaks_in_a_value_cannot_start_a_header() -> None:
    raw = build_message([("Subject", f"hi\r\n{INJECTED}: 1\nBcc: evil@example.org")], "x", None)
    assert header_names(raw) == [
        "Subject",
        "Content-Type",
        "Content-Transfer-Encoding",
        "MIME-Version",
    ]
    assert clean_header_value("a\r\n b\rc\x00d") == "a b c d"


def test_bad_names_structural_headers_and_repeated_singletons_are_dropped() -> None:
    headers = [
        ("From", "a@example.org"),
        ("From", "b@example.org"),
        ("Bad Name", "x"),
        ("Content-Type", "multipart/mixed; boundary=zz"),
        ("Received", "1"),
        ("Received", "2"),
    ]
    message = email.message_from_bytes(
        build_message(headers, "x", None), policy=email.policy.default
    )
    assert (message["From"], message.get_all("Received")) == ("a@example.org", ["1", "2"])
    assert message.get_content_type() == "text/plain"


@pytest.mark.parametrize(
    ("given_date", "expected"),
    [
        ("Tue, 1 Dec 2026 09:14:27 +01:00", "Tue, 01 Dec 2026 09:14:27 +0100"),
        ("yesterday-ish", None),
    ],
)
def test_dates_are_normalised_or_left_out(given_date: str, expected: str | None) -> None:
    message = email.message_from_bytes(
        build_message([("Date", given_date)], "x", None), policy=email.policy.default
    )
    assert message["Date"] == expected


@FUZZ
@given(
    st.lists(st.tuples(st.text(max_size=20), st.text(max_size=80)), max_size=8),
    st.none() | st.text(max_size=200),
    st.none() | st.text(max_size=200),
)
def test_any_fields_rebuild_without_injection_or_crash(
    headers: list[tuple[str, str]], text: str | None, html: str | None
) -> None:
    try:
        raw = build_message([*headers, ("Subject", f"s\n{INJECTED}: 1")], text, html)
    except MalformedPayloadError:
        return
    given_names = {name.strip().lower() for name, _ in headers}
    assert INJECTED.lower() not in {n.lower() for n in header_names(raw)} - given_names


@FUZZ
@given(st.dictionaries(st.sampled_from(POSTMARK_KEYS), json_values))
def test_any_postmark_json_is_read_or_refused(payload: dict[str, object]) -> None:
    try:
        result = parse_postmark(json.dumps(payload).encode())
    except MalformedPayloadError as exc:
        assert len(exc.reason) < 80
        return
    assert isinstance(result, InboundMessage)


@FUZZ
@given(st.dictionaries(st.sampled_from(FORM_KEYS), st.binary(max_size=120)))
# Found by the fuzz: the stdlib's address parser raised AttributeError on this group.
@example({"from": b':>==?utf-8?q?x?=;::=)" '})
def test_any_form_fields_are_read_or_refused(fields: dict[str, bytes]) -> None:
    for parse in (parse_mailgun, parse_sendgrid):
        with contextlib.suppress(MalformedPayloadError):
            assert isinstance(parse(fields), InboundMessage)


@FUZZ
@given(
    st.binary(max_size=300),
    st.sampled_from(
        [
            "multipart/form-data; boundary=xYzZY",
            "application/x-www-form-urlencoded",
            "text/plain",
            "",
        ]
    ),
)
def test_any_body_parses_as_a_form_or_is_refused(body: bytes, content_type: str) -> None:
    try:
        fields = parse_form(
            content_type, b"--xYzZY\r\n" + body if "multipart" in content_type else body
        )
    except MalformedPayloadError:
        return
    assert all(isinstance(value, bytes) for value in fields.values())
