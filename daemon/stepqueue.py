"""The one module that knows arq's storage format: step jobs are added and removed here."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from arq.constants import job_key_prefix, retry_key_prefix
from arq.jobs import serialize_job
from redis.asyncio.client import Pipeline

from daemon import keys
from jobs.step import PlannedStep

# Job names are wire format: renaming one would orphan every queued job of it.
FIRE_STEP = "fire_step"
SEND_NOTICE = "send_coach_notice"
SEND_DIGEST = "send_digest"
# arq deletes a job's payload this long after its fire time if no worker took it.
JOB_GRACE_MS = 7 * 24 * 3600 * 1000
MS_PER_S = 1000


class Clock(Protocol):
    """Injected time: `now` is the domain's time, `real` converts it to wall-clock time."""

    def now(self) -> datetime: ...

    def real(self, moment: datetime) -> datetime: ...


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


class StepQueue:
    """Adds and removes deferred `fire_step` jobs inside the caller's Redis transaction.

    Writing arq's two keys ourselves (instead of `enqueue_job`) puts a step's scheduling in
    the same MULTI as the state change that caused it: both happen, or neither.
    """

    def __init__(self, clock: Clock, now_ms: Callable[[], int]) -> None:
        self._clock = clock
        self._now_ms = now_ms

    def add(self, pipe: Pipeline, commitment_id: str, version: int, step: PlannedStep) -> None:
        job_id = step_job_id(commitment_id, version)
        self.add_job(pipe, FIRE_STEP, job_id, (commitment_id, version, step.name), step.fire_at)

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
        score = int(self._clock.real(fire_at).timestamp() * MS_PER_S)
        payload = serialize_job(function, args, {}, None, now_ms, serializer=serialize)
        pipe.psetex(job_key_prefix + job_id, max(score - now_ms, 0) + JOB_GRACE_MS, payload)
        pipe.zadd(keys.STEP_QUEUE, {job_id: score})

    def remove(self, pipe: Pipeline, commitment_id: str, version: int) -> None:
        """Drop a superseded job; if a worker already holds it, its version check skips it."""
        drop_job(pipe, step_job_id(commitment_id, version))


def drop_job(pipe: Pipeline, job_id: str) -> None:
    """Unschedule any job (queue member, payload and retry count) inside the caller's MULTI."""
    pipe.zrem(keys.STEP_QUEUE, job_id)
    pipe.delete(job_key_prefix + job_id, retry_key_prefix + job_id)
