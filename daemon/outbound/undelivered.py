"""What the coach's digest says about an email that did not, or may not, reach the client.

The coach reads a short reason in plain words; the SMTP reply, the exception and any file
path stay in the operator's log (`email_not_sent`) and the commitment's `last_error`.
"""

from __future__ import annotations

import aiosmtplib
from jinja2 import TemplateError

from daemon.errors import PermanentSendError, TransientSendError
from daemon.outbound.ledger import Outcome
from jobs.composer import ComposeError
from jobs.step import StepKind

# The phases daemon.outbound.mailer names at the start of a SendError's reason.
_AUTH, _CONNECT_FAILED = "authentication failed", "connect failed"
_CONNECT_REFUSED, _ENVELOPE = "connect refused", "envelope refused"
_NOT_ASCII = "address is not ASCII"
MAILBOX_FULL = 552  # RFC 5321: exceeded storage allocation

_EMAIL_NAMES = {
    StepKind.REMINDER: "the reminder",
    StepKind.OVERDUE: "the email with questions",
    StepKind.REFLECTION: "the reflection",
    StepKind.ACK: "the confirmation of their reply",
    StepKind.BLOCKED: "the “what would help?” email",
    StepKind.COACH_QUIET: "the note to you that they went quiet",
}
NOT_SENT, MAY_NOT_HAVE_ARRIVED = "was not sent", "may not have arrived"
OPERATOR_LOG = "details are in the operator log"
UNEXPLAINED_NOTE = f"{NOT_SENT} ({OPERATOR_LOG})"
UNKNOWN_NOTE = (
    f"{MAY_NOT_HAVE_ARRIVED}: the mail server did not confirm it, and coachd did not send it"
    " again so as not to send it twice"
)


def undelivered_line(kind: StepKind, note: str) -> str:
    """The digest's words for one email, e.g. "the reminder was not sent: their mail server
    says the address does not exist"; empty when there is nothing to say (it was sent)."""
    return f"{_EMAIL_NAMES.get(kind, 'the email')} {note}" if note else ""


def outcome_note(outcome: Outcome) -> str:
    """What an earlier run's outcome says when only the outcome is left (a run that died)."""
    if outcome is Outcome.FAILED:
        return UNEXPLAINED_NOTE
    return UNKNOWN_NOTE if outcome is not Outcome.SENT else ""


def refused_note(exc: PermanentSendError) -> str:
    """A 5xx: the server will not take this email, now or later."""
    phase, _, detail = exc.reason.partition(": ")
    if phase == _ENVELOPE and detail == _NOT_ASCII:
        why = "their address has characters coachd cannot send to"
    elif isinstance(exc.__cause__, aiosmtplib.SMTPSenderRefused) or phase == _CONNECT_REFUSED:
        why = f"the mail server coachd sends through refused it (not the client: {OPERATOR_LOG})"
    elif phase == _ENVELOPE and exc.code == MAILBOX_FULL:
        why = "their mailbox is full"
    elif phase == _ENVELOPE:
        why = "their mail server says the address does not exist or takes no mail"
    else:
        why = "their mail server refused the message"
    return f"{NOT_SENT}: {why}"


def gave_up_note(exc: TransientSendError, tries: int) -> str:
    """A failure worth retrying that kept happening until the last try."""
    phase = exc.reason.partition(": ")[0]
    if phase == _AUTH:
        why = f"coachd could not log in to the mail server it sends through ({OPERATOR_LOG})"
    elif phase == _CONNECT_FAILED:
        why = f"coachd could not reach the mail server it sends through ({OPERATOR_LOG})"
    elif exc.code is not None:
        why = "the mail server kept asking coachd to try again later"
    else:
        why = "the connection to the mail server kept breaking off"
    return f"{NOT_SENT} after {tries} tries: {why}"


def uncomposed_note(exc: BaseException) -> str:
    """The email could not be written: a template, or an address unfit for a header."""
    if isinstance(exc, ComposeError) and exc.field == "To":
        why = "their email address cannot be used in an email"
    elif isinstance(exc, TimeoutError):
        why = f"its template took too long to fill in ({OPERATOR_LOG})"
    elif isinstance(exc, TemplateError):
        why = f"its template has a mistake ({OPERATOR_LOG})"
    else:
        why = f"it could not be written ({OPERATOR_LOG})"
    return f"{NOT_SENT}: {why}"
