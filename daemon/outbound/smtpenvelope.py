"""The envelope (MAIL FROM, RCPT TO) up to DATA's 354: pipelined when the server offers it.

With SMTP PIPELINING (RFC 2920) MAIL, every RCPT and DATA leave in one write and their
replies are read in order, which saves a round trip per command. Only the commands before
the body are pipelined: the body waits for 354, and the commit mark and the final dot are
still written together by daemon.outbound.smtpdata, so the commit point does not move.

aiosmtplib 5.x has no pipelining and its protocol drops any reply that arrives while an
earlier one waits to be read, so the mailer has aiosmtplib build its connections with a
protocol that keeps them (`build_keeping_protocols`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aiosmtplib
import aiosmtplib.smtp
from aiosmtplib.email import quote_address
from aiosmtplib.protocol import MAX_RESPONSE_LENGTH, SMTPProtocol
from aiosmtplib.response import SMTPResponse

from daemon.outbound.smtpreply import (
    COMPLETED,
    FINAL_DOT,
    SERVICE_UNAVAILABLE,
    START_INPUT,
    recipients_refusal,
)

CRLF = b"\r\n"
RECIPIENT_ACCEPTED = (COMPLETED, 251)  # 251: "user not local; will forward"


class KeepingProtocol(SMTPProtocol):
    """aiosmtplib's protocol, keeping the replies that arrive behind one not yet read."""

    keep_replies = False  # only while pipelined replies are expected: else as aiosmtplib

    def data_received(self, data: bytes) -> None:
        waiter = self._response_waiter
        # Between two read_reply calls the next reply may already arrive: either the waiter
        # still holds the last one, or read_response has just replaced it and marked nothing
        # pending, where aiosmtplib drops what comes (uvloop runs I/O callbacks before the
        # resumed reader often enough to lose a reply and hang the session).
        waiting = waiter is not None and not waiter.done() and self._response_pending
        if not self.keep_replies or waiter is None or waiting:
            super().data_received(data)
            return
        if len(self._buffer) + len(data) > MAX_RESPONSE_LENGTH:
            # Dropping part of it would pair the next command with a wrong reply.
            if self.transport is not None:
                self.transport.close()
            return
        self._buffer.extend(data)  # the next reply: read_reply takes it from the buffer

    async def read_reply(self, timeout: float) -> SMTPResponse:
        """The next reply: the one aiosmtplib already parsed into its waiter (the oldest),
        else a whole one already buffered behind it, else the next to arrive."""
        waiter = self._response_waiter
        if waiter is not None and waiter.done():
            return await self.read_response(timeout=timeout)
        buffered = self._read_response_from_buffer()
        if buffered is not None:
            return buffered
        return await self.read_response(timeout=timeout)


def build_keeping_protocols() -> None:
    """Make aiosmtplib build every connection's protocol as a KeepingProtocol (the same
    object unless `keep_replies` is on). It must be that class from the start: uvloop takes
    the protocol's `data_received` when the connection is made, so a class changed after
    connecting would never see a reply, and aiosmtplib's own method drops replies that arrive
    behind one not yet read (pipelined sessions then hang until their timeout). aiosmtplib
    5.x looks the class up by this module-level name when it connects (pinned in
    pyproject.toml; `tests/daemon/outbound/test_pipelining_loops.py` checks it still does)."""
    aiosmtplib.smtp.SMTPProtocol = KeepingProtocol  # type: ignore[attr-defined]


