"""Small Redis helpers every store-like module shares: typed reads and optimistic transactions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.connection import Connection
from redis.connection import HiredisRespSerializer
from redis.exceptions import WatchError
from redis.typing import EncodableT
from redis.utils import HIREDIS_AVAILABLE

from daemon.autopipe import AutoPipeline

T = TypeVar("T")

# HGETALL of every key, in one command: under WATCH a redis-py pipeline runs each command
# as its own round trip, so a batch reads everything it watches through this.
_READ_HASHES = """
local records = {}
for i, key in ipairs(KEYS) do records[i] = redis.call('HGETALL', key) end
return records
"""


def decode_hash(raw: dict[bytes, bytes]) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in raw.items()}


async def read_hash(conn: Redis | Pipeline | AutoPipeline, key: str) -> dict[str, str]:
    """HGETALL, decoded; {} when the key does not exist."""
    # redis-py types its commands as "awaitable or not"; on an asyncio client they are awaitable.
    return decode_hash(await cast(Awaitable[dict[bytes, bytes]], conn.hgetall(key)))


async def read_hashes(conn: Redis | Pipeline, hash_keys: list[str]) -> list[dict[str, str]]:
    """HGETALL of each key (decoded; {} where missing), in one round trip."""
    if not hash_keys:
        return []
    flat_records = await cast(
        Awaitable[list[list[bytes]]], conn.eval(_READ_HASHES, len(hash_keys), *hash_keys)
    )
    return [
        {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}
        for flat in flat_records
    ]


def nonempty(record: dict[str, str]) -> dict[str, str]:
    """Empty fields are not stored: they cost memory and read back as their defaults."""
    return {k: v for k, v in record.items() if v != ""}


async def transact(redis: Redis, attempt: Callable[[Pipeline], Awaitable[T]]) -> T:
    """Run `attempt` under WATCH/MULTI, again from the start if a watched key changed."""
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                result = await attempt(pipe)
                await pipe.execute()
                return result
            except WatchError:
                continue
            finally:
                await pipe.reset()  # type: ignore[no-untyped-call]


class HiredisPackedConnection(Connection):
    """A connection that packs commands with hiredis (C), as redis-py's sync client does; its
    asyncio one packs in Python, which was most of the inbox's CPU time in batched writes."""

    _packer = HiredisRespSerializer()

    def pack_command(self, *args: EncodableT) -> list[bytes]:
        return self._packer.pack(*args)  # type: ignore[arg-type, no-any-return]


def pack_with_hiredis(redis: Redis) -> None:
    """New connections of `redis`'s pool pack in C (plain TCP pools, hiredis installed)."""
    pool = redis.connection_pool
    if HIREDIS_AVAILABLE and pool.connection_class is Connection:
        pool.connection_class = HiredisPackedConnection
