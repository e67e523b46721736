"""The Redis client coachd builds: how its connections talk to the server."""

from __future__ import annotations

import asyncio

from daemon.store.redisio import HiredisPackedConnection
from daemon.store.schedule import connect


async def test_every_connection_of_coachds_pool_packs_commands_in_c(redis_url: str) -> None:
    redis = await connect(redis_url)
    try:
        # Two commands at once need two connections: the one arq's create_pool pinged on
        # and a new one; both must pack in C.
        await asyncio.gather(redis.set("a", "1"), redis.set("b", "2"))
        pool = redis.connection_pool
        connections = pool._available_connections  # type: ignore[attr-defined]
        assert len(connections) == 2
        assert all(type(c) is HiredisPackedConnection for c in connections)
        assert await redis.mget("a", "b") == [b"1", b"2"]
    finally:
        await redis.aclose()