class EnvelopeRefused(Exception):
    """Raised when a pipelined MAIL or RCPT was refused: nothing was sent for delivery."""

    def __init__(self, cause: aiosmtplib.SMTPResponseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


@dataclass(frozen=True)
class Pipelined:
    """The envelope and DATA as one write, and who the replies are about."""

    commands: bytes
    sender: str
    recipients: Sequence[str]

    async def run(self, protocol: SMTPProtocol, timeout: float) -> SMTPResponse:
        """Write the commands, read every reply; return DATA's when the envelope holds.

        Raises `EnvelopeRefused` for a refused sender or every recipient refused, and
        aiosmtplib's errors if the connection fails; in both cases after every reply was
        read (or the connection is unusable), so the session can be RSET and reused.
        """
        assert isinstance(protocol, KeepingProtocol)  # `prepare` pipelines no other
        protocol.keep_replies = True
        try:
            protocol._response_pending = True
            protocol.write(self.commands)
            mail = await protocol.read_reply(timeout)
            if mail.code == SERVICE_UNAVAILABLE:  # closing: no more replies will come
                raise EnvelopeRefused(self._sender_refused(mail))
            rcpts = [await protocol.read_reply(timeout) for _ in self.recipients]
            data = await protocol.read_reply(timeout)
        finally:
            protocol.keep_replies = False
        refusal = self._refusal(mail, rcpts)
        if refusal is None:
            return data
        if data.code == START_INPUT:  # DATA accepted with no recipient: end it empty
            protocol._response_pending = True
            protocol.write(FINAL_DOT)
            await protocol.read_response(timeout=timeout)
        raise EnvelopeRefused(refusal)

    def _refusal(
        self, mail: SMTPResponse, rcpts: list[SMTPResponse]
    ) -> aiosmtplib.SMTPResponseException | None:
        """As the lock-step envelope would fail: the sender first, then the recipients."""
        if mail.code != COMPLETED:
            return self._sender_refused(mail)
        refused = [
            aiosmtplib.SMTPRecipientRefused(reply.code, reply.message, recipient)
            for recipient, reply in zip(self.recipients, rcpts, strict=True)
            if reply.code not in RECIPIENT_ACCEPTED
        ]
        closing = [exc for exc in refused if exc.code == SERVICE_UNAVAILABLE]
        return closing[0] if closing else recipients_refusal(refused, len(self.recipients))

    def _sender_refused(self, mail: SMTPResponse) -> aiosmtplib.SMTPSenderRefused:
        return aiosmtplib.SMTPSenderRefused(mail.code, mail.message, self.sender)


async def prepare(
    client: aiosmtplib.SMTP, message: bytes, sender: str, recipients: Sequence[str]
) -> Pipelined | None:
    """Greet if needed; return the pipelined envelope if the server offers PIPELINING,
    else send MAIL and RCPT one by one (raising aiosmtplib's errors) and return None."""
    await client._ehlo_or_helo_if_needed()  # before asking about extensions
    options = mail_options(client, message)
    if client.supports_extension("pipelining") and isinstance(client.protocol, KeepingProtocol):
        return Pipelined(_commands(sender, recipients, options), sender, recipients)
    await client.mail(sender, options=options)
    await rcpt_all(client, recipients)
    return None


def _commands(sender: str, recipients: Sequence[str], options: list[str]) -> bytes:
    """MAIL, RCPT for each recipient and DATA, as aiosmtplib would write them one by one
    (its `quote_address` rejects an address that could smuggle a command in)."""
    mail = b" ".join([b"MAIL FROM:" + _address(sender), *(o.encode("ascii") for o in options)])
    rcpts = b"".join(b"RCPT TO:" + _address(recipient) + CRLF for recipient in recipients)
    return mail + CRLF + rcpts + b"DATA" + CRLF


def _address(address: str) -> bytes:
    return quote_address(address).encode("ascii")  # UnicodeEncodeError: not ASCII


async def rcpt_all(client: aiosmtplib.SMTP, recipients: Sequence[str]) -> None:
    """Send RCPT for each recipient; raise only if every one was refused."""
    refused: list[aiosmtplib.SMTPRecipientRefused] = []
    for recipient in recipients:
        try:
            await client.rcpt(recipient)
        except aiosmtplib.SMTPRecipientRefused as exc:
            if exc.code == SERVICE_UNAVAILABLE:
                raise
            refused.append(exc)
    refusal = recipients_refusal(refused, len(recipients))
    if refusal is not None:
        raise refusal


def mail_options(client: aiosmtplib.SMTP, message: bytes) -> list[str]:
    """Declare 8-bit content when the message has any and the server supports it."""
    if not message.isascii() and client.supports_extension("8BITMIME"):
        return ["BODY=8BITMIME"]
    return []
