"""Hands composed messages to an SMTP server over a small pool of reused connections."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Literal, Protocol

import aiosmtplib

from daemon.errors import (
    PermanentSendError,
    SendError,
    TransientSendError,
    UnknownOutcomeError,
)
from daemon.outbound.sendgate import SendGate, lost_connection
from daemon.outbound.smtpdata import CommitPoint, CommittedFailure, HungUpAfterDot, send_data
from daemon.outbound.smtpenvelope import EnvelopeRefused, build_keeping_protocols, prepare
from daemon.outbound.smtpreply import SERVICE_UNAVAILABLE, classify, reason

TlsMode = Literal["starttls", "tls", "none"]

build_keeping_protocols()  # before any connection: see its docstring

DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_POOL_SIZE = 4
DEFAULT_MAX_MESSAGES_PER_CONNECTION = 100


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to reach the outbound SMTP server."""

    host: str
    port: int
    tls: TlsMode
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    pool_size: int = DEFAULT_POOL_SIZE
    max_messages_per_connection: int = DEFAULT_MAX_MESSAGES_PER_CONNECTION


class Mailer(Protocol):
    """Anything that can hand a message to the mail system."""

    async def send(
        self,
        message: bytes,
        sender: str,
        recipients: Sequence[str],
        *,
        commit: CommitPoint | None = None,
        gate: SendGate | None = None,
    ) -> None:
        """Deliver `message` or raise a `SendError` subclass saying whether to retry.

        `commit` is written together with the final dot of DATA (see daemon.outbound.smtpdata).
        A closed `gate` stops the send from starting (see daemon.outbound.sendgate).
        """

    async def close(self) -> None:
        """Release connections."""


class NullMailer:
    """A mailer that counts messages and drops them, for demos and benchmarks without SMTP."""

    def __init__(self) -> None:
        self.sent = 0

    async def send(
        self,
        message: bytes,
        sender: str,
        recipients: Sequence[str],
        *,
        commit: CommitPoint | None = None,
        gate: SendGate | None = None,
    ) -> None:
        """Count the message and drop it."""
        if not recipients:
            raise ValueError("A message needs at least one recipient.")
        if gate is not None:
            gate.check()
        if commit is not None:
            await commit.prepare()
            commit.write()
            await commit.confirm()
        self.sent += 1

    async def close(self) -> None:
        """Nothing to release."""


@dataclass
class _Slot:
    """One pool position: a client (connected lazily) and how many messages it has sent."""

    client: aiosmtplib.SMTP | None = None
    sent: int = 0


