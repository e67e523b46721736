"""What the coach's digest says about an email that did not reach the client (pure)."""

from __future__ import annotations

import aiosmtplib
import pytest
from jinja2 import TemplateNotFound

from daemon.errors import PermanentSendError, SendError, TransientSendError
from daemon.outbound.ledger import Outcome
from daemon.outbound.smtpreply import classify, reason
from daemon.outbound.undelivered import (
    gave_up_note,
    outcome_note,
    refused_note,
    uncomposed_note,
    undelivered_line,
)
from jobs.composer import ComposeError
from jobs.step import StepKind

RAW_DETAIL = ("<address>", "5.1.1", "Errno", "/etc/coachd", "refused:", "Error")


def _refused(phase: str, exc: aiosmtplib.SMTPResponseException) -> SendError:
    try:
        raise classify(phase, exc) from exc  # as the mailer raises it: the cause attached
    except SendError as raised:
        return raised


def _permanent(phase: str, exc: aiosmtplib.SMTPResponseException) -> PermanentSendError:
    error = _refused(phase, exc)
    assert isinstance(error, PermanentSendError)
    return error


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            _permanent(
                "envelope refused",
                aiosmtplib.SMTPRecipientRefused(550, "5.1.1 <ana@x.org>: no such user", "a@x"),
            ),
            "was not sent: their mail server says the address does not exist or takes no mail",
        ),
        (
            _permanent(
                "envelope refused", aiosmtplib.SMTPRecipientRefused(552, "5.2.2 full", "a@x")
            ),
            "was not sent: their mailbox is full",
        ),
        (
            _permanent(
                "envelope refused", aiosmtplib.SMTPSenderRefused(553, "5.7.1 relay denied", "b@x")
            ),
            "was not sent: the mail server coachd sends through refused it (not the client:",
        ),
        (
            _permanent("data refused", aiosmtplib.SMTPDataError(554, "5.7.1 spam")),
            "was not sent: their mail server refused the message",
        ),
        (
            PermanentSendError("envelope refused: address is not ASCII"),
            "was not sent: their address has characters coachd cannot send to",
        ),
    ],
)
def test_a_refusal_is_told_in_plain_words(error: PermanentSendError, words: str) -> None:
    note = refused_note(error)
    assert note.startswith(words)
    assert not [raw for raw in RAW_DETAIL if raw in note]


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            TransientSendError(reason("connect failed", OSError(111, "Connection refused"))),
            "coachd could not reach the mail server it sends through",
        ),
        (
            TransientSendError(
                reason("authentication failed", aiosmtplib.SMTPAuthenticationError(535, "no")),
                535,
            ),
            "coachd could not log in to the mail server it sends through",
        ),
        (
            TransientSendError("data refused: 4.2.0 try later", 451),
            "the mail server kept asking coachd to try again later",
        ),
        (
            TransientSendError(reason("disconnected before the end of data", OSError("reset"))),
            "the connection to the mail server kept breaking off",
        ),
    ],
)
def test_giving_up_on_a_passing_failure_says_what_kept_failing(
    error: TransientSendError, words: str
) -> None:
    note = gave_up_note(error, 8)
    assert note.startswith(f"was not sent after 8 tries: {words}")
    assert not [raw for raw in RAW_DETAIL if raw in note]


def test_an_email_that_could_not_be_written_names_no_file_or_exception() -> None:
    missing = TemplateNotFound("/etc/coachd/templates/maria/reminder/body.txt")
    assert uncomposed_note(missing) == (
        "was not sent: its template has a mistake (details are in the operator log)"
    )
    assert uncomposed_note(ComposeError("To", "not a plain ASCII local@domain address")) == (
        "was not sent: their email address cannot be used in an email"
    )
    assert uncomposed_note(TimeoutError()).startswith("was not sent: its template took too long")


def test_an_outcome_alone_still_reads_as_a_sentence() -> None:
    assert outcome_note(Outcome.SENT) == ""
    assert outcome_note(Outcome.FAILED) == "was not sent (details are in the operator log)"
    assert outcome_note(Outcome.UNKNOWN).startswith("may not have arrived: the mail server did")


def test_the_digest_line_names_the_email() -> None:
    assert undelivered_line(StepKind.REMINDER, "was not sent: x") == "the reminder was not sent: x"
    assert undelivered_line(StepKind.OVERDUE, "was not sent: x").startswith("the email with")
    assert undelivered_line(StepKind.REMINDER, "") == ""
