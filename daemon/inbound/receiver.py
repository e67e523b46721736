"""The SMTP/LMTP receiver an MTA forwards the reply domain to: checks recipients, hands mail on."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from daemon.inbound.message import InboundMessage, MessageSink

log = structlog.get_logger(__name__)

# Only the addresses coachd hands out are accepted; anything else is refused at RCPT.
_LOCAL_PART = re.compile(r"^(?:reply|unsubscribe|bounces)\+[a-z2-7]{8,64}$", re.IGNORECASE)
RECEIVER_TIMEOUT_S = 60


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


@asynccontextmanager
async def receiving(
    sink: MessageSink,
    reply_domain: str,
    host: str,
    port: int,
    *,
    lmtp: bool,
    max_message_bytes: int,
) -> AsyncIterator[int]:
    """Serve SMTP (or LMTP) on host:port for the duration of the block; yields the real port."""
    source = "lmtp" if lmtp else "smtp"
    handler = ReplyHandler(sink, reply_domain, source)
    protocol = LMTP if lmtp else SMTP

    def factory() -> SMTP:
        return protocol(
            handler,
            data_size_limit=max_message_bytes,
            timeout=RECEIVER_TIMEOUT_S,
            hostname=reply_domain,
        )

    server = await asyncio.get_running_loop().create_server(factory, host=host, port=port)
    bound = server.sockets[0].getsockname()[1]
    log.info("receiver_listening", protocol=source, port=bound)
    try:
        yield bound
    finally:
        server.close()
        await server.wait_closed()
