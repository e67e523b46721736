"""Running coachd's own paths for the benchmark: the inbox end to end, and a worker firing steps."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from arq.connections import ArqRedis

from bench.fixtures import (
    MS_PER_S,
    OVERDUE_BY,
    BenchEnv,
    TimedMailer,
    coachd_dispatcher,
    coachd_services,
    created_event,
    dispatching,
    recipient_of,
    release,
    release_marker,
    score_ms,
    wait_fired,
)
from daemon.inbox.stream import InboxConsumer, ensure_group, publish
from daemon.outbound.mailer import Mailer
from daemon.store import keys
from daemon.store.commitments import Store

DONE_TIMEOUT_S = 1800.0
# Steps fired (and templates compiled, connections opened) before the measured batch.
WARMUP_STEPS = 20


@dataclass(frozen=True)
class Delivered:
    """One batch of steps fired by coachd's worker: when each was due, when the batch ended."""

    due: dict[str, float]  # job id -> due time (epoch s)
    finished: float
    mailer: TimedMailer
    cpu_s: float  # this process's CPU from the batch's release to its last step done

    @property
    def cpu_s_per_email(self) -> float:
        return self.cpu_s / len(self.due)

    @property
    def rate(self) -> float:
        """Steps per second from the first one due to the last one done."""
        return len(self.due) / (self.finished - min(self.due.values()))

    def lateness_ms(self) -> list[float]:
        """Accepted time minus due time of every step, in milliseconds."""
        accepted = self.mailer.accepted
        return [(accepted[recipient_of(job)] - at) * MS_PER_S for job, at in self.due.items()]


async def deliver(
    env: BenchEnv, mailer: Mailer, prefix: str, count: int, when: Callable[[int], float]
) -> Delivered:
    """Create `count` steps, start coachd's worker, make the i-th step due at `when(i)`
    (seconds after the worker is warm) and wait until every one is done."""
    timed = TimedMailer(mailer)
    async with coachd_services(env, timed) as services:
        warmup = await prepare_due(services.store, f"{prefix}warm-", WARMUP_STEPS)
        marker = await prepare_due(services.store, prefix, count)
        dispatcher = coachd_dispatcher(services, env)
        redis = services.store.redis
        assert isinstance(redis, ArqRedis)
        async with dispatching(dispatcher):
            await _release_all(redis, warmup, WARMUP_STEPS, lambda _: time.time())
            await wait_fired(dispatcher, WARMUP_STEPS, timeout_s=DONE_TIMEOUT_S)
            # coachd runs in this process: its CPU is this process's (the sink and Redis run
            # in their own), counting the 5 ms polls of `wait_fired` (~1% of it).
            start, cpu = time.time(), time.process_time()
            due = await _release_all(redis, marker, count, lambda i: start + when(i))
            finished = await wait_fired(dispatcher, WARMUP_STEPS + count, DONE_TIMEOUT_S)
            cpu_s = time.process_time() - cpu
    if len(timed.accepted) != WARMUP_STEPS + count:
        raise RuntimeError(f"{len(timed.accepted) - WARMUP_STEPS} of {count} steps were sent")
    return Delivered(due, finished, timed, cpu_s)


async def _release_all(
    redis: ArqRedis, marker: int, count: int, when: Callable[[int], float]
) -> dict[str, float]:
    due = await release(redis, keys.STEP_SCHEDULE, marker, when)
    if len(due) != count:
        raise RuntimeError(f"{len(due)} of {count} steps were scheduled at the marker")
    return due


async def ingest(store: Store, events: Sequence[bytes], consumer_name: str) -> tuple[float, float]:
    """Publish `events` the way `coachd emit` does, then drain the inbox the way `coachd run`
    does; returns (seconds publishing, seconds applying the already-published inbox)."""
    redis = store.redis
    await ensure_group(redis)
    consumer = InboxConsumer(redis, store, consumer_name)
    dead_before = await redis.xlen(keys.DEAD_LETTER_STREAM)
    started = time.perf_counter()
    await publish(redis, events)
    published = time.perf_counter()
    while await consumer.consume_once(">", block_ms=None):
        pass
    finished = time.perf_counter()
    dead = await redis.xlen(keys.DEAD_LETTER_STREAM) - dead_before
    if dead:
        raise RuntimeError(f"{dead} benchmark events were dead-lettered")
    return published - started, finished - published


async def prepare_due(store: Store, prefix: str, count: int) -> int:
    """Create `count` overdue commitments whose one step waits at a marker; returns its score."""
    marker = release_marker(datetime.now(UTC))
    due = marker - OVERDUE_BY
    events = [created_event(f"{prefix}{i}", marker, due) for i in range(count)]
    await ingest(store, events, "bench-setup")
    return score_ms(marker)
