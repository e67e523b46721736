"""The SMTP/LMTP receiver an MTA forwards the reply domain to: checks recipients, hands mail on."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, AnyStr

import structlog
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from daemon.inbound.mailguard import (
    BodyAllowance,
    ReceiverLimits,
    SessionGate,
    quiet_accept_errors,
)
from daemon.inbound.message import InboundMessage, MessageSink

log = structlog.get_logger(__name__)

# Only the addresses coachd hands out are accepted; anything else is refused at RCPT.
_LOCAL_PART = re.compile(r"^(?:reply|unsubscribe|bounces)\+[a-z2-7]{8,64}$", re.IGNORECASE)
TOO_BUSY = "421 4.3.2 {host} too busy, try again later"
# RFC 5321 4.5.3.1.8: a server must take at least 100 recipients, and answers 452 past its
# limit (the client sends the rest in another transaction). A reply has one or two; without a
# limit, one session's RCPTs grew memory without end (300,000 of them: +107 MB).
MAX_RECIPIENTS = 100
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients"
DATA_BUDGET_SPENT = "452 4.3.1 Too much mail in flight, try again later"
START_MAIL_INPUT = "354"
UNKNOWN_PEER = "unknown"
# asyncio accepts up to `backlog` connections per loop pass before any refused one is closed:
# a small backlog keeps those transient descriptors few under a flood (an MTA retries a SYN).
ACCEPT_BACKLOG = 16


class ReplyHandler:
    """aiosmtpd handler: refuses foreign recipients, accepts a message once the sink has it."""

    def __init__(self, sink: MessageSink, reply_domain: str, source: str) -> None:
        self._sink = sink
        self._domain = reply_domain.lower()
        self._source = source

    def accepts(self, address: str) -> bool:
        local, _, domain = address.rpartition("@")
        return domain.lower() == self._domain and bool(_LOCAL_PART.match(local))

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not self.accepts(address):
            return "550 5.1.1 No such recipient here"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return TOO_MANY_RECIPIENTS
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = InboundMessage(raw, tuple(envelope.rcpt_tos), self._source)
        try:
            await self._sink(message)
        except Exception as exc:  # the sending MTA keeps the message and retries
            log.warning("inbound_not_accepted", source=self._source, error=type(exc).__name__)
            return "451 4.3.0 Temporary failure, please retry"
        return "250 OK"


def declared_size(mail_options: list[str]) -> int | None:
    """The SIZE= a sender declared at MAIL FROM (RFC 1870), if any."""
    for option in mail_options:
        name, _, value = option.partition("=")
        if name.upper() == "SIZE" and value.isdigit():
            return int(value)
    return None


class GuardedSMTP(SMTP):
    """An aiosmtpd session that passes `SessionGate` first: a connection over the caps gets a
    421 and is closed before any greeting, and a DATA body must fit the in-flight budget. The
    banner names the host only (aiosmtpd's names the software and its version)."""

    def __init__(self, handler: ReplyHandler, gate: SessionGate, hostname: str) -> None:
        super().__init__(
            handler,
            data_size_limit=gate.max_message_bytes,
            timeout=gate.limits.idle_timeout_s,
            hostname=hostname,
        )
        self.__ident__ = ""  # the greeting is "220 <host> <ident>": push() drops the space
        self._gate = gate
        self._peer_ip: str | None = None
        self._refused = False
        self._body: BodyAllowance | None = None  # while a DATA body is being received

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.transport is None and self._peer_ip is None:  # not the STARTTLS re-entry
            peer = transport.get_extra_info("peername")
            ip = str(peer[0]) if peer else UNKNOWN_PEER
            if self._gate.admit(ip) is not None:
                self._refused = True
                assert isinstance(transport, asyncio.WriteTransport)
                transport.write(TOO_BUSY.format(host=self.hostname).encode("ascii") + b"\r\n")
                transport.close()  # the 421 is flushed first; no session, no handler task
                return
            self._peer_ip = ip
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._refused:
            return  # the session was never started
        if self._peer_ip is not None:
            self._gate.leave(self._peer_ip)
            self._peer_ip = None
        super().connection_lost(error)

    def data_received(self, data: bytes) -> None:
        if self._body is not None and not self._body.arrived(len(data)):
            # Mid-body there is no reply to give but the one that closes the session.
            assert isinstance(self.transport, asyncio.WriteTransport)
            self.transport.write(TOO_BUSY.format(host=self.hostname).encode("ascii") + b"\r\n")
            self.transport.close()
            return
        super().data_received(data)

    async def push(self, status: AnyStr) -> None:
        await super().push(status.rstrip(" ") if isinstance(status, str) else status)

    async def smtp_DATA(self, arg: str) -> None:
        assert self.envelope is not None
        if arg or not self.envelope.rcpt_tos:
            await super().smtp_DATA(arg)  # aiosmtpd's own 501/503
            return
        with self._gate.body_allowance(declared_size(self.envelope.mail_options)) as allowance:
            if allowance is None:
                await self.push(DATA_BUDGET_SPENT)
                return
            self.data_size_limit = allowance.limit  # over it: aiosmtpd drops it, answers 552
            self._body = allowance
            try:
                await super().smtp_DATA(arg)
            finally:
                self._body = None
                self.data_size_limit = self._gate.max_message_bytes


class GuardedLMTP(GuardedSMTP, LMTP):
    """LMTP (RFC 2033): after the final dot, one reply per accepted recipient, in order."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._recipients = 0  # replies the end of this DATA owes; 0 outside DATA
        self._reading_body = False

    async def smtp_DATA(self, arg: str) -> None:
        assert self.envelope is not None
        self._recipients = len(self.envelope.rcpt_tos)
        try:
            await super().smtp_DATA(arg)
        finally:
            self._recipients = 0
            self._reading_body = False

    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str) and self._recipients:
            if status.startswith(START_MAIL_INPUT):
                self._reading_body = True
            elif self._reading_body:  # the verdict on the body: accepted, refused or failed
                self._reading_body = False
                status = "\r\n".join([status] * self._recipients)
        await super().push(status)


@asynccontextmanager
async def receiving(
    sink: MessageSink,
    reply_domain: str,
    host: str,
    port: int,
    *,
    lmtp: bool,
    max_message_bytes: int,
    limits: ReceiverLimits | None = None,
) -> AsyncIterator[int]:
    """Serve SMTP (or LMTP) on host:port for the duration of the block; yields the real port."""
    source = "lmtp" if lmtp else "smtp"
    handler = ReplyHandler(sink, reply_domain, source)
    gate = SessionGate(limits or ReceiverLimits(), max_message_bytes)
    protocol = GuardedLMTP if lmtp else GuardedSMTP

    def factory() -> SMTP:
        return protocol(handler, gate, reply_domain)

    with quiet_accept_errors(gate.limits.overload_log_interval_s):
        server = await asyncio.get_running_loop().create_server(
            factory, host=host, port=port, backlog=ACCEPT_BACKLOG
        )
        bound = server.sockets[0].getsockname()[1]
        log.info("receiver_listening", protocol=source, port=bound)
        try:
            yield bound
        finally:
            server.close()
            await server.wait_closed()
            gate.overload.flush(sessions=gate.sessions, data_bytes=gate.data_bytes)
