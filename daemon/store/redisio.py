"""Small Redis helpers every store-like module shares: typed reads and optimistic transactions."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar, cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.connection import AbstractConnection, Connection
from redis.connection import HiredisRespSerializer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, WatchError
from redis.typing import EncodableT
from redis.utils import HIREDIS_AVAILABLE

from daemon.errors import RedisClusterError, RedisUnreachableError
from daemon.store.pipelining import AutoPipeline
from daemon.store.sentinel import PrimaryConnection, PrimaryNotFound
from daemon.store.target import RedisTarget, RedisTls, as_target

T = TypeVar("T")

# Every key in one command, KEYS[i] read as ARGV[i] says: "h" HGETALL (empty when missing),
# "e" EXISTS. Under WATCH a redis-py pipeline runs each command as its own round trip, so a
# batch reads everything it watches through this.
_READ_KEYS = """
local out = {}
for i, key in ipairs(KEYS) do
  if ARGV[i] == 'h' then out[i] = redis.call('HGETALL', key)
  else out[i] = redis.call('EXISTS', key) end
end
return out
"""
HASH, EXISTS = "h", "e"


def decode_hash(raw: dict[bytes, bytes]) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in raw.items()}


async def read_hash(conn: Redis | Pipeline | AutoPipeline, key: str) -> dict[str, str]:
    """HGETALL, decoded; {} when the key does not exist."""
    # redis-py types its commands as "awaitable or not"; on an asyncio client they are awaitable.
    return decode_hash(await cast(Awaitable[dict[bytes, bytes]], conn.hgetall(key)))


async def read_keys(
    conn: Redis | Pipeline, kinds: dict[str, str]
) -> dict[str, dict[str, str] | bool]:
    """Each key read as `kinds` says (HASH: decoded, {} when missing; EXISTS: a bool), in
    one round trip."""
    if not kinds:
        return {}
    names = list(kinds)
    values = await cast(
        Awaitable[list[object]], conn.eval(_READ_KEYS, len(names), *names, *kinds.values())
    )
    return {
        name: _pairs(cast(list[bytes], value)) if kinds[name] == HASH else bool(value)
        for name, value in zip(names, values, strict=True)
    }


async def read_hashes(conn: Redis | Pipeline, hash_keys: Iterable[str]) -> list[dict[str, str]]:
    """HGETALL of each (distinct) key, decoded, {} where missing, in one round trip."""
    records = await read_keys(conn, dict.fromkeys(hash_keys, HASH))
    return [cast(dict[str, str], record) for record in records.values()]


def _pairs(flat: list[bytes]) -> dict[str, str]:
    """HGETALL's raw reply (field, value, field, value...), decoded."""
    return {k.decode(): v.decode() for k, v in zip(flat[::2], flat[1::2], strict=True)}


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


class HiredisPacking:
    """Packs commands with hiredis (C), as redis-py's sync client does; its asyncio one packs
    in Python, which was most of the inbox's CPU time in batched writes."""

    _packer = HiredisRespSerializer()

    def pack_command(self, *args: EncodableT) -> list[bytes]:
        return self._packer.pack(*args)  # type: ignore[arg-type, no-any-return]


class HiredisPackedConnection(HiredisPacking, Connection):
    """A plain TCP connection that packs in C."""


class HiredisPrimaryConnection(HiredisPacking, PrimaryConnection):
    """A connection to Sentinel's primary that packs in C."""


# The plain TCP connection classes, and their packing-in-C twins (TLS ones are left alone).
_PACKED_IN_C: dict[type[AbstractConnection], type[AbstractConnection]] = {
    Connection: HiredisPackedConnection,
    PrimaryConnection: HiredisPrimaryConnection,
}


def pack_with_hiredis(redis: Redis) -> None:
    """The connections of `redis`'s pool pack in C (plain TCP pools, hiredis installed)."""
    pool = redis.connection_pool
    packed = _PACKED_IN_C.get(pool.connection_class)
    if HIREDIS_AVAILABLE and packed is not None:
        pool.connection_class = packed
        # The pool's first connection (the start-up ping's) already exists, and would be
        # reused for nearly everything. The subclass only swaps the packer.
        for connection in pool._available_connections:
            connection.__class__ = packed


# At start-up Redis may still be coming up (as arq's create_pool allowed): this many tries.
START_TRIES = 5
START_RETRY_S = 1.0
# A one-off command (status, emit…) reports a Redis that is away at once: a person waits.
COMMAND_TRIES = 2
COMMAND_RETRY_S = 0.25
CONNECT_TIMEOUT_S = 1  # a Redis that does not accept a connection in 1 s is down (arq's)


def connect_client(target: RedisTarget | str, tls: RedisTls | None = None) -> Redis:
    """A plain redis-py client for the CLI's one-off commands (no job queue of its own)."""
    client = as_target(target, tls).client(Redis, socket_connect_timeout=CONNECT_TIMEOUT_S)
    pack_with_hiredis(client)
    return client


def unreachable_reason(error: BaseException) -> str:
    """Why a connection failed, in a few words: the OS's or TLS's reason when there is one."""
    if isinstance(error, PrimaryNotFound):
        if error.answered or error.__cause__ is None:
            return f"no sentinel knows an up primary named {error.service!r}"
        return f"no sentinel answered ({unreachable_reason(error.__cause__)})"
    seen: BaseException | None = error
    while seen is not None:
        reason = _low_level_reason(seen)
        if reason is not None:
            return reason
        seen = seen.__cause__ or seen.__context__
    text = str(error).rstrip(".") or type(error).__name__
    if isinstance(error, RedisConnectionError) and ". " in text:
        # redis-py: "Error 111 connecting to host:port. Connection refused."
        return text.rsplit(". ", 1)[-1].lower()
    return text  # e.g. a wrong password, or something that is not Redis on that port


def _low_level_reason(error: BaseException) -> str | None:
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {error.verify_message}"
    if isinstance(error, ssl.SSLError):  # its errno is OpenSSL's, not the OS's
        return str(error.reason or error).lower()
    if not isinstance(error, OSError):
        return None
    if error.errno and not isinstance(error, socket.gaierror):
        return os.strerror(error.errno).lower()  # asyncio's own text names the address
    return error.strerror.lower() if error.strerror else None


async def ping_until_answering(
    client: Redis, target: str, tries: int = START_TRIES, retry_s: float = START_RETRY_S
) -> None:
    """PING until Redis answers, `tries` times `retry_s` apart; then raise
    RedisUnreachableError naming `target` (a `describe()`: no password) and the reason. A
    Redis Cluster node that answers is refused (RedisClusterError)."""
    for attempt in range(1, tries + 1):
        try:
            await client.ping()
            break
        except (RedisError, TimeoutError, OSError) as error:
            if attempt == tries:
                raise RedisUnreachableError(target, unreachable_reason(error)) from error
            await asyncio.sleep(retry_s)
    await refuse_cluster(client, target)


async def refuse_cluster(redis: Redis, where: str) -> None:
    """Refuse a Redis Cluster node at once, with what to do, rather than fail later on the
    first transaction whose keys live in different slots (CROSSSLOT) or on another node."""
    info = await redis.info("cluster")
    if int(info.get("cluster_enabled", 0)):
        raise RedisClusterError(
            f"{where} is a Redis Cluster node: coachd needs one Redis, or a primary watched by "
            "Sentinel (COACHD_REDIS_SENTINELS). Redis Cluster is not supported yet; "
            "docs/scaling.md says how to size one Redis and when to split firms."
        )
