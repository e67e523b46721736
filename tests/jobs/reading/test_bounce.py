"""Bounce reading: detection, the gone/refused/complaint class and the recipient, per rule."""

from __future__ import annotations

import time

import pytest

from jobs.reading.bounce import BounceReading, read_bounce
from jobs.reading.failure import classify_failure
from jobs.reading.parts import parse_message

MAX_SECONDS_FOR_HUGE_BOUNCE = 5.0
HUGE_BODY_BYTES = 5 * 1024 * 1024


def _report(
    status: str, diagnostic: str, action: str = "failed", rcpt: str = "ana@example.org"
) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        "To: reply+abc@reply.coachd.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; "
        'boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nThe mail system\r\n\r\n'
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n"
        f"\r\nFinal-Recipient: rfc822; {rcpt}\r\nAction: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; {diagnostic}\r\n\r\n--b--\r\n"
    ).encode()


def _legacy(sender: str, subject: str, body: str, extra: str = "") -> bytes:
    return (
        f"From: {sender}\r\nTo: reply+abc@reply.coachd.example\r\nSubject: {subject}\r\n{extra}"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body
    ).encode()


def _read(raw: bytes) -> BounceReading | None:
    return read_bounce(parse_message(raw))


@pytest.mark.parametrize(
    ("status", "diagnostic", "expected"),
    [
        ("5.1.1", "550 5.1.1 <ana@example.org>: Recipient address rejected", "gone"),
        ("5.1.2", "550 5.1.2 Host unknown", "gone"),
        ("5.2.1", "550 5.2.1 The account is disabled", "gone"),
        ("5.7.13", "525 5.7.13 Disabled recipient address", "gone"),
        ("5.2.2", "552 5.2.2 Over quota", "refused"),
        ("5.3.4", "552 5.3.4 Message too big", "refused"),
        ("5.7.1", "550 5.7.1 Message rejected as spam", "refused"),
        ("4.4.7", "Delivery time expired", "refused"),
        ("5.1.8", "501 5.1.8 Sender address rejected", "refused"),
    ],
)
def test_report_class_follows_the_enhanced_code(
    status: str, diagnostic: str, expected: str
) -> None:
    """RFC 3463 codes decide: bad mailbox/system/disabled are gone, full/size/policy refused."""
    reading = _read(_report(status, diagnostic))
    assert reading is not None
    assert (reading.bounce_class, reading.permanent) == (expected, expected == "gone")


def test_remote_server_code_in_the_diagnostic_beats_the_generic_status() -> None:
    """A relay's 5.0.0 wrapping the remote server's 5.2.2 is a full mailbox."""
    reading = _read(_report("5.0.0", "5.1.0 - Unknown address error 550-'5.2.2 Mailbox Full'"))
    assert reading is not None and reading.bounce_class == "refused"


def test_blacklist_words_beat_a_catch_all_user_unknown_code() -> None:
    """Servers that send 5.1.1 for everything still say "blacklisted" in their reply."""
    reading = _read(_report("5.1.1", "550 5.7.1 IP address blacklisted by recipient"))
    assert reading is not None and reading.bounce_class == "refused"


def test_vague_code_falls_back_to_the_words() -> None:
    """5.0.0 says nothing; "User unknown" in the SMTP reply says gone."""
    assert classify_failure("5.0.0", ("550 <x@y.example>: User unknown", "")) == "gone"
    assert classify_failure("5.0.0", ("554 Service currently unavailable", "")) == "refused"


def test_rejected_sender_stage_is_refused() -> None:
    """A rejection after MAIL FROM is about our sender, whatever the words say."""
    text = "SMTP error from remote mail server after MAIL FROM:<a@b.example>: 550 No such domain"
    assert classify_failure(None, (text,)) == "refused"


@pytest.mark.parametrize(
    "text",
    [
        "said: 550 Unknown user kijitora@example.net (in reply to end of DATA command)",
        "SMTP error from remote mail server after end of data: 550 Unknown user",
    ],
)
def test_a_user_unknown_at_the_end_of_data_is_a_filter_s_refusal(text: str) -> None:
    """The server took the recipient at RCPT TO (RFC 5321 3.3): refused after the data, it is
    this message a filter refused, not an address that does not exist."""
    assert classify_failure("5.0.0", (text,)) == "refused"
    assert classify_failure("5.0.0", ("550 Unknown user (in reply to RCPT TO command)",)) == "gone"


def test_delivered_report_is_no_bounce() -> None:
    """Action: delivered / relayed (or a 2.x.x Status) is a success notice."""
    assert _read(_report("2.0.0", "250 OK", action="delivered")) is None
    assert _read(_report("2.1.5", "250 OK", action="relayed")) is None


def test_trailing_colon_and_quotes_are_stripped_from_the_recipient() -> None:
    """1&1 writes `x@y.fr:`, GMX `"x@y.jp":`; both are the bare address."""
    body = (
        "Delivery has failed to these recipients:\n\n" + '"ana@example.fr":\n 550 blocked as spam\n'
    )
    reading = _read(_legacy("mailer-daemon@gmx.example", "Mail delivery failed", body))
    assert reading is not None
    assert (reading.recipient, reading.bounce_class) == ("ana@example.fr", "refused")
    reading = _read(_report("5.7.1", "spam", rcpt="ana@example.fr:"))
    assert reading is not None and reading.recipient == "ana@example.fr"


