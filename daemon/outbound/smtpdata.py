"""SMTP DATA with a commit point: the moment before the final "." decides whether a mail exists.

An SMTP server takes responsibility for a message only when it receives the final
"<CRLF>.<CRLF>"; if the connection drops before that, the message is discarded. So the
sender has exactly one instant that separates "certainly not delivered" from "probably
delivered": writing the final dot. `send_data` writes the send ledger's "committing"
mark to Redis and the final dot to the SMTP server in one synchronous step (no await
between the two socket writes), so a worker killed at any moment leaves either a claim
that is safe to send again, or a commit mark whose dot also went out; only a kill in the
microseconds between the two system calls loses the email. No dot ever leaves before its
own mark is in the Redis socket.

Waiting for the mark's turn (`CommitPoint.prepare`) lets every send of the process that
reaches this point together write its mark into one held-back Redis connection, each
right before its own dot, so their marks reach Redis in one round trip
(daemon.outbound.commitbatch says why mark by mark, and daemon.outbound.markline how the
connection is kept from handing a mark to Redis before its dot is out).

aiosmtplib's own `data()` writes body and dot in one go, so this module drives its
protocol object directly (pinned to aiosmtplib 5.x in pyproject.toml).
"""

from __future__ import annotations

from typing import Protocol

import aiosmtplib
from aiosmtplib.protocol import PERIOD_REGEX, SMTPProtocol, normalize_message_line_endings

from daemon.outbound.smtpenvelope import Pipelined
from daemon.outbound.smtpreply import COMPLETED, FINAL_DOT, START_INPUT

CRLF = b"\r\n"


class CommitPoint(Protocol):
    """The mark that must reach its store together with the final dot."""

    async def prepare(self) -> None:
        """Everything that may wait (a connection, the mark's turn), before the writes;
        `write` must follow in the step this returns in."""

    def write(self) -> None:
        """Put the mark on the wire; synchronous, so nothing runs between it and the dot."""

    async def confirm(self) -> None:
        """Wait for the store's answer to the mark (it comes after the dot is out)."""


class CommitUnconfirmed(Exception):
    """Raised when the server took the message (250 to the final dot) but the commit mark's
    store did not answer (Redis died or failed over meanwhile).

    The message is delivered: the caller must record it as sent, not send it again.
    """

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__} while confirming the commit mark")
        self.cause = cause


class HungUpAfterDot(aiosmtplib.SMTPServerDisconnected):
    """Raised when the connection closed after the final dot, before any reply.

    Closed by the server, the message is not delivered (see `CommittedFailure`); closed by
    coachd itself (cut off when stopping), the server may have it: the mailer tells which.
    """


class CommittedFailure(Exception):
    """Raised when no reply came in time after the final dot: the outcome is unknown.

    A connection closed by the server without a reply is not this: a server takes a
    message only by replying 250 to the dot (RFC 5321 4.1.1.4), so it is not delivered.
    """

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


async def send_data(
    client: aiosmtplib.SMTP,
    message: bytes,
    commit: CommitPoint | None,
    timeout: float,
    envelope: Pipelined | None = None,
) -> None:
    """DATA, the commit mark, the dot-stuffed body with the final dot, then the reply.

    With a pipelined `envelope`, DATA goes out with it (daemon.outbound.smtpenvelope) and
    its refusal raises `EnvelopeRefused`; from 354 on nothing differs.

    Raises aiosmtplib's errors when the message was certainly not taken (a failure before
    the final dot, or the server hanging up instead of replying), `SMTPDataError` for a
    refusal (a known outcome), and `CommittedFailure` when no reply came in time.
    """
    protocol = client.protocol
    if protocol is None or protocol._command_lock is None:
        raise aiosmtplib.SMTPServerDisconnected("Connection lost")
    body = PERIOD_REGEX.sub(b"..", normalize_message_line_endings(message))
    if not body.endswith(CRLF):
        body += CRLF
    async with protocol._command_lock:
        if envelope is None:
            protocol._response_pending = True
            protocol.write(b"DATA\r\n")
            start = await protocol.read_response(timeout=timeout)
        else:
            start = await _pipelined_start(client, protocol, envelope, timeout)
        if start.code != START_INPUT:
            raise aiosmtplib.SMTPDataError(start.code, start.message)
        unconfirmed = await _write_committed(client, protocol, body + FINAL_DOT, commit)
        try:
            response = await protocol.read_response(timeout=timeout)
        except aiosmtplib.SMTPTimeoutError as exc:
            client.close()
            raise CommittedFailure(exc) from exc
        except aiosmtplib.SMTPServerDisconnected as exc:
            raise HungUpAfterDot(exc.message) from exc
    if response.code != COMPLETED:
        raise aiosmtplib.SMTPDataError(response.code, response.message)
    if unconfirmed is not None:
        raise CommitUnconfirmed(unconfirmed) from unconfirmed


async def _pipelined_start(
    client: aiosmtplib.SMTP, protocol: SMTPProtocol, envelope: Pipelined, timeout: float
) -> aiosmtplib.SMTPResponse:
    """DATA's reply after the pipelined envelope's; a connection that failed with replies
    unread is closed, as they would be taken for the answers to the next commands."""
    try:
        return await envelope.run(protocol, timeout)
    except (aiosmtplib.SMTPException, OSError):
        client.close()
        raise


async def _write_committed(
    client: aiosmtplib.SMTP, protocol: SMTPProtocol, data: bytes, commit: CommitPoint | None
) -> Exception | None:
    """The commit mark, then body and final dot in one write (one system call) right after,
    with no await between them. Returns why the mark was not confirmed, if it was not (a
    failed compare-and-set included): the dot is out by then, so the server's answer to it
    still decides whether the message was delivered."""
    if commit is not None:
        await commit.prepare()
        commit.write()
    protocol._response_pending = True
    try:
        protocol.write(data)  # raises if the connection is already gone: not delivered
    except aiosmtplib.SMTPServerDisconnected:
        if commit is not None:
            # Let the mark land now, so the caller's release of the claim comes after it.
            await commit.confirm()
        raise
    if commit is None:
        return None
    try:
        await commit.confirm()
    except Exception as exc:  # the dot is out: whatever failed, the answer decides
        # Closing now (without the answer) could make the server drop a message that the
        # caller will record as sent.
        return exc
    return None
