"""Liveness and readiness: what `/healthz` and `/readyz` check and answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from daemon.heartbeat import Heartbeat, Heartbeats
from daemon.metrics import Metrics

# A PING slower than this counts as no answer: a frozen Redis must not hang the probe.
PING_TIMEOUT_S = 1.0
# A loop is stale when it has not turned for this many poll intervals (and this floor).
STALE_POLLS = 3
STALE_MIN_S = 10.0
# Headers that keep a proxy from serving an old answer to the orchestrator.
NO_STORE = {"Cache-Control": "no-store"}


def stale_after_s(poll_delay_s: float) -> float:
    return max(STALE_POLLS * poll_delay_s, STALE_MIN_S)


class Readiness:
    """Answers `/readyz`: Redis answers a PING in time, both loops ran lately, config is loaded."""

    def __init__(
        self,
        redis: Redis,
        heartbeats: Heartbeats,
        *,
        stale_s: float = STALE_MIN_S,
        config_loaded: Callable[[], bool] = lambda: True,
        ping_timeout_s: float = PING_TIMEOUT_S,
        metrics: Metrics | None = None,
    ) -> None:
        self._redis = redis
        self._heartbeats = heartbeats
        self._stale_s = stale_s
        self._config_loaded = config_loaded
        self._ping_timeout_s = ping_timeout_s
        self._metrics = metrics  # the PING's round trip is also a metric

    async def check(self) -> tuple[list[str], dict[str, Any]]:
        """What failed (empty when ready) and the details behind each check."""
        failed: list[str] = []
        details: dict[str, Any] = {"redis": await self._ping(failed)}
        for name, heartbeat in (
            ("inbox_consumer", self._heartbeats.consumer),
            ("step_dispatcher", self._heartbeats.dispatcher),
        ):
            details[name] = self._loop(name, heartbeat, failed)
        loaded = self._config_loaded()
        details["config"] = {"loaded": loaded}
        if not loaded:
            failed.append("coach config not loaded")
        return failed, details

    async def _ping(self, failed: list[str]) -> dict[str, Any]:
        started = time.monotonic()
        try:
            await asyncio.wait_for(self._redis.ping(), self._ping_timeout_s)
        except TimeoutError:
            failed.append(f"redis did not answer PING within {self._ping_timeout_s:g} s")
            return {"ok": False, "error": "timeout"}
        except (RedisError, OSError) as exc:
            failed.append(f"redis PING failed: {type(exc).__name__}")
            return {"ok": False, "error": type(exc).__name__}
        elapsed_s = time.monotonic() - started
        if self._metrics is not None:
            self._metrics.redis_seconds.observe(elapsed_s)
        return {"ok": True, "ping_ms": round(elapsed_s * 1000, 1)}

    def _loop(self, name: str, heartbeat: Heartbeat, failed: list[str]) -> dict[str, Any]:
        age = heartbeat.age_s()
        if age is None:
            failed.append(f"{name} has not run yet")
            return {"ok": False, "last_run_s_ago": None}
        ok = age <= self._stale_s
        if not ok:
            failed.append(f"{name} last ran {age:.1f} s ago (limit {self._stale_s:g} s)")
        return {"ok": ok, "last_run_s_ago": round(age, 1)}


async def healthz(request: Request) -> Response:
    """Liveness: answered from the event loop, so an answer means the loop turns."""
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


def readyz_endpoint(readiness: Readiness | None) -> Callable[[Request], Any]:
    """The `/readyz` handler; without a Readiness (no worker in this process) never ready."""

    async def readyz(request: Request) -> Response:
        body: dict[str, Any] = {"status": "unavailable", "reason": "no worker in this process"}
        if readiness is not None:
            failed, details = await readiness.check()
            body = {"status": "ok", "checks": details}
            if failed:
                body = {"status": "unavailable", "reason": "; ".join(failed), "checks": details}
        ready = body["status"] == "ok"
        status = HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE
        return JSONResponse(body, status, headers=NO_STORE)

    return readyz
