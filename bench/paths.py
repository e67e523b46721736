"""Running coachd's own paths for the benchmark: the inbox end to end, and a worker firing steps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from arq.connections import ArqRedis

from bench.fixtures import (
    MS_PER_S,
    OVERDUE_BY,
    POLL_S,
    BenchEnv,
    StoppedClock,
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
from daemon.outbound.firing import Services
from daemon.outbound.mailer import Mailer
from daemon.store import keys
from daemon.store.commitments import Store

DONE_TIMEOUT_S = 1800.0
# Composing ahead covers the marker, an hour away (bench.fixtures.release_marker).
COMPOSE_AHEAD_S = 2 * 3600.0
KEPT = "coachd_emails_composed_ahead_total"
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
    env: BenchEnv,
    mailer: Mailer,
    prefix: str,
    count: int,
    when: Callable[[int], float],
    *,
    ahead: bool = False,
) -> Delivered:
    """Create `count` steps, start coachd's worker, make the i-th step due at `when(i)`
    (seconds after the worker is warm) and wait until every one is done.

    `ahead`: the worker, idle while the steps are still an hour away, composes their emails
    ahead (daemon.outbound.composeahead) before they are made due; the clock stands at the
    moment they are planned for, so that they fire on time and their kept emails are used.
    """
    timed = TimedMailer(mailer)
    planned_at = release_marker(datetime.now(UTC))
    clock = StoppedClock(planned_at) if ahead else None
    ahead_s = COMPOSE_AHEAD_S if ahead else 0.0
    async with coachd_services(env, timed, clock, ahead_s) as services:
        warmup = await prepare_due(services.store, f"{prefix}warm-", WARMUP_STEPS)
        marker = await prepare_due(services.store, prefix, count, planned_at)
        dispatcher = coachd_dispatcher(services, env)
        redis = services.store.redis
        assert isinstance(redis, ArqRedis)
        async with dispatching(dispatcher):
            await _release_all(redis, warmup, WARMUP_STEPS, lambda _: time.time())
            await wait_fired(dispatcher, WARMUP_STEPS, timeout_s=DONE_TIMEOUT_S)
            if ahead:
                await wait_kept(services, count, timeout_s=DONE_TIMEOUT_S)
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


async def prepare_due(store: Store, prefix: str, count: int, marker: datetime | None = None) -> int:
    """Create `count` overdue commitments whose one step waits at a marker (a new one, unless
    given); returns its score."""
    marker = marker or release_marker(datetime.now(UTC))
    due = marker - OVERDUE_BY
    events = [created_event(f"{prefix}{i}", marker, due) for i in range(count)]
    await ingest(store, events, "bench-setup")
    return score_ms(marker)


async def wait_kept(services: Services, count: int, timeout_s: float) -> None:
    """Wait until the worker's look-ahead has kept `count` emails (daemon.outbound.lookahead)."""
    deadline = time.monotonic() + timeout_s
    registry = services.metrics.registry
    while (registry.get_sample_value(KEPT, {"use": "kept"}) or 0) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"fewer than {count} emails composed ahead in {timeout_s:.0f} s")
        await asyncio.sleep(POLL_S)
