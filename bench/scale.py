"""The benchmark at size: Redis memory per commitment, costs at a backlog, worker processes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import cast

from arq.connections import ArqRedis

from bench.fixtures import coachd_services, pending_events, release
from bench.paths import deliver, ingest, prepare_due
from bench.plan import SCALING, Context
from bench.processes import WorkerProcesses, fill_backlog
from bench.report import Report, Section, Target, limit_target
from daemon.outbound.mailer import NullMailer
from daemon.store import keys
from daemon.store.redisio import read_hash

MEMORY_TITLE = "memory (Redis bytes per active commitment)"
SCALING_TITLE = "scaling"
FILL_PREFIX = "p"
US_PER_S = 1_000_000
QUEUE_POLL_S = 0.01
PROCESS_TIMEOUT_S = 1800.0
MEMORY_LIMIT_BYTES = 1024
FLAT_FACTOR = 1.25


async def used_memory(redis: ArqRedis) -> int:
    return int((await redis.info("memory"))["used_memory"])


async def memory_usage(redis: ArqRedis, key: str) -> int:
    return int(await redis.memory_usage(key) or 0)


async def measure_levels(ctx: Context) -> None:
    """Fill the backlog level by level; at each, Redis memory and (scaling) the marginal costs."""
    options, redis = ctx.options, ctx.redis
    memory = ctx.report.section(MEMORY_TITLE)
    await redis.flushall()
    filled = pending = 0
    for level in sorted(options.levels):
        added = max(level - pending, 0)
        ctx.progress.step(f"backlog: {added:,} more pending commitments (to {level:,})")
        # The backlog goes in through the inbox; its entries are not per-commitment state.
        await redis.xtrim(keys.INBOX_STREAM, maxlen=0, approximate=False)
        before = await used_memory(redis)
        now = datetime.now(UTC)
        await asyncio.to_thread(
            fill_backlog, ctx.env, FILL_PREFIX, (filled, filled + added), now, options.fillers
        )
        await redis.xtrim(keys.INBOX_STREAM, maxlen=0, approximate=False)
        if added:
            per_commitment = (await used_memory(redis) - before) / added
            memory.record(f"at {level:,} commitments", "bytes", per_commitment)
        filled, pending = filled + added, pending + added
        if options.runs_section(SCALING):
            pending += await _costs_at(ctx, level)
    if filled:
        await _breakdown(redis, memory, f"{FILL_PREFIX}0")


async def _costs_at(ctx: Context, level: int) -> int:
    """Per-event and per-step cost with `level` steps pending; returns the events it added."""
    options, section = ctx.options, ctx.report.section(SCALING_TITLE)
    batch = options.batch
    for run in range(options.runs):
        ctx.progress.step(f"scaling run {run + 1}: {batch:,} events at {level:,} pending")
        events = pending_events(f"e{level}-{run}-", 0, batch, datetime.now(UTC))
        async with coachd_services(ctx.env, NullMailer()) as services:
            _, seconds = await ingest(services.store, events, "bench")
        section.record(f"per event at {level:,} pending", "µs", seconds / batch * US_PER_S)
        ctx.progress.step(f"scaling run {run + 1}: {batch:,} steps at {level:,} pending")
        done = await deliver(ctx.env, NullMailer(), f"d{level}-{run}-", batch, lambda _: 0.0)
        section.record(
            f"per step (null transport) at {level:,} pending", "µs", US_PER_S / done.rate
        )
    return batch * options.runs


async def _breakdown(redis: ArqRedis, section: Section, commitment_id: str) -> None:
    """Where one backlog commitment's bytes go (MEMORY USAGE, key overhead included)."""
    record = await read_hash(redis, keys.commitment(commitment_id))
    parts = {
        "commitment hash": keys.commitment(commitment_id),
        "client hash (with its commitment ids)": keys.client(commitment_id),
        "event-seen mark (kept 30 days)": keys.event_seen(f"ev-{commitment_id}"),
    }
    for label, key in parts.items():
        section.record(f"  of which {label}", "bytes", await memory_usage(redis, key))
    bucket, _ = keys.thread(record["thread"])
    for label, key, count in (
        ("thread → commitment field (shared hash)", bucket, await _hlen(redis, bucket)),
        ("step schedule member", keys.STEP_SCHEDULE, await redis.zcard(keys.STEP_SCHEDULE)),
        ("coach's commitment set member", keys.coach_commitments("bench"), None),
        ("inbox stream entry (kept up to 1M)", keys.INBOX_STREAM, None),
    ):
        total = await memory_usage(redis, key)
        members = count or await _members(redis, key)
        if members:
            section.record(f"  {label}", "bytes", total / members)


