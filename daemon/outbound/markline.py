"""The Redis connection commit turns write their marks on, held back (corked) until each flush.

This drives redis-py 5.x's connection object directly (pinned in pyproject.toml): the
marks must be in the socket synchronously, right before each one's SMTP dot, which no
redis-py call does.

Over TCP on Linux the line is corked: the kernel holds what is written until `send` (or
until the socket closes, even in a killed process, as long as no reply is left unread in it:
daemon.outbound.commitbatch keeps turns off such lines) instead of handing it to Redis at once.
Handing a mark over wakes Redis, and the scheduler then often runs Redis before the dot is
written: measured under load, that left a mark in Redis without its dot for ~160 us on
average (p99 ~1.8 ms), and a worker killed then lost its email. Corked, the gap is the few
microseconds between two system calls, and a turn's marks reach Redis in one packet.
Elsewhere (a Unix socket, another OS) each mark reaches Redis as it is written, as it did
before commit turns.
"""

from __future__ import annotations

import socket
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from daemon.outbound.commitbatch import Command


class RedisMarkLine:
    """A connection taken from the pool for commit turns (daemon.outbound.commitbatch.MarkLine)."""

    def __init__(self, redis: Redis, connection: Any) -> None:
        self._pool = redis.connection_pool
        self._connection = connection

    def usable(self) -> bool:
        connection = self._connection
        if not connection.is_connected or connection._writer.transport.is_closing():
            return False
        return not connection._reader.at_eof()  # Redis closed it (a restart, a timeout)

    def hold(self) -> None:
        _set_cork(self._connection, corked=True)

    def write(self, command: Command) -> None:
        self._connection._writer.writelines(self._connection.pack_command(*command))

    def send(self) -> None:
        _set_cork(self._connection, corked=False)

    async def reply(self) -> Any:
        await self._connection._writer.drain()  # only waits if the socket's buffer is full
        try:
            return await self._connection.read_response()
        except ResponseError as exc:  # this command's own failure: the next reply follows
            return exc

    async def close(self) -> None:
        try:
            await self._connection.disconnect(nowait=True)
        finally:
            await self._pool.release(self._connection)  # reconnected when next lent


async def open_mark_line(redis: Redis) -> RedisMarkLine:
    """A connection from `redis`'s pool, checked as any pooled command's is, and kept by the
    turns while it works (the pool's `disconnect`, at the client's close, closes it too)."""
    return RedisMarkLine(redis, await redis.connection_pool.get_connection())


_TCP_CORK: int | None = getattr(socket, "TCP_CORK", None)  # Linux only


def _set_cork(connection: Any, *, corked: bool) -> None:
    """Hold back (or release) what is written to a TCP connection; elsewhere a no-op."""
    sock = connection._writer.transport.get_extra_info("socket")
    if _TCP_CORK is None or sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    sock.setsockopt(socket.IPPROTO_TCP, _TCP_CORK, int(corked))
