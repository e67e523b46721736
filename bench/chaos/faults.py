"""The chaos sink's SMTP session: records what it accepts, and fails transactions at random.

One decision per transaction, taken at MAIL from a seeded generator: no fault, or one of
`Fault`'s kinds, which then strikes at its own phase (MAIL, RCPT, the body, or the final dot).
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from enum import StrEnum

from aiosmtpd.smtp import SMTP, Envelope, Session

# A slow final dot waits this long (uniform) before its 250: past the client's SMTP timeout
# it becomes an unknown outcome, below it only a slow server.
SLOW_DOT_S = (0.5, 3.0)
HANG_UP_S = 0.05
# Below the client's SMTP timeout, so a hold alone never fails a send.
HOLD_S = 1.2


class Fault(StrEnum):
    """A way one SMTP transaction goes wrong."""

    MAIL_421 = "mail_421"
    MAIL_451 = "mail_451"
    RCPT_421 = "rcpt_421"
    RCPT_451 = "rcpt_451"
    DROP_MID_DATA = "drop_mid_data"  # hang up after the first line of the body
    SLOW_DOT = "slow_dot"  # accept, after seconds
    REFUSED_DOT = "refused_dot"  # 451 after the final dot: not kept
    HANGUP_AFTER_DOT = "hangup_after_dot"  # close instead of replying: not kept


class Hold(StrEnum):
    """A transaction the harness asked to be held open HOLD_S, so it can kill its worker then."""

    AT_MAIL = "hold_at_mail"  # before the final dot: the step is only claimed
    AFTER_DOT = "hold_after_dot"  # the message is kept; the reply waits: the step is committing


@dataclass(frozen=True)
class Accepted:
    """One message the sink answered 250 (or was about to, when the client had gone)."""

    message_id: str
    rcpt: str
    mail_from: str
    at: float


class Faults:
    """The seeded fault plan and the sink's shared state (hooks run on aiosmtpd's thread)."""

    def __init__(self, seed: int, rate: float) -> None:
        self._random = random.Random(seed)  # noqa: S311 - a reproducible plan, not a secret
        self._rate = rate
        self._lock = threading.Lock()
        self._pending: dict[int, Fault | Hold] = {}  # client port -> its transaction's fault
        self._hold: Hold | None = None  # armed for the next transaction
        self._open: set[int] = set()  # client ports between MAIL and the end of DATA
        self.injected: Counter[str] = Counter()
        self.accepted: list[Accepted] = []

    def stop(self) -> None:
        """No more faults from now on (transactions already doomed still fail)."""
        with self._lock:
            self._rate = 0.0

    def hold_next(self, hold: Hold) -> None:
        with self._lock:
            self._hold = hold

    def begin(self, port: int) -> None:
        """A transaction starts (MAIL): decide its fault (or give it the armed hold)."""
        with self._lock:
            self._open.add(port)
            if self._hold is not None:
                self._pending[port], self._hold = self._hold, None
            elif self._rate and self._random.random() < self._rate:
                self._pending[port] = self._random.choice(list(Fault))
            else:
                self._pending.pop(port, None)

    def strike(self, port: int, *kinds: Fault | Hold) -> Fault | Hold | None:
        """The transaction's fault if it is one of `kinds` (it is then used up and counted)."""
        with self._lock:
            fault = self._pending.get(port)
            if fault not in kinds:
                return None
            del self._pending[port]
            self.injected[fault] += 1
            return fault

    def slow_dot_s(self) -> float:
        with self._lock:
            return self._random.uniform(*SLOW_DOT_S)

    def end(self, port: int) -> None:
        with self._lock:
            self._open.discard(port)
            self._pending.pop(port, None)

    def open_ports(self) -> set[int]:
        with self._lock:
            return set(self._open)

    def snapshot(self) -> tuple[list[Accepted], dict[str, int]]:
        """What it accepted so far, and the faults injected by kind."""
        with self._lock:
            return list(self.accepted), dict(self.injected)

    def record(self, envelope: Envelope) -> None:
        raw = envelope.original_content or b""
        headers = BytesHeaderParser().parsebytes(raw)
        accepted = Accepted(
            str(headers.get("Message-ID", "")).strip(),
            str(envelope.rcpt_tos[0]) if envelope.rcpt_tos else "",
            str(envelope.mail_from),
            time.time(),
        )
        with self._lock:
            self.accepted.append(accepted)


