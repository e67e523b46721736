"""Hostile headers (long Content-Type parameter lists, floods of RFC 2047 words) are read within
the bound, and a forged message's many MIME parts cost nothing until a token matched.

Before the headers were bounded, the first case held a reader for 37 s in the envelope alone
(any sender, any forged token), the Subject flood 35 s and a Content-Type of 300,000 parameters
105 s: each far past the intake's 5 s limit, in a thread nothing can stop.
"""

from __future__ import annotations

import time

import pytest

from jobs.reading.intent import Asked
from jobs.reading.parts import MAX_RAW_HEADER_CHARS, header_text, parse_message
from jobs.reading.reply import read_content, read_envelope

BOUND_S = 2.0  # each case reads in under 0.3 s here; generous for a shared machine
TOKEN = "abcdefghijklmnop"
HEAD = (
    f"From: Ana <ana@example.org>\r\nTo: reply+{TOKEN}@reply.example\r\n"
    "Date: Tue, 01 Dec 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
)


def _folded(items: list[str], separator: str) -> str:
    return (separator + "\r\n ").join(items)


def _multipart_with_parameters(count: int) -> bytes:
    parameters = _folded([f'p{i}="x;y"' for i in range(count)], ";")
    return (
        f'{HEAD}Subject: Re: step\r\nContent-Type: multipart/mixed; boundary="b"; {parameters}'
        "\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nDone, sent it.\r\n--b--\r\n"
    ).encode()


def _plain_with_parameters(count: int) -> bytes:
    parameters = _folded([f'p{i}="x;y"' for i in range(count)], ";")
    return f"{HEAD}Subject: Re\r\nContent-Type: text/plain; {parameters}\r\n\r\nDone.\r\n".encode()


def _subject_of_words(count: int) -> bytes:
    words = _folded(["=?utf-8?q?abc?="] * count, "")
    return f"{HEAD}Subject: {words}\r\nContent-Type: text/plain\r\n\r\nDone.\r\n".encode()


def _from_of_words(count: int) -> bytes:
    words = _folded(["=?utf-8?b?YWJj?="] * count, "")
    head = HEAD.replace("From: Ana <ana@example.org>", f"From: {words}")
    return f"{head}Subject: Re\r\nContent-Type: text/plain\r\n\r\nDone.\r\n".encode()


HOSTILE = {
    "multipart_parameters": _multipart_with_parameters(300_000),
    "plain_parameters": _plain_with_parameters(300_000),
    "subject_words": _subject_of_words(500_000),
    "from_words": _from_of_words(400_000),
}


def _timed_read(raw: bytes) -> tuple[float, float, tuple[str, ...], str | None]:
    started = time.perf_counter()
    envelope = read_envelope(raw)
    between = time.perf_counter()
    reading = read_content(envelope, asked=(Asked("post the application"),))
    return between - started, time.perf_counter() - between, envelope.tokens, reading.intent


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_headers_are_read_within_the_bound(name: str) -> None:
    envelope_s, content_s, tokens, intent = _timed_read(HOSTILE[name])
    assert envelope_s < BOUND_S, f"{name}: envelope {envelope_s:.2f} s"
    assert content_s < BOUND_S, f"{name}: content {content_s:.2f} s"
    assert tokens == (TOKEN,)  # the message is still read, not dropped
    assert intent == "done"


def test_a_header_is_read_up_to_the_raw_bound_only() -> None:
    message = parse_message(_subject_of_words(10_000))
    subject = message["Subject"]
    assert len(subject) == MAX_RAW_HEADER_CHARS
    assert header_text(message, "Subject").startswith("abcabc")


def test_the_envelope_does_not_parse_the_body() -> None:
    """150,000 MIME parts: the envelope (all a forged message gets) reads the headers only."""
    parts = "".join("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(150_000))
    raw = f'{HEAD}Subject: Re\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n{parts}--b--'
    started = time.perf_counter()
    envelope = read_envelope(raw.encode())
    elapsed = time.perf_counter() - started
    assert envelope.tokens == (TOKEN,)
    assert envelope.message is not None and not envelope.message.is_multipart()
    assert elapsed < BOUND_S / 2, f"{elapsed:.2f} s"  # a full parse took ~2 s here
