"""`/healthz` and `/readyz` tell the truth: a frozen Redis or a stalled loop means unready."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from daemon.health import Readiness, stale_after_s
from daemon.heartbeat import Heartbeats
from daemon.inbound.webhooks import WebhookSecrets, build_http_app, serve_http
from daemon.store.embedded import EmbeddedRedis
from daemon.worker import WorkerOptions, build_dispatcher, inbox_consumer, step_dispatcher
from tests.helpers.loop import Loop
from tests.helpers.redis import redis_server_binary
from tests.helpers.webhooks import LOOPBACK, START_TIMEOUT_S, Recorder

FLIP_WITHIN_S = 5.0  # /readyz must notice a frozen (or thawed) Redis this soon
POLL_S = 0.2
BEAT_EVERY_S = 0.1
ANSWER_WITHIN_S = 2.0  # any probe answers this soon, Redis frozen or not
pytestmark = pytest.mark.timeout(60)

Probe = Callable[[str], Awaitable[httpx.Response]]


@contextlib.asynccontextmanager
async def serving(readiness: Readiness | None) -> AsyncIterator[Probe]:
    """The real HTTP app on a free loopback port; yields a GET for a path."""
    recorder = Recorder()
    app = build_http_app(
        sink=recorder.sink,
        unsubscribe=recorder.unsubscribe,
        secrets=WebhookSecrets(),
        max_body_bytes=1024,
        readiness=readiness,
    )
    stop = asyncio.Event()
    port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve_http(app, LOOPBACK, 0, stop, on_listening=port.set_result))
    bound = await asyncio.wait_for(port, START_TIMEOUT_S)
    async with httpx.AsyncClient(base_url=f"http://{LOOPBACK}:{bound}") as client:

        async def get(path: str) -> httpx.Response:
            return await client.get(path, timeout=ANSWER_WITHIN_S)

        try:
            yield get
        finally:
            stop.set()
            await asyncio.wait_for(task, START_TIMEOUT_S)


@contextlib.asynccontextmanager
async def beating(heartbeats: Heartbeats) -> AsyncIterator[None]:
    """Stand-ins for the consumer's and the dispatcher's loops, turning as they should."""

    async def turn() -> None:
        while True:
            heartbeats.consumer.beat()
            heartbeats.dispatcher.beat()
            await asyncio.sleep(BEAT_EVERY_S)

    task = asyncio.create_task(turn())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_for_status(get: Probe, path: str, status: int) -> httpx.Response:
    """Probe `path` until it answers `status` or FLIP_WITHIN_S has passed; the last answer."""
    deadline = time.monotonic() + FLIP_WITHIN_S
    response = await get(path)
    while response.status_code != status and time.monotonic() < deadline:
        await asyncio.sleep(POLL_S)
        response = await get(path)
    return response


@pytest.fixture
def own_redis(tmp_path: Path) -> EmbeddedRedis:
    """A redis-server of this test's own: freezing the session's would stall other tests."""
    return EmbeddedRedis(tmp_path / "redis", binary=redis_server_binary())


async def test_readyz_is_503_naming_redis_while_it_is_frozen_and_200_once_it_thaws(
    own_redis: EmbeddedRedis,
) -> None:
    """SIGSTOP: PING gets no answer, /readyz says so within seconds; /healthz stays 200."""
    await own_redis.start()
    redis = Redis.from_url(own_redis.url)
    heartbeats = Heartbeats()
    pid = own_redis.pid
    assert pid is not None
    try:
        async with beating(heartbeats), serving(Readiness(redis, heartbeats)) as get:
            ready = await wait_for_status(get, "/readyz", 200)
            assert (ready.status_code, ready.json()["status"]) == (200, "ok")
            assert set(ready.json()["checks"]) == {
                "redis",
                "inbox_consumer",
                "step_dispatcher",
                "config",
            }

            os.kill(pid, signal.SIGSTOP)
            frozen = await wait_for_status(get, "/readyz", 503)
            assert frozen.status_code == 503
            assert "redis did not answer PING" in frozen.json()["reason"]
            assert frozen.json()["checks"]["redis"] == {"ok": False, "error": "timeout"}
            alive = await get("/healthz")
            assert (alive.status_code, alive.json()) == (200, {"status": "ok"})

            os.kill(pid, signal.SIGCONT)
            thawed = await wait_for_status(get, "/readyz", 200)
            assert (thawed.status_code, thawed.json()["status"]) == (200, "ok")
    finally:
        os.kill(pid, signal.SIGCONT)
        await redis.aclose()
        await own_redis.stop()


async def test_readyz_names_a_loop_that_never_ran_or_stopped_turning(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    heartbeats = Heartbeats()
    readiness = Readiness(redis, heartbeats, stale_s=BEAT_EVERY_S)
    try:
        async with serving(readiness) as get:
            never = await get("/readyz")
            assert never.status_code == 503
            assert never.json()["reason"] == (
                "inbox_consumer has not run yet; step_dispatcher has not run yet"
            )
            heartbeats.consumer.beat()
            heartbeats.dispatcher.beat()
            await asyncio.sleep(2 * BEAT_EVERY_S)
            heartbeats.dispatcher.beat()
            stale = await get("/readyz")
            assert stale.status_code == 503
            assert stale.json()["reason"].startswith("inbox_consumer last ran")
            assert stale.json()["checks"]["step_dispatcher"]["ok"] is True
    finally:
        await redis.aclose()


async def test_readyz_is_503_when_config_is_not_loaded(redis: Redis) -> None:
    heartbeats = Heartbeats()
    heartbeats.consumer.beat()
    heartbeats.dispatcher.beat()
    readiness = Readiness(redis, heartbeats, config_loaded=lambda: False)
    async with serving(readiness) as get:
        response = await get("/readyz")
    assert (response.status_code, response.json()["reason"]) == (503, "coach config not loaded")


async def test_readyz_without_a_worker_is_never_ready() -> None:
    async with serving(None) as get:
        response = await get("/readyz")
    assert (response.status_code, response.json()) == (
        503,
        {"status": "unavailable", "reason": "no worker in this process"},
    )


async def test_the_real_consumer_and_dispatcher_loops_renew_their_heartbeats(loop: Loop) -> None:
    """Wired as `coachd run` wires them, both loops make `/readyz` ready within seconds."""
    heartbeats = Heartbeats()
    options = WorkerOptions(handle_signals=False, poll_delay_s=POLL_S, heartbeats=heartbeats)
    readiness = Readiness(loop.redis, heartbeats, stale_s=stale_after_s(POLL_S))
    async with (
        inbox_consumer(loop.redis, loop.services, heartbeat=heartbeats.consumer),
        step_dispatcher(build_dispatcher(loop.services, options)),
        serving(readiness) as get,
    ):
        ready = await wait_for_status(get, "/readyz", 200)
    assert (ready.status_code, ready.json()["status"]) == (200, "ok")
    assert ready.json()["checks"]["inbox_consumer"]["ok"] is True
    assert ready.json()["checks"]["step_dispatcher"]["ok"] is True
