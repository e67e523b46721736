"""serve_http: uvicorn inside coachd's loop, stopped by an event, leaving signals alone."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from starlette.applications import Starlette

from daemon.app import http_limits
from daemon.inbound.httpserver import HttpLimits, serve_http
from daemon.inbound.webhooks import build_http_app
from daemon.settings import Settings
from tests.helpers.webhooks import (
    LOOPBACK,
    MAX_BODY,
    SECRETS,
    START_TIMEOUT_S,
    Recorder,
    RedisServer,
    Start,
    webhook_servers,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def start(redis_server: RedisServer) -> AsyncIterator[Start]:
    async with webhook_servers(redis_server.url) as starter:
        yield starter


def app() -> Starlette:
    recorder = Recorder()
    return build_http_app(
        sink=recorder.sink,
        unsubscribe=recorder.unsubscribe,
        secrets=SECRETS,
        max_body_bytes=MAX_BODY,
    )


async def test_serve_http_leaves_signal_handling_to_the_daemon(start: Start) -> None:
    """uvicorn would install its own SIGINT/SIGTERM handlers in the main thread; ours does not."""
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    edge = await start()
    assert (await edge.client.get("/healthz")).status_code == 200
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


async def test_serve_http_stops_when_told() -> None:
    stop = asyncio.Event()
    port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve_http(app(), LOOPBACK, 0, stop, on_listening=port.set_result))
    bound = await asyncio.wait_for(port, START_TIMEOUT_S)
    stop.set()
    await asyncio.wait_for(task, START_TIMEOUT_S)
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(LOOPBACK, bound)


async def test_serve_http_on_a_taken_port_raises_instead_of_exiting(start: Start) -> None:
    taken = (await start()).port
    with pytest.raises(OSError, match="in use"):
        await serve_http(app(), LOOPBACK, taken, asyncio.Event())


async def test_http_limits_come_from_the_http_settings() -> None:
    settings = Settings(
        http_header_timeout_s=3,
        http_body_timeout_s=7,
        http_keep_alive_s=2,
        http_max_connections=99,
        http_max_requests=9,
    )
    assert http_limits(settings) == HttpLimits(3, 7, 2, 99, 9)