def peer_port(session: Session | None) -> int:
    """The client's port: it names a connection (and a transaction) on both ends."""
    assert session is not None
    peer = session.peer
    assert isinstance(peer, tuple)
    return int(peer[1])


class RecordingHandler:
    """Answers the final dot: slowly, with a refusal, with a hang-up, or 250 and a record."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        port = peer_port(session)
        try:
            fault = self.faults.strike(
                port, Fault.SLOW_DOT, Fault.REFUSED_DOT, Fault.HANGUP_AFTER_DOT, Hold.AFTER_DOT
            )
            if fault is Fault.REFUSED_DOT:
                return "451 4.3.0 chaos: refused after the dot"
            if fault is Fault.HANGUP_AFTER_DOT:
                assert server.transport is not None
                server.transport.close()
                return "451 never seen: the connection is closed"
            # Kept before the reply (as an MTA's queue file is): a client that stops listening
            # now (a slow dot, a hold, a killed worker) leaves an email that is delivered.
            self.faults.record(envelope)
            if fault is Fault.SLOW_DOT:
                await asyncio.sleep(self.faults.slow_dot_s())
            elif fault is Hold.AFTER_DOT:
                await asyncio.sleep(HOLD_S)
            return "250 OK"
        finally:
            self.faults.end(port)


class ChaosSMTP(SMTP):
    """aiosmtpd's session with the faults that strike before the final dot."""

    # Methods, not properties: aiosmtpd's start-up inspects every attribute of the session.
    def _plan(self) -> Faults:
        handler = self.event_handler
        assert isinstance(handler, RecordingHandler)
        return handler.faults

    def _port(self) -> int:
        return peer_port(self.session)

    async def _refuse(self, fault: Fault | Hold) -> None:
        code = 421 if fault in (Fault.MAIL_421, Fault.RCPT_421) else 451
        await self.push(f"{code} 4.3.0 chaos: {fault.value}")
        self._plan().end(self._port())
        if code == 421:  # 421: the server closes the channel (RFC 5321 3.8)
            assert self.transport is not None
            self.transport.close()

    async def smtp_MAIL(self, arg: str) -> None:
        self._plan().begin(self._port())
        fault = self._plan().strike(self._port(), Fault.MAIL_421, Fault.MAIL_451, Hold.AT_MAIL)
        if fault is Hold.AT_MAIL:
            await asyncio.sleep(HOLD_S)
        elif fault is not None:
            await self._refuse(fault)
            return
        await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg: str) -> None:
        fault = self._plan().strike(self._port(), Fault.RCPT_421, Fault.RCPT_451)
        if fault is not None:
            await self._refuse(fault)
            return
        await super().smtp_RCPT(arg)

    async def smtp_RSET(self, arg: str) -> None:
        self._plan().end(self._port())
        await super().smtp_RSET(arg)

    async def smtp_DATA(self, arg: str) -> None:
        if self._plan().strike(self._port(), Fault.DROP_MID_DATA) is None:
            await super().smtp_DATA(arg)
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        await self._reader.readline()  # the first line of the body, then hang up
        self._plan().end(self._port())
        assert self.transport is not None
        self.transport.close()
        # Let connection_lost cancel this session before it reads the rest of the body (already
        # buffered) as commands.
        await asyncio.sleep(HANG_UP_S)

    def connection_lost(self, error: Exception | None) -> None:
        if self.session is not None and isinstance(self.session.peer, tuple):
            self._plan().end(self._port())
        super().connection_lost(error)