def test_legacy_exim_with_x_failed_recipients() -> None:
    """No DSN part: the daemon sender, X-Failed-Recipients and Exim's wording are enough."""
    body = (
        "A message that you sent could not be delivered to one or more of its recipients. "
        "This is a permanent error. The following address(es) failed:\n\n  bo@example.net\n"
        "    Unrouteable address\n"
    )
    raw = _legacy(
        "Mail Delivery System <Mailer-Daemon@mx.example>",
        "Mail delivery failed",
        body,
        extra="X-Failed-Recipients: bo@example.net\r\nAuto-Submitted: auto-replied\r\n",
    )
    reading = _read(raw)
    assert reading is not None
    assert (reading.recipient, reading.bounce_class) == ("bo@example.net", "gone")


def test_legacy_japanese_full_mailbox_from_a_no_reply_sender() -> None:
    """KDDI-like: Japanese subject and wording, mailbox full, no status code at all."""
    body = (
        "送信先のメールボックスが一杯のため、送信できませんでした。\n"
        " Could not be delivered to: <ken@example.jp>\n"
    )
    reading = _read(_legacy("no-reply@mail.example.jp", "メールエラー通知", body))
    assert reading is not None
    assert (reading.recipient, reading.bounce_class) == ("ken@example.jp", "refused")


def test_legacy_russian_notice() -> None:
    """Mail.ru-like Russian wording from mailer-daemon."""
    body = (
        "\u041a сожалению, Ваше письмо не может быть доставлено:\n\n"  # \u041a: Cyrillic Ka
        "  ivan@example.ru\n    user unknown\n"
    )
    reading = _read(_legacy("mailer-daemon@corp.example.ru", "Mail failure.", body))
    assert reading is not None
    assert (reading.recipient, reading.bounce_class) == ("ivan@example.ru", "gone")


def test_qmail_text_with_a_code_in_the_prose() -> None:
    """qmail: "I'm afraid I wasn't able to deliver", `<addr>:` line, (#5.1.1)."""
    body = (
        "Hi. This is the qmail-send program at mx.example.\nI'm afraid I wasn't able to deliver "
        "your message to the following addresses.\n\n<lu@example.com>:\nSorry, no mailbox here "
        "by that name. (#5.1.1)\n"
    )
    reading = _read(_legacy("MAILER-DAEMON@mx.example", "failure notice", body))
    assert reading is not None
    assert (reading.recipient, reading.bounce_class) == ("lu@example.com", "gone")


def test_one_cue_alone_is_no_bounce() -> None:
    """A person whose subject says "undeliverable" is still a person."""
    raw = _legacy("ana@example.org", "Re: the undeliverable parcel", "It arrived today, thanks!")
    assert _read(raw) is None


def test_arf_feedback_report_is_a_complaint() -> None:
    """RFC 5965: the complaint names the recipient in Original-Rcpt-To."""
    raw = (
        b"From: fbl@isp.example\r\nTo: abuse@coachd.example\r\nSubject: Abuse report\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; "
        b'boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nThis is an abuse report\r\n'
        b"--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\n"
        b"User-Agent: FBL/1.0\r\nVersion: 1\r\nOriginal-Rcpt-To: <cat@example.net>\r\n\r\n"
        b"--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: coach@coachd.example\r\n"
        b"To: cat@example.net\r\nSubject: Your step\r\n\r\nHi\r\n--b--\r\n"
    )
    reading = _read(raw)
    assert reading is not None
    assert (reading.bounce_class, reading.recipient, reading.permanent) == (
        "complaint",
        "cat@example.net",
        False,
    )


def test_a_5_mb_bounce_is_read_in_bounded_time() -> None:
    """Caps on parts and characters keep a huge body linear and fast."""
    filler = ("x" * 75 + " <a@b " + "5." * 4 + "\n") * (HUGE_BODY_BYTES // 90)
    body = "This is the mail system at host mx.example.\n<ana@example.org>: user unknown\n" + filler
    started = time.perf_counter()
    reading = _read(_legacy("MAILER-DAEMON@mx.example", "Undelivered Mail", body))
    assert time.perf_counter() - started < MAX_SECONDS_FOR_HUGE_BOUNCE
    assert reading is not None and reading.recipient == "ana@example.org"


def test_postfix_s_recipient_address_rejected_prefix_is_read_past() -> None:
    # Postfix writes the prefix for every RCPT restriction; what follows it decides.
    rejected = "550 {} <a@b.example>: Recipient address rejected: {}"
    policy = rejected.format("5.7.26", "Multiple authentication checks failed")
    unknown = rejected.format("5.1.1", "User unknown in local recipient table")
    exchange = rejected.format("5.4.1", "Access denied")
    assert classify_failure("5.7.26", (policy, "")) == "refused"
    assert classify_failure("5.1.1", (unknown, "")) == "gone"
    assert classify_failure("5.4.1", (exchange, "")) == "gone"  # Exchange Online: no such user
