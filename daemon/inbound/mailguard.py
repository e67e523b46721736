"""What the SMTP/LMTP receiver lets a flood hold: sessions, sessions per client IP, DATA in flight.

The receiver asks `SessionGate` before it greets a connection and before it reads a DATA body;
refusals are counted and logged once per interval (a flood would otherwise write a line per
connection). `quiet_accept_errors` does the same for the event loop's `accept()` failures, which
asyncio reports with a full traceback each time (EMFILE under a flood).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import structlog

log = structlog.get_logger(__name__)

MiB = 1024 * 1024
DEFAULT_MAX_SESSIONS = 100
DEFAULT_MAX_SESSIONS_PER_IP = 20
DEFAULT_MAX_DATA_BYTES = 64 * MiB
DEFAULT_IDLE_TIMEOUT_S = 30.0
OVERLOAD_LOG_INTERVAL_S = 60.0
# A declared SIZE (RFC 1870) is the sender's estimate: CRLFs and dot-stuffing add a little.
SIZE_SLACK_FRACTION = 8  # 1/8 more than declared ...
SIZE_SLACK_BYTES = 16 * 1024  # ... plus this
# A body without a declared SIZE holds this much at DATA, then what has arrived: reserving a
# whole message up front let six senders that then sent a byte every few seconds hold the
# 64 MiB budget, and every other DATA got 452, for as long as they kept reconnecting.
UNSIZED_START_BYTES = 64 * 1024
# asyncio's context "message" when accept() fails for want of descriptors or memory.
ACCEPT_OUT_OF_RESOURCES = "socket.accept() out of system resource"


@dataclass(frozen=True)
class ReceiverLimits:
    """The receiver's bounds under a flood: concurrent sessions (all, per client IP), DATA bytes
    being received at once over all sessions, and how long a session may sit idle."""

    max_sessions: int = DEFAULT_MAX_SESSIONS
    max_sessions_per_ip: int = DEFAULT_MAX_SESSIONS_PER_IP
    max_data_bytes: int = DEFAULT_MAX_DATA_BYTES
    idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S
    overload_log_interval_s: float = OVERLOAD_LOG_INTERVAL_S


class Refusal(StrEnum):
    """Why the gate turned something away (a field of `receiver_overloaded`)."""

    SESSIONS = "sessions"
    SESSIONS_PER_IP = "sessions_per_ip"
    DATA_BYTES = "data_bytes"


class ThrottledLog:
    """Counts events by kind and writes one warning per interval with the counts since the last."""

    def __init__(self, event: str, interval_s: float, clock: Callable[[], float]) -> None:
        self._event = event
        self._interval_s = interval_s
        self._clock = clock
        self._last: float | None = None
        self._counts: Counter[str] = Counter()

    def note(self, kind: str, **fields: Any) -> None:
        self._counts[kind] += 1
        now = self._clock()
        if self._last is None or now - self._last >= self._interval_s:
            self._last = now
            self.flush(**fields)

    def flush(self, **fields: Any) -> None:
        """Write what was counted and not yet written (at most one line)."""
        if self._counts:
            log.warning(self._event, counts=dict(self._counts), **fields)
            self._counts.clear()


class SessionGate:
    """Admits sessions and DATA reservations within `ReceiverLimits`; shared by all sessions."""

    def __init__(
        self,
        limits: ReceiverLimits,
        max_message_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits
        self.max_message_bytes = max_message_bytes
        self.sessions = 0
        self.data_bytes = 0
        self._per_ip: Counter[str] = Counter()
        self.overload = ThrottledLog("receiver_overloaded", limits.overload_log_interval_s, clock)

    def admit(self, ip: str) -> Refusal | None:
        """Count a new session from `ip`, or say why it is refused (and count nothing)."""
        refusal = None
        if self.sessions >= self.limits.max_sessions:
            refusal = Refusal.SESSIONS
        elif self._per_ip[ip] >= self.limits.max_sessions_per_ip:
            refusal = Refusal.SESSIONS_PER_IP
        if refusal is not None:
            self._refused(refusal)
            return refusal
        self.sessions += 1
        self._per_ip[ip] += 1
        return None

    def leave(self, ip: str) -> None:
        self.sessions -= 1
        self._per_ip[ip] -= 1
        if self._per_ip[ip] <= 0:
            del self._per_ip[ip]

    def body_limit(self, declared_size: int | None) -> int:
        """The bytes one DATA may take: the declared SIZE with some slack, at most a message."""
        limit = self.max_message_bytes
        if declared_size is None:
            return limit
        slack = declared_size // SIZE_SLACK_FRACTION + SIZE_SLACK_BYTES
        return min(limit, declared_size + slack)

    @contextmanager
    def body_allowance(self, declared_size: int | None) -> Iterator[BodyAllowance | None]:
        """The DATA budget one body holds for the block: its declared SIZE up front, else
        UNSIZED_START_BYTES that grow as bytes arrive. None (holding nothing) when the budget
        cannot take the start now."""
        limit = self.body_limit(declared_size)
        start = limit if declared_size is not None else min(limit, UNSIZED_START_BYTES)
        if not self.hold(start):
            yield None
            return
        allowance = BodyAllowance(self, start, limit)
        try:
            yield allowance
        finally:
            self.data_bytes -= allowance.held

    def hold(self, nbytes: int) -> bool:
        """Take `nbytes` more of the DATA budget, or refuse (and take nothing)."""
        if self.data_bytes + nbytes > self.limits.max_data_bytes:
            self._refused(Refusal.DATA_BYTES)
            return False
        self.data_bytes += nbytes
        return True

    def _refused(self, refusal: Refusal) -> None:
        self.overload.note(refusal, sessions=self.sessions, data_bytes=self.data_bytes)


class BodyAllowance:
    """What one DATA body holds of the budget: at least what has arrived, up to `limit` (past
    it aiosmtpd drops the body and answers 552, so nothing more is held)."""

    def __init__(self, gate: SessionGate, held: int, limit: int) -> None:
        self._gate = gate
        self.held = held
        self.limit = limit
        self._arrived = 0

    def arrived(self, nbytes: int) -> bool:
        """Count `nbytes` more received; False when the budget cannot hold them."""
        self._arrived += nbytes
        wanted = min(self._arrived, self.limit) - self.held
        if wanted <= 0:
            return True
        if not self._gate.hold(wanted):
            return False
        self.held += wanted
        return True


ExceptionHandler = Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object]


@contextmanager
def quiet_accept_errors(
    interval_s: float = OVERLOAD_LOG_INTERVAL_S, clock: Callable[[], float] = time.monotonic
) -> Iterator[None]:
    """For the block, log the loop's accept() resource failures once per interval, without a
    traceback; every other loop error goes to the handler that was there before."""
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    throttled = ThrottledLog("receiver_accept_failed", interval_s, clock)

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") == ACCEPT_OUT_OF_RESOURCES:
            error = context.get("exception")
            throttled.note(getattr(error, "strerror", None) or type(error).__name__)
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handle)
    try:
        yield
    finally:
        throttled.flush()
        loop.set_exception_handler(previous)
