"""Tests for the embedded Redis's supervisor: a killed server comes back; a lost one ends coachd."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
import redis.asyncio as redis_async

from daemon.errors import EmbeddedRedisError, EmbeddedRedisLostError
from daemon.store.embedded import LOOPBACK, EmbeddedRedis, find_redis_server
from daemon.store.supervisor import RestartPolicy, supervised

QUICK = RestartPolicy(attempts=3, min_s=0.05, max_s=0.1)
WAIT_S = 15.0


@pytest.fixture
def binary() -> Path:
    try:
        return find_redis_server()
    except EmbeddedRedisError as error:
        pytest.skip(str(error))


def kill_child(server: EmbeddedRedis) -> int:
    assert server.pid is not None
    pid = server.pid
    os.kill(pid, signal.SIGKILL)
    return pid


async def wait_until(condition: Callable[[], object], timeout: float = WAIT_S) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def test_a_killed_server_is_restarted_on_its_port_with_its_data(
    tmp_path: Path, binary: Path
) -> None:
    restarts: list[int] = []
    async with EmbeddedRedis(tmp_path, binary=binary) as server:
        client = redis_async.Redis.from_url(server.url)
        try:
            await client.set("coachd:test", "kept")
            await asyncio.sleep(1.2)  # appendfsync everysec: the write is on disk
            port = server.port
            async with supervised(server, lambda: restarts.append(server.port), QUICK):
                killed = kill_child(server)
                await wait_until(lambda: restarts and server.running)
                assert server.pid != killed
                assert restarts == [port]
                assert await client.get("coachd:test") == b"kept"  # same URL, data replayed
        finally:
            await client.aclose()
    assert not server.running


async def test_a_server_that_cannot_come_back_cancels_the_block_and_raises(
    tmp_path: Path, binary: Path
) -> None:
    async with EmbeddedRedis(tmp_path, binary=binary) as server:
        with socket.socket() as squatter, pytest.raises(EmbeddedRedisLostError) as caught:
            async with supervised(server, lambda: None, QUICK):
                kill_child(server)
                await wait_until(lambda: not server.running)
                squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                squatter.bind((LOOPBACK, server.port))
                squatter.listen()
                await asyncio.sleep(WAIT_S)  # cancelled once the restarts are used up
                pytest.fail("the block was not cancelled")
    assert caught.value.attempts == QUICK.attempts
    assert "redis.log" in str(caught.value)
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0


async def test_leaving_the_block_stops_watching(tmp_path: Path, binary: Path) -> None:
    restarts: list[int] = []
    async with EmbeddedRedis(tmp_path, binary=binary) as server:
        async with supervised(server, lambda: restarts.append(1), QUICK):
            pass
        kill_child(server)
        await asyncio.sleep(0.5)
        assert not server.running
    assert restarts == []
