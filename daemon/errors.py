"""coachd's exception tree: one root, shallow leaves that carry the data an operator needs."""

from __future__ import annotations


class CoachdError(Exception):
    """Root of every error coachd raises on purpose."""


class SettingsError(CoachdError):
    """Raised when the operator's settings (environment, .env) are missing or invalid."""


class EmbeddedRedisError(CoachdError):
    """Raised when the embedded Redis cannot be found, started or reached."""


class SendError(CoachdError):
    """Raised when an email could not be handed to the SMTP server."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason if code is None else f"{code} {reason}")
        self.reason = reason
        self.code = code


class TransientSendError(SendError):
    """Raised when the SMTP server or network failed in a way worth retrying (4xx, disconnect)."""


class PermanentSendError(SendError):
    """Raised when the SMTP server refused the message for good (5xx, recipient refused)."""


class UnknownOutcomeError(SendError):
    """Raised when the connection failed after the message body was sent.

    The server may have accepted it (RFC 1047), so it must not be sent again blindly.
    """


class RetryLater(CoachdError):
    """Raised when a step or coach email cannot go now but will later (a 4xx, Redis away).

    The dispatcher puts the step back `defer_s` from now; the worker boundary turns it into
    arq's own `Retry` for coach-email jobs, so nothing below the worker depends on arq.
    """

    def __init__(self, defer_s: float) -> None:
        super().__init__(f"retry in {defer_s:g} s")
        self.defer_s = defer_s
