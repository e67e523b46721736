"""The send gate: how a stopping worker keeps SMTP transactions from starting, and cuts off
the ones still running when its grace period is over.

Closed (on SIGTERM), a gate lets no new transaction start: a send waiting for a pooled
connection, or about to write MAIL FROM, raises `SendingStopped` instead, having sent
nothing. Cut off (the grace period is over), it closes the connection of every transaction
still in flight; the mailer then tells a cut before the final dot (`SendingStopped`:
nothing was delivered) from one after it (an unknown outcome: the server may have it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

import aiosmtplib

from daemon.errors import TransientSendError
from daemon.outbound.smtpreply import reason

T = TypeVar("T")


class SendingStopped(TransientSendError):
    """Raised when a send did not happen because the worker is stopping: it never wrote
    MAIL FROM, or it was cut off before the final dot. Nothing was delivered."""


class SendGate:
    """Open while the worker runs; closed when it stops; cut off when its grace is over."""

    def __init__(self) -> None:
        self._closed = asyncio.Event()
        self.cut = False
        self._in_flight: set[aiosmtplib.SMTP] = set()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def close(self) -> None:
        """Start no new transaction from now on; those in flight go on."""
        self._closed.set()

    def cut_off(self) -> int:
        """Close the connection of every transaction in flight; returns how many there were."""
        self.close()
        self.cut = True
        for client in self._in_flight:
            client.close()
        return len(self._in_flight)

    async def wait_closed(self) -> None:
        await self._closed.wait()

    def check(self) -> None:
        """Raise `SendingStopped` if the gate is closed."""
        if self.closed:
            raise SendingStopped("stopping: the transaction was not started")

    async def take(self, pool: asyncio.Queue[T]) -> T:
        """The next item of `pool` (an idle connection); `SendingStopped` as soon as the
        gate closes instead (a send waiting for a connection then gives up at once)."""
        self.check()
        getting = asyncio.ensure_future(pool.get())
        closing = asyncio.ensure_future(self.wait_closed())
        try:
            await asyncio.wait((getting, closing), return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            _put_back(pool, getting)
            raise
        finally:
            closing.cancel()
        if self.closed:
            _put_back(pool, getting)
            self.check()
        return getting.result()

    @contextmanager
    def transaction(self, client: aiosmtplib.SMTP) -> Iterator[None]:
        """One transaction on `client`: refused if the gate is closed, else cut off with it."""
        self.check()
        self._in_flight.add(client)
        try:
            yield
        finally:
            self._in_flight.discard(client)


def lost_connection(gate: SendGate | None, phase: str, exc: BaseException) -> TransientSendError:
    """A connection lost before the final dot (or closed by the server after it, with no
    reply): nothing was delivered. Cut off by a stopping worker, the step is given back."""
    if gate is not None and gate.cut:
        return SendingStopped(reason(f"cut off when stopping ({phase})", exc))
    return TransientSendError(reason(phase, exc))


def _put_back(pool: asyncio.Queue[T], getting: asyncio.Future[T]) -> None:
    """An item taken for a send that will not happen goes back; a wait for one ends."""
    if getting.done() and not getting.cancelled():
        pool.put_nowait(getting.result())
    else:
        getting.cancel()
