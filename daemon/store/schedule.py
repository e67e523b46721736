"""Where steps and jobs are scheduled: steps in coachd's own schedule, coach emails as arq jobs.

The one module that knows the storage format of both, and makes the arq-flavoured client
that writes them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from arq.connections import ArqRedis
from arq.constants import job_key_prefix, retry_key_prefix
from arq.jobs import serialize_job
from redis.asyncio.client import Pipeline

from daemon.clock import Clock
from daemon.store import keys
from daemon.store.redisio import CONNECT_TIMEOUT_S, pack_with_hiredis, ping_until_answering
from daemon.store.target import RedisTarget, RedisTls, as_target
from jobs.step import PlannedStep

__all__ = ["Clock", "StepQueue", "connect"]  # Clock: callers import it from here too

# Job names are wire format: renaming one would orphan every queued job of it.
# (`fire_step` jobs are only those queued before steps had their own schedule.)
FIRE_STEP = "fire_step"
SEND_NOTICE = "send_coach_notice"
SEND_DIGEST = "send_digest"
SEND_BRIEF = "send_brief"
# arq deletes a job's payload this long after its fire time if no worker took it.
JOB_GRACE_MS = 7 * 24 * 3600 * 1000
MS_PER_S = 1000


def serialize(data: dict[str, Any]) -> bytes:
    """Job payloads are JSON, never pickle: writing to Redis must not mean running code."""
    return json.dumps(data, separators=(",", ":")).encode()


def deserialize(raw: bytes) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(raw)
    return result


def step_job_id(commitment_id: str, version: int) -> str:
    """One job per commitment version: a newer version's job never collides with an older one."""
    return f"{commitment_id}:{version}"


def notice_job_id(notice_id: str) -> str:
    return f"notice:{notice_id}"


def brief_job_id(session_id: str) -> str:
    """One brief job per session: moving the session replaces it, cancelling drops it."""
    return f"brief:{session_id}"


class StepQueue:
    """Schedules steps and arq jobs inside the caller's Redis transaction.

    Both are written by us (not `enqueue_job`), so scheduling happens in the same MULTI as
    the state change that caused it: both happen, or neither. A step is one member of
    `keys.STEP_SCHEDULE` and nothing else (a million pending steps must stay cheap; an arq
    job would add a ~400-byte payload key each, and arq's per-job bookkeeping cost more
    than coachd's whole step); daemon.outbound.dispatcher fires them in batches.
    """

    def __init__(self, clock: Clock, now_ms: Callable[[], int]) -> None:
        self._clock = clock
        self._now_ms = now_ms

    def add(self, pipe: Pipeline, commitment_id: str, version: int, step: PlannedStep) -> None:
        score = self.score_ms(step.fire_at)
        pipe.zadd(keys.STEP_SCHEDULE, {step_job_id(commitment_id, version): score})

    def score_ms(self, fire_at: datetime) -> int:
        """A fire time (domain time) as a schedule score: wall-clock epoch milliseconds."""
        return int(self._clock.real(fire_at).timestamp() * MS_PER_S)

    def add_job(
        self,
        pipe: Pipeline,
        function: str,
        job_id: str,
        args: tuple[str | int, ...],
        fire_at: datetime,
    ) -> None:
        """Schedule `function(*args)` at `fire_at` (domain time) under a deterministic id."""
        now_ms = self._now_ms()
        score = self.score_ms(fire_at)
        payload = serialize_job(function, args, {}, None, now_ms, serializer=serialize)
        pipe.psetex(job_key_prefix + job_id, max(score - now_ms, 0) + JOB_GRACE_MS, payload)
        pipe.zadd(keys.JOB_QUEUE, {job_id: score})

    def remove(self, pipe: Pipeline, commitment_id: str, version: int) -> None:
        """Drop a superseded step; if a worker already holds it, its version check skips it."""
        drop_step(pipe, step_job_id(commitment_id, version))


def drop_step(pipe: Pipeline, step_id: str) -> None:
    """Unschedule a step (and forget its retries) inside the caller's MULTI.

    A step job left in arq's queue from before the schedule existed is not looked for: when
    it runs, `fire_step` finds its version superseded and does nothing."""
    pipe.zrem(keys.STEP_SCHEDULE, step_id)
    pipe.hdel(keys.STEP_TRIES, step_id)


def drop_job(pipe: Pipeline, job_id: str) -> None:
    """Unschedule an arq job (queue member, payload and retry count) inside the caller's MULTI."""
    pipe.zrem(keys.JOB_QUEUE, job_id)
    pipe.delete(job_key_prefix + job_id, retry_key_prefix + job_id)


async def connect(target: RedisTarget | str, tls: RedisTls | None = None) -> ArqRedis:
    """An arq-flavoured Redis client: job payloads JSON, coachd's job queue as default.

    Not arq's `create_pool`: its `from_dsn` keeps a password percent-encoded and drops the
    query, and with `sentinel=True` it passes neither the sentinels' login nor a CA file nor
    host-name checking. So the client is built here (with redis-py's Sentinel client for a
    SentinelTarget) and arq's worker is handed it: arq itself never connects."""
    where = as_target(target, tls)
    pool = where.client(ArqRedis, socket_connect_timeout=CONNECT_TIMEOUT_S)
    # What arq's create_pool sets on the client it builds.
    pool.job_serializer = serialize
    pool.job_deserializer = deserialize
    pool.default_queue_name = keys.JOB_QUEUE
    try:
        await ping_until_answering(pool, where.describe())  # a wrong URL fails here, not later
    except BaseException:
        await pool.aclose()
        raise
    pack_with_hiredis(pool)  # batched writes are mostly command packing: do it in C
    return pool
