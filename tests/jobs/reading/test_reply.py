"""The reply reader over a corpus of raw messages, plus hostile inputs that must never raise."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.reading.reply import ReadReply, read_reply

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text("utf-8"))


def _read(name: str) -> ReadReply:
    return read_reply((CORPUS / name).read_bytes())


def test_every_corpus_file_has_an_expectation() -> None:
    """No .eml sits in the corpus unchecked, and no expectation points at a missing file."""
    files = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.eml")}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_kind(name: str) -> None:
    """Each message is read as the kind (reply, auto_reply, bounce) its folder says."""
    assert _read(name).kind == EXPECTED[name]["kind"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_intent_and_dates(name: str) -> None:
    """Intent, new due date and pause date match the expectations (relative to the Date header)."""
    reading = _read(name).as_json()
    expected = EXPECTED[name]
    actual = {key: reading[key] for key in ("intent", "new_due", "pause_until")}
    assert actual == {key: expected[key] for key in ("intent", "new_due", "pause_until")}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_text_is_new_words_only(name: str) -> None:
    """The new words are kept; quoted history, phone lines, signatures and disclaimers are not."""
    text = _read(name).text
    expected = EXPECTED[name]
    assert [s for s in expected["text_contains"] if s not in text] == []
    assert [s for s in expected["text_excludes"] if s in text] == []


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e["kind"] == "bounce"))
def test_corpus_bounce_details(name: str) -> None:
    """Bounces name the failed recipient, whether it is permanent, and the original message."""
    reading = _read(name)
    expected = EXPECTED[name]
    assert (reading.bounce_recipient, reading.bounce_permanent) == (
        expected["bounce_recipient"],
        expected["bounce_permanent"],
    )
    assert reading.text == ""
    assert set(expected.get("references_contains", [])) <= set(reading.references)


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if "tokens" in e))
def test_corpus_tokens(name: str) -> None:
    """Tokens come from reply+/unsubscribe+/bounces+ addresses in the recipient headers."""
    assert list(_read(name).tokens) == EXPECTED[name]["tokens"]


def test_reasons_explain_the_reading() -> None:
    """Reasons say which rule decided, e.g. the date phrase and the date it resolved to."""
    reading = _read("reply/webmail_html_reschedule_en.eml")
    assert "date phrase 'next Friday' → 2026-12-04" in reading.reasons
    auto = _read("auto_reply/exchange_ooo_en.eml")
    assert "Auto-Submitted: auto-generated" in auto.reasons


def test_as_json_is_json_safe() -> None:
    """as_json round-trips through json with ISO dates and the documented keys."""
    data = _read("reply/command_new_date.eml").as_json()
    assert json.loads(json.dumps(data)) == data
    assert {"kind", "intent", "new_due", "text", "reasons"} <= set(data)
    assert data["new_due"] == "2026-12-04"
    assert data["sent_at"] == "2026-11-25T18:00:00+01:00"


def _raw(body: str, date_header: str = "Wed, 25 Nov 2026 23:30:00 +0000", **headers: str) -> bytes:
    lines = [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    if date_header:
        lines.append(f"Date: {date_header}")
    return ("\r\n".join(["From: client@example.com", *lines]) + "\r\n\r\n" + body).encode()


def test_zone_decides_the_reply_day() -> None:
    """23:30 UTC on Wednesday is already Thursday in Tokyo: "tomorrow" is Friday there."""
    raw = _raw("I'll do it tomorrow")
    assert read_reply(raw).new_due == date(2026, 11, 26)
    assert read_reply(raw, zone=ZoneInfo("Asia/Tokyo")).new_due == date(2026, 11, 27)


def test_received_at_wins_over_the_date_header() -> None:
    """A reply whose Date header lies is dated by when it was received."""
    raw = _raw("snooze 3d")
    received = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert read_reply(raw, received_at=received).new_due == date(2026, 12, 4)


def test_no_date_at_all_says_so() -> None:
    """Without a Date header or receive time, relative dates stay unresolved and reasons say why."""
    reading = read_reply(_raw("Can we do it next Friday?", date_header=""))
    assert (reading.intent, reading.new_due) == ("note", None)
    assert any("no Date header" in reason for reason in reading.reasons)


def test_tokens_from_envelope_recipients() -> None:
    """Envelope recipients passed by the receiver count as well as the headers."""
    raw = _raw("done", To="Coach <reply+abc234@reply.example>", Cc="bounces+XYZ@reply.example")
    reading = read_reply(raw, recipients=["<unsubscribe+qqq@reply.example>", "other@example.com"])
    assert reading.tokens == ("abc234", "xyz", "qqq")


def test_references_keep_order_and_brackets() -> None:
    """In-Reply-To comes first, then References, without duplicates."""
    raw = _raw("ok", In_Reply_To="<b@x>", References="<a@x> <b@x>")
    assert read_reply(raw).references == ("<b@x>", "<a@x>")


# --- hostile input -------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    """Whatever arrives, a ReadReply comes back."""
    assert isinstance(read_reply(raw), ReadReply)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=2000))
def test_arbitrary_text_bodies_never_raise(body: str) -> None:
    """Arbitrary words after valid headers are read without an exception."""
    reading = read_reply(_raw(body))
    assert reading.kind in {"reply", "auto_reply", "bounce"}


def test_deeply_nested_mime_is_capped() -> None:
    """A thousand nested multiparts neither recurse out of stack nor hang."""
    depth = 1000
    head = "".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth)
    )
    tail = "".join(f"\r\n--b{i}--\r\n" for i in reversed(range(depth)))
    raw = ("From: a@example.com\r\nMIME-Version: 1.0\r\n" + head + "\r\ndone" + tail).encode()
    assert isinstance(read_reply(raw), ReadReply)


def test_unknown_charset_falls_back() -> None:
    """An unknown charset decodes as UTF-8 rather than failing."""
    raw = (
        b"From: a@example.com\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\n"
        b"Subject: =?x-klingon?q?Re=3A_hi?=\r\n"
        b'Content-Type: text/plain; charset="x-klingon"\r\n\r\nErledigt! Gr\xc3\xbc\xc3\x9fe'
    )
    reading = read_reply(raw)
    assert (reading.intent, reading.text) == ("done", "Erledigt! Grüße")


def test_broken_base64_and_bad_date_are_survived() -> None:
    """A broken base64 body and an impossible Date header give a note, not an exception."""
    raw = (
        b"From: a@example.com\r\nDate: Thu, 99 Foo 20262 99:99:99 +9999\r\n"
        b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not*base64==="
    )
    reading = read_reply(raw)
    assert (reading.kind, reading.sent_at) == ("reply", None)


def test_huge_body_is_capped() -> None:
    """A 5 MB body is read (capped) and the first words still decide."""
    raw = _raw("done\n" + "blah " * 1_000_000)
    reading = read_reply(raw)
    assert reading.intent == "done"
    assert len(reading.text) <= 256 * 1024


def test_html_scripts_are_never_text() -> None:
    """Script and style content is dropped from HTML bodies, never executed or kept."""
    html = "<html><script>stop()</script><style>.done{}</style><p>Finished it!</p></html>"
    raw = _raw(html, Content_Type="text/html; charset=utf-8")
    reading = read_reply(raw)
    assert (reading.text, reading.intent) == ("Finished it!", "done")
