"""Shared fixtures: a real Redis server per session and a fault-injecting SMTP server per test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
import redis as redis_sync
import redis.asyncio as redis_async

from daemon.store.embedded import EmbeddedRedis
from tests.helpers.redis import EXTERNAL_REDIS_ENV, ExternalRedis, redis_server_binary
from tests.helpers.smtp import LOOPBACK, FaultySmtpServer, RecordingHandler, SmtpTestServer


@pytest.fixture(scope="session")
def redis_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[EmbeddedRedis | ExternalRedis]:
    """A real Redis for the session: COACHD_TEST_REDIS_URL, else an embedded redis-server.

    With no binary to run, the suite skips locally but fails under CI.
    """
    external = os.environ.get(EXTERNAL_REDIS_ENV)
    if external:
        yield ExternalRedis(external)
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), binary=redis_server_binary())
    server.start_blocking()
    yield server
    server.stop_blocking()


@pytest.fixture
def redis_url(redis_server: EmbeddedRedis | ExternalRedis) -> str:
    """The session server's URL, after FLUSHALL so each test starts from an empty Redis."""
    client = redis_sync.Redis.from_url(redis_server.url)
    try:
        client.flushall()
    finally:
        client.close()
    return redis_server.url


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[redis_async.Redis]:
    """An asyncio Redis client (bytes responses) on the clean test database."""
    client = redis_async.Redis.from_url(redis_url, decode_responses=False)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    """An aiosmtpd server on a free loopback port, in its own thread, stopped after the test.

    It offers PIPELINING when TESTS_SMTP_PIPELINING=1, to run any test over that path.
    """
    yield from _smtp_server(os.environ.get("TESTS_SMTP_PIPELINING") == "1")


@pytest.fixture
def pipelining_smtp_server() -> Iterator[SmtpTestServer]:
    """The same server, offering SMTP PIPELINING (RFC 2920) like most production MTAs."""
    yield from _smtp_server(True)


def _smtp_server(pipelining: bool) -> Iterator[SmtpTestServer]:
    handler = RecordingHandler(pipelining=pipelining)
    controller = FaultySmtpServer(handler)
    controller.start()
    try:
        yield SmtpTestServer(host=LOOPBACK, port=controller.port, handler=handler)
    finally:
        controller.stop()