async def _hlen(redis: ArqRedis, key: str) -> int:
    return int(await cast(Awaitable[int], redis.hlen(key)))


async def _members(redis: ArqRedis, key: str) -> int:
    kind = (await redis.type(key)).decode()
    if kind == "set":
        return int(await cast(Awaitable[int], redis.scard(key)))
    if kind == "stream":
        return int(await redis.xlen(key))
    return 0


async def measure_processes(ctx: Context) -> None:
    """Delivery into the sink with 1, 2, 4… worker processes sharing the bench Redis."""
    options = ctx.options
    section = ctx.report.section(SCALING_TITLE)
    await ctx.redis.flushall()
    for count in options.processes:
        ctx.progress.step(f"scaling: starting {count} worker process(es)")
        with WorkerProcesses(ctx.env, count):
            for run in range(options.runs):
                ctx.progress.step(
                    f"scaling run {run + 1}: {options.process_emails:,} steps, {count} process(es)"
                )
                rate = await _process_run(ctx, f"w{count}-{run}-")
                section.record(f"delivery, {count} worker process(es)", "emails/s", rate)


async def _process_run(ctx: Context, prefix: str) -> float:
    count = ctx.options.process_emails
    async with coachd_services(ctx.env, NullMailer()) as services:
        marker = await prepare_due(services.store, prefix, count)
    before = ctx.sink.stats().count
    due_at = time.time()
    due = await release(ctx.redis, keys.STEP_SCHEDULE, marker, lambda _: due_at)
    if len(due) != count:
        raise RuntimeError(f"{len(due)} of {count} steps were scheduled at the marker")
    # A fired step leaves the schedule (these steps have no next one): empty means all done.
    deadline = time.monotonic() + PROCESS_TIMEOUT_S
    while await ctx.redis.zcard(keys.STEP_SCHEDULE):
        if time.monotonic() > deadline:
            raise TimeoutError(f"worker processes did not finish {count} steps in time")
        await asyncio.sleep(QUEUE_POLL_S)
    finished = time.time()
    if not ctx.env.null_transport and ctx.sink.stats().count - before != count:
        raise RuntimeError("the SMTP sink did not receive every message")
    return count / (finished - due_at)


def scaling_targets(report: Report) -> list[Target | None]:
    """Memory at the largest level, and costs flat from the smallest level to the largest."""
    levels = sorted(report.options.get("levels", ()))
    if not levels:
        return []
    small, large = f"{levels[0]:,} pending", f"{levels[-1]:,} pending"
    targets = [
        limit_target(
            f"≤ 1 KB per commitment at {levels[-1]:,}",
            report.median_of(MEMORY_TITLE, f"at {levels[-1]:,} commitments"),
            MEMORY_LIMIT_BYTES,
            "bytes",
        )
    ]
    if len(levels) > 1:
        for what in ("per event", "per step"):
            low = report.median_of(SCALING_TITLE, what, small)
            high = report.median_of(SCALING_TITLE, what, large)
            if low and high:
                factor = high / low
                targets.append(
                    Target(
                        f"{what} cost at {levels[-1]:,} within {FLAT_FACTOR}x of {levels[0]:,}",
                        f"{factor:.2f}x (needs <= {FLAT_FACTOR}x)",
                        factor <= FLAT_FACTOR,
                    )
                )
    return targets
