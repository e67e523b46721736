"""A recording SMTP server for the tests, able to fail, refuse or hang up when a test asks."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from collections import Counter
from dataclasses import dataclass, replace
from email.message import EmailMessage
from typing import Any, Literal

from aiosmtpd.smtp import SMTP, Envelope, Session

from daemon.demo.smtpsink import LocalSmtpServer
from daemon.outbound.mailer import SmtpConfig

LOOPBACK = "127.0.0.1"
TEST_SMTP_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class RecordedMessage:
    """One message the test SMTP server accepted with 250."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    message: EmailMessage


# Ways the test server can hang up in the middle of a session.
SessionFault = Literal["drop_mid_body", "hang_up_at_data"]


class RecordingHandler:
    """aiosmtpd handler that records accepted messages and injects faults on request.

    Hooks run on the controller's thread, so shared state is guarded by a lock.
    """

    def __init__(self, *, pipelining: bool = False) -> None:
        self.pipelining = pipelining  # advertise PIPELINING (aiosmtpd reads commands in order)
        self.messages: list[RecordedMessage] = []
        self.connections = 0  # sessions that said EHLO/HELO
        self._mid_transaction: set[int] = set()  # client ports between MAIL and DATA's end
        self._lock = threading.Lock()
        self._fail_next: list[int] = []
        self._refused: dict[str, int] = {}
        self._disconnect_next = 0
        self._session_faults: Counter[SessionFault] = Counter()  # armed, each used once
        self._delay = 0.0
        self._mail_delay = 0.0
        self.mail_times: list[float] = []  # wall clock of each MAIL FROM received
        self.dots: list[str] = []  # first recipient of each message whose final dot arrived

    def drop_mid_body_next(self, n: int = 1) -> None:
        """Close the next `n` connections in the middle of a message body (before the dot)."""
        self._arm("drop_mid_body", n)

    def hang_up_at_data_next(self, n: int = 1) -> None:
        """Close the next `n` connections right after inviting the body (354)."""
        self._arm("hang_up_at_data", n)

    def _arm(self, fault: SessionFault, n: int) -> None:
        with self._lock:
            self._session_faults[fault] += n

    def take(self, fault: SessionFault) -> bool:
        """Whether `fault` is armed; using it disarms one."""
        with self._lock:
            armed = self._session_faults[fault] > 0
            self._session_faults[fault] -= int(armed)
            return armed

    def fail_next(self, n: int = 1, code: int = 451) -> None:
        """Reply `code` instead of 250 to the next `n` DATA transactions."""
        with self._lock:
            self._fail_next.extend([code] * n)

    def refuse_recipient(self, address: str, code: int = 550) -> None:
        """Refuse RCPT TO `address` with `code` from now on."""
        with self._lock:
            self._refused[address.lower()] = code

    def refuse_sender(self, address: str, code: int) -> None:
        """Refuse MAIL FROM `address` with `code` from now on (the recipients' key space)."""
        self.refuse_recipient(f"from:{address}", code)

    def accept_recipient(self, address: str) -> None:
        """Stop refusing `address` (the server's problem was put right)."""
        with self._lock:
            self._refused.pop(address.lower(), None)

    def disconnect_next_data(self, n: int = 1) -> None:
        """Drop the connection after the next `n` message bodies, before replying (not stored)."""
        with self._lock:
            self._disconnect_next += n

    def delay_data(self, seconds: float) -> None:
        """Wait `seconds` after each message body before accepting it."""
        with self._lock:
            self._delay = seconds

    def delay_mail(self, seconds: float) -> None:
        """Wait `seconds` before answering each MAIL FROM (a transaction slow before DATA)."""
        with self._lock:
            self._mail_delay = seconds

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        with self._lock:
            self.connections += 1
        return [responses[0], "250-PIPELINING", *responses[1:]] if self.pipelining else responses

    async def handle_HELO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str
    ) -> str:
        session.host_name = hostname
        with self._lock:
            self.connections += 1
        return f"250 {server.hostname}"

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self._lock:
            refused = self._refused.get(f"from:{address.lower()}")
        if refused is not None:
            return f"{refused} {refused // 100}.7.1 <{address}>: sender refused by test"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        with self._lock:
            self._mid_transaction.add(session.peer[1])
            self.mail_times.append(time.time())
            delay = self._mail_delay
        if delay:
            await asyncio.sleep(delay)
        return "250 OK"

    def ports_mid_transaction(self) -> set[int]:
        """The client ports whose current message has not been answered yet."""
        with self._lock:
            return set(self._mid_transaction)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self._lock:
            code = self._refused.get(address.lower())
        if code is not None:
            return f"{code} 5.1.1 <{address}>: recipient refused by test"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:  # aiosmtpd calls this once the final dot is in
            self.dots.append(envelope.rcpt_tos[0] if envelope.rcpt_tos else "")
        try:
            return await self._answer_data(server, envelope)
        finally:
            with self._lock:
                self._mid_transaction.discard(session.peer[1])

    async def _answer_data(self, server: SMTP, envelope: Envelope) -> str:
        with self._lock:
            delay = self._delay
            disconnect = self._disconnect_next > 0
            self._disconnect_next -= int(disconnect)
            code = None if disconnect or not self._fail_next else self._fail_next.pop(0)
        if delay:
            await asyncio.sleep(delay)
        if disconnect:
            assert server.transport is not None
            server.transport.close()
            return "451 never seen: the connection is closed"
        if code is not None:
            return f"{code} 4.3.0 injected failure"
        self._record(envelope)
        return "250 OK"

    def _record(self, envelope: Envelope) -> None:
        raw = envelope.original_content
        assert isinstance(raw, bytes)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        recorded = RecordedMessage(str(envelope.mail_from), list(envelope.rcpt_tos), raw, parsed)
        with self._lock:
            self.messages.append(recorded)


