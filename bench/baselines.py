"""The benchmark's baselines: the same work done by raw Redis, raw arq and raw aiosmtplib."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import aiosmtplib
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.typing import WorkerCoroutine
from arq.worker import Worker, func

from bench.fixtures import CLIENT_DOMAIN, release, running, wait_done

XADD_STREAM = "bench:xadd"
ARQ_QUEUE = "bench:arq"
NOOP = "noop"
DEFER = timedelta(hours=1)
DONE_TIMEOUT_S = 600.0


async def noop(ctx: dict[str, Any]) -> None:
    """The job the arq baseline runs: nothing, so what is left is arq's own cost."""


async def raw_pool(url: str) -> ArqRedis:
    """arq's client with arq's defaults (pickle, its own default queue)."""
    pool: ArqRedis = await create_pool(RedisSettings.from_dsn(url))
    return pool


async def xadd_seconds(redis: ArqRedis, payloads: Sequence[bytes]) -> float:
    """How long plain XADDs of the same payloads take, one awaited at a time like `publish`."""
    started = time.perf_counter()
    for raw in payloads:
        await redis.xadd(XADD_STREAM, {"event": raw})
    return time.perf_counter() - started


async def xadd_pipelined_seconds(redis: ArqRedis, payloads: Sequence[bytes], per: int) -> float:
    """How long plain XADDs take in non-transactional pipelines of `per`, like `publish`."""
    started = time.perf_counter()
    for start in range(0, len(payloads), per):
        async with redis.pipeline(transaction=False) as pipe:
            for raw in payloads[start : start + per]:
                pipe.xadd(XADD_STREAM, {"event": raw})
            await pipe.execute()
    return time.perf_counter() - started


async def enqueue_seconds(pool: ArqRedis, count: int, queue: str = ARQ_QUEUE) -> float:
    """How long `count` deferred arq `enqueue_job` calls take, one at a time."""
    started = time.perf_counter()
    for _ in range(count):
        await pool.enqueue_job(NOOP, _queue_name=queue, _defer_by=DEFER)
    return time.perf_counter() - started


@dataclass(frozen=True)
class ArqTuning:
    """How a raw arq worker is set up: arq's defaults, or as a user tuning for speed would."""

    poll_s: float
    max_jobs: int
    keep_result_s: int  # arq writes each job's result for this long; 0 skips that write

    def describe(self) -> str:
        return f"poll {self.poll_s:g} s, {self.max_jobs} jobs, keep_result {self.keep_result_s} s"


# arq's own defaults (poll_delay, max_jobs, keep_result).
ARQ_DEFAULTS = ArqTuning(0.5, 10, 3600)


@dataclass(frozen=True)
class RawSend:
    """What the raw aiosmtplib client did: its rate and its own CPU per message."""

    rate: float  # emails/s
    cpu_s_per_email: float


async def arq_noop_rate(url: str, count: int, tuning: ArqTuning) -> float:
    """No-op jobs per second a raw arq worker runs, from due to done (deferred, then due)."""
    pool = await raw_pool(url)
    try:
        await pool.delete(ARQ_QUEUE)
        await enqueue_seconds(pool, count)
        worker = Worker(
            functions=[func(cast(WorkerCoroutine, noop), name=NOOP)],
            redis_pool=pool,
            queue_name=ARQ_QUEUE,
            poll_delay=tuning.poll_s,
            max_jobs=tuning.max_jobs,
            keep_result=tuning.keep_result_s,
            handle_signals=False,
        )
        async with running(worker):
            due_at = time.time()
            await release(pool, ARQ_QUEUE, None, lambda _: due_at)
            finished = await wait_done(worker, count, DONE_TIMEOUT_S)
        return count / (finished - due_at)
    finally:
        await pool.aclose()


async def smtp_raw_send(port: int, pool_size: int, count: int, message: bytes) -> RawSend:
    """Pre-rendered messages over `pool_size` reused aiosmtplib connections: the rate, and
    this process's CPU per message (connecting and quitting left out, as from the time)."""
    clients = [
        aiosmtplib.SMTP(hostname="127.0.0.1", port=port, use_tls=False, start_tls=False)
        for _ in range(pool_size)
    ]
    await asyncio.gather(*(client.connect() for client in clients))
    shares = [len(range(k, count, pool_size)) for k in range(pool_size)]

    async def send_share(client: aiosmtplib.SMTP, share: int) -> None:
        for i in range(share):
            await client.sendmail(f"bounces@{CLIENT_DOMAIN}", [f"raw{i}@{CLIENT_DOMAIN}"], message)

    try:
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(send_share(c, s) for c, s in zip(clients, shares, strict=True)))
        cpu_s = time.process_time() - cpu
        return RawSend(count / (time.perf_counter() - started), cpu_s / count)
    finally:
        await asyncio.gather(*(client.quit() for client in clients))