class SmtpMailer:
    """Sends through at most `pool_size` reused SMTP connections, one transaction each at a time.

    Errors are classified by the phase they happen in:

    * before DATA (connect, MAIL, RCPT; pipelined with DATA when the server offers
      PIPELINING, see daemon.outbound.smtpenvelope): 4xx, refused/reset connections,
      disconnects and timeouts raise `TransientSendError`; 5xx, or every recipient refused
      with 5xx, raise `PermanentSendError`. Nothing was delivered.
    * DATA replied 4xx/5xx: a known outcome, transient or permanent as above.
    * disconnected or timed out during DATA, before the final ".": `TransientSendError`.
      A server takes a message only once it has the final dot, so nothing was delivered.
    * no reply after the final ".": `UnknownOutcomeError`. The server may have accepted
      the message (RFC 1047); the caller's ledger decides (coachd does not resend).
      `commit` goes out together with that dot (see daemon.outbound.smtpdata).
    * `gate` closed or cut off (coachd is stopping, see daemon.outbound.sendgate): not
      started, or cut before the dot, `SendingStopped`; cut after it, `UnknownOutcomeError`.

    Partial recipient refusals deliver to the accepted recipients; send one recipient
    per message when the outcome must be exact. Reasons never contain addresses.
    An authentication failure is transient: it is the operator's to fix, not the
    message's fault, and retrying lets the message go out once fixed.
    """

    def __init__(self, config: SmtpConfig) -> None:
        if config.pool_size < 1:
            raise ValueError("SmtpConfig.pool_size must be at least 1.")
        self.config = config
        # Last in, first out: reuse the warmest connection; spare ones connect only under load.
        self._idle: asyncio.LifoQueue[_Slot] = asyncio.LifoQueue()
        for _ in range(config.pool_size):
            self._idle.put_nowait(_Slot())

    async def send(
        self,
        message: bytes,
        sender: str,
        recipients: Sequence[str],
        *,
        commit: CommitPoint | None = None,
        gate: SendGate | None = None,
    ) -> None:
        """Deliver `message` from `sender` to `recipients`, or raise a classified `SendError`."""
        if not recipients:
            raise ValueError("A message needs at least one recipient.")
        slot = await (self._idle.get() if gate is None else gate.take(self._idle))
        try:
            client = await self._ready_client(slot)
            with gate.transaction(client) if gate is not None else nullcontext():
                await _transact(client, message, sender, recipients, commit=commit, gate=gate)
            slot.sent += 1
        except SendError as error:
            await _after_failure(slot, error)
            raise
        except BaseException:
            _discard(slot)  # cancelled mid-transaction: the session's state is unknown
            raise
        finally:
            self._idle.put_nowait(slot)

    async def close(self) -> None:
        """Wait for sends in flight, then QUIT every connection (a later send reconnects)."""
        slots = [await self._idle.get() for _ in range(self.config.pool_size)]
        try:
            await asyncio.gather(*(_quit(slot) for slot in slots))
        finally:
            for slot in slots:
                self._idle.put_nowait(slot)

    async def _ready_client(self, slot: _Slot) -> aiosmtplib.SMTP:
        """Return the slot's connected client, recycling or (re)connecting as needed."""
        if slot.client is not None and slot.sent >= self.config.max_messages_per_connection:
            await _quit(slot)
        if slot.client is not None and not slot.client.is_connected:
            _discard(slot)
        if slot.client is None:
            slot.client = await self._connect()
            slot.sent = 0
        return slot.client

    async def _connect(self) -> aiosmtplib.SMTP:
        """Open and (if configured) authenticate a new client with explicit TLS."""
        cfg = self.config
        client = aiosmtplib.SMTP(
            hostname=cfg.host,
            port=cfg.port,
            timeout=cfg.timeout,
            use_tls=cfg.tls == "tls",
            start_tls=cfg.tls == "starttls",  # never None: no silent downgrade
        )
        try:
            await client.connect()
            if cfg.username is not None:
                await client.login(cfg.username, cfg.password or "")
        except aiosmtplib.SMTPAuthenticationError as exc:
            client.close()
            raise TransientSendError(reason("authentication failed", exc), exc.code) from exc
        except aiosmtplib.SMTPResponseException as exc:
            client.close()
            raise classify("connect refused", exc) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            client.close()
            raise TransientSendError(reason("connect failed", exc)) from exc
        return client


async def _transact(
    client: aiosmtplib.SMTP,
    message: bytes,
    sender: str,
    recipients: Sequence[str],
    *,
    commit: CommitPoint | None,
    gate: SendGate | None,
) -> None:
    """Run MAIL, RCPT and DATA, turning every aiosmtplib failure into a `SendError`."""
    try:
        envelope = await prepare(client, message, sender, recipients)
    except aiosmtplib.SMTPResponseException as exc:
        raise classify("envelope refused", exc) from exc
    except UnicodeEncodeError as exc:  # SMTPUTF8 addresses are not supported (yet)
        raise PermanentSendError("envelope refused: address is not ASCII") from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise lost_connection(gate, "connection failed before data", exc) from exc
    try:
        timeout = client.timeout or DEFAULT_TIMEOUT_SECONDS
        await send_data(client, message, commit, timeout, envelope)
    except EnvelopeRefused as exc:
        raise classify("envelope refused", exc.cause) from exc
    except aiosmtplib.SMTPResponseException as exc:
        raise classify("data refused", exc) from exc
    except CommittedFailure as exc:
        # The final dot went out and no reply came: the server may have the message.
        raise UnknownOutcomeError(reason("no reply after the message", exc.cause)) from exc
    except HungUpAfterDot as exc:
        if gate is not None and gate.cut:  # we hung up, not the server: it may have it
            raise UnknownOutcomeError(reason("cut off after the message", exc)) from exc
        raise lost_connection(gate, "hung up after the message", exc) from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        client.close()
        raise lost_connection(gate, "disconnected before the end of data", exc) from exc


async def _after_failure(slot: _Slot, error: SendError) -> None:
    """Make the slot safe for the next transaction: RSET a live client, else drop it."""
    client = slot.client
    if client is None:
        return
    if not client.is_connected or error.code == SERVICE_UNAVAILABLE:
        _discard(slot)
        return
    try:
        await client.rset()
    except (aiosmtplib.SMTPException, OSError):
        _discard(slot)


async def _quit(slot: _Slot) -> None:
    """Say goodbye politely if possible; the slot is empty afterwards either way."""
    client = slot.client
    if client is not None and client.is_connected:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await client.quit()
    _discard(slot)


def _discard(slot: _Slot) -> None:
    if slot.client is not None:
        slot.client.close()
    slot.client = None
    slot.sent = 0
