"""What an SMTP server's reply means for coachd: a permanent refusal, or worth a retry."""

from __future__ import annotations

from collections.abc import Sequence

import aiosmtplib

from daemon.errors import PermanentSendError, SendError, TransientSendError
from daemon.logs import EMAIL_ADDRESS

PERMANENT_CLASS = 5  # first digit of 5xx replies
REPLY_CLASS_DIVISOR = 100
MAX_REASON_CHARS = 200
START_INPUT = 354
COMPLETED = 250
SERVICE_UNAVAILABLE = 421  # the server is closing the session: never reuse the client
FINAL_DOT = b".\r\n"


def classify(phase: str, exc: aiosmtplib.SMTPResponseException) -> SendError:
    """A 5xx reply is permanent; 4xx and anything unexpected are worth retrying."""
    why = reason(phase, exc)
    if reply_class(exc.code) == PERMANENT_CLASS:
        return PermanentSendError(why, exc.code)
    return TransientSendError(why, exc.code)


def reply_class(code: int) -> int:
    return code // REPLY_CLASS_DIVISOR


def reason(phase: str, exc: BaseException) -> str:
    """Say what failed, with the server's text stripped of addresses and trimmed."""
    detail = exc.message if isinstance(exc, aiosmtplib.SMTPException) else str(exc)
    # Server replies often echo the address ("<bob@example.com>: mailbox unknown").
    detail = EMAIL_ADDRESS.sub("<address>", detail).strip()
    if not detail:
        detail = type(exc).__name__
    return f"{phase}: {detail[:MAX_REASON_CHARS]}"


def recipients_refusal(
    refused: Sequence[aiosmtplib.SMTPRecipientRefused], count: int
) -> aiosmtplib.SMTPRecipientRefused | None:
    """The refusal that fails the envelope: none while any of `count` recipients was taken.

    Retry when any refusal may clear up (e.g. greylisting); else report the first 5xx.
    """
    if len(refused) < count:
        return None
    transient = [exc for exc in refused if reply_class(exc.code) != PERMANENT_CLASS]
    return (transient or refused)[0]