@dataclass
class SmtpTestServer:
    """What `smtp_server` yields: address, recorded messages and fault switches."""

    host: str
    port: int
    handler: RecordingHandler

    @property
    def messages(self) -> list[RecordedMessage]:
        return self.handler.messages

    @property
    def connections(self) -> int:
        return self.handler.connections

    def fail_next(self, n: int = 1, code: int = 451) -> None:
        self.handler.fail_next(n, code)

    def refuse_recipient(self, address: str, code: int = 550) -> None:
        self.handler.refuse_recipient(address, code)

    def refuse_sender(self, address: str, code: int) -> None:
        self.handler.refuse_sender(address, code)

    def accept_recipient(self, address: str) -> None:
        self.handler.accept_recipient(address)

    def disconnect_next_data(self, n: int = 1) -> None:
        self.handler.disconnect_next_data(n)

    def drop_mid_body_next(self, n: int = 1) -> None:
        self.handler.drop_mid_body_next(n)

    def hang_up_at_data_next(self, n: int = 1) -> None:
        self.handler.hang_up_at_data_next(n)

    def ports_mid_transaction(self) -> set[int]:
        return self.handler.ports_mid_transaction()

    def delay_data(self, seconds: float) -> None:
        self.handler.delay_data(seconds)

    def delay_mail(self, seconds: float) -> None:
        self.handler.delay_mail(seconds)

    @property
    def mail_times(self) -> list[float]:
        return list(self.handler.mail_times)

    @property
    def dots(self) -> list[str]:
        return list(self.handler.dots)

    def smtp_config(self, **overrides: Any) -> SmtpConfig:
        """An `SmtpConfig` for this server (no TLS, short timeout), with `overrides` applied."""
        base = SmtpConfig(
            host=self.host, port=self.port, tls="none", timeout=TEST_SMTP_TIMEOUT_SECONDS
        )
        return replace(base, **overrides)


class _FaultySMTP(SMTP):
    """aiosmtpd's SMTP session, able to drop the connection at or halfway through a body."""

    async def smtp_DATA(self, arg: str) -> None:
        handler = self.event_handler
        if isinstance(handler, RecordingHandler) and handler.take("hang_up_at_data"):
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            assert self.transport is not None
            self.transport.close()
            return
        if isinstance(handler, RecordingHandler) and handler.take("drop_mid_body"):
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            await self._reader.readline()  # the first line of the body, then hang up
            assert self.transport is not None
            self.transport.close()
            return
        await super().smtp_DATA(arg)


class FaultySmtpServer(LocalSmtpServer):
    """The demo's local SMTP receiver, with sessions that hang up when the handler says so."""

    def factory(self) -> SMTP:
        return _FaultySMTP(self.handler, **self.SMTP_kwargs)
