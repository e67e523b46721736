"""coachd's exception tree: one root, shallow leaves that carry the data an operator needs."""

from __future__ import annotations

from pathlib import Path


class CoachdError(Exception):
    """Root of every error coachd raises on purpose."""


class SettingsError(CoachdError):
    """Raised when the operator's settings (environment, .env) are missing or invalid."""


class RedisClusterError(CoachdError):
    """Raised when the Redis coachd is pointed at is a Redis Cluster node: coachd's keys and
    scripts need one Redis (or a Sentinel-watched primary) today."""


class EmbeddedRedisError(CoachdError):
    """Raised when the embedded Redis cannot be found, started or reached."""


class DataDirInUseError(EmbeddedRedisError):
    """Raised when another process holds the data directory's lock (it runs the embedded
    Redis there): a second server on one append-only file would corrupt it."""

    def __init__(self, data_dir: Path, pid: int | None) -> None:
        holder = f"pid {pid}" if pid is not None else "another process"
        super().__init__(f"data directory {data_dir} is in use by {holder}")
        self.data_dir = data_dir
        self.pid = pid


class EmbeddedRedisLostError(EmbeddedRedisError):
    """Raised when the embedded redis-server died and could not be started again."""

    def __init__(self, attempts: int, log_path: Path) -> None:
        super().__init__(
            f"the embedded redis-server died and {attempts} restart(s) failed (see {log_path})"
        )
        self.attempts = attempts
        self.log_path = log_path


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


class StepGivenBack(RetryLater):
    """Raised when an email was not sent because the worker is stopping: no SMTP transaction
    was started (or it was cut off before its final dot) and its claims are released.
    It is due again at once, for the next worker; this start does not count."""

    def __init__(self) -> None:
        super().__init__(defer_s=0.0)


class RedisUnreachableError(CoachdError):
    """Raised when Redis does not answer a PING: the target (without its password) and why."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(f"cannot reach Redis at {target}: {reason}")
        self.target = target
        self.reason = reason


class OperatorRequestError(CoachdError):
    """Raised when an operator's command names something coachd does not hold (a dead letter,
    a failed step) or asks for what it will not do safely; the CLI prints it and exits 1."""
