"""`GET /metrics`: refresh the gauges Redis knows (one round trip), then serve the registry."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any

import structlog
from prometheus_client.exposition import choose_encoder
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import Response

from daemon.health import NO_STORE, PING_TIMEOUT_S
from daemon.metrics import Metrics
from daemon.store import keys

log = structlog.get_logger(__name__)

MS_PER_S = 1000


async def refresh_gauges(metrics: Metrics, redis: Redis, timeout_s: float = PING_TIMEOUT_S) -> bool:
    """Inbox and schedule gauges from one pipelined read; False (gauges left as they were,
    `coachd_redis_up` 0) when Redis does not answer within `timeout_s`.

    Each command is O(1) or O(log n): a scrape costs the same whatever the backlog.
    """
    now_ms = int(time.time() * MS_PER_S)  # the schedule's scores are wall-clock ms
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s), redis.pipeline(transaction=False) as pipe:
            pipe.xlen(keys.INBOX_STREAM)
            pipe.xinfo_groups(keys.INBOX_STREAM)
            pipe.zcard(keys.STEP_SCHEDULE)
            pipe.zcount(keys.STEP_SCHEDULE, "-inf", now_ms)
            # No stream yet (before the worker's first start) is an error for XINFO alone.
            length, groups, scheduled, due = await pipe.execute(raise_on_error=False)
    except (TimeoutError, RedisError, OSError) as exc:
        log.warning("metrics_redis_unavailable", error=type(exc).__name__)
        metrics.redis_up.set(0)
        return False
    metrics.redis_seconds.observe(time.perf_counter() - started)
    metrics.redis_up.set(1)
    metrics.inbox_length.set(_count(length))
    group = _inbox_group(groups)
    metrics.inbox_pending.set(_count(group.get("pending")))
    metrics.inbox_lag.set(_count(group.get("lag")))
    metrics.steps_scheduled.set(_count(scheduled))
    metrics.steps_due.set(_count(due))
    return True


def _inbox_group(groups: Any) -> dict[str, Any]:
    """The consumer group's XINFO GROUPS entry; empty when the stream or group is missing."""
    if not isinstance(groups, list):
        return {}
    for group in groups:
        name = group.get("name")
        if (name.decode() if isinstance(name, bytes) else name) == keys.INBOX_GROUP:
            return dict(group)
    return {}


def _count(value: Any) -> float:
    """A count from Redis; NaN for what it did not say (lag: Redis < 7, or not computable)."""
    return float(value) if isinstance(value, int) else math.nan


def metrics_endpoint(metrics: Metrics, redis: Redis) -> Callable[[Request], Any]:
    """The `/metrics` handler: this process's registry only, in the Prometheus text format
    (0.0.4, which every scraper reads) or the OpenMetrics one when the scraper asks for it."""

    async def serve_metrics(request: Request) -> Response:
        await refresh_gauges(metrics, redis)
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(metrics.registry), media_type=content_type, headers=NO_STORE)

    return serve_metrics
