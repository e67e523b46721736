"""`coachd bench`: coachd's ingest, delivery, timeliness, memory and scaling beside raw baselines.

Everything runs on loopback in one process tree: an embedded Redis, an SMTP sink in its own
process (bench.sink), coachd's real store, inbox consumer and arq worker in this process,
and (for scaling) worker processes of its own. Every figure is the median of `runs` runs.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bench.baselines import (
    ARQ_DEFAULTS,
    ArqTuning,
    arq_noop_rate,
    enqueue_seconds,
    raw_pool,
    smtp_raw_send,
    xadd_pipelined_seconds,
    xadd_seconds,
)
from bench.fixtures import MS_PER_S, BenchEnv, coachd_services, pending_events, write_config
from bench.paths import deliver, ingest
from bench.pinning import Pinning, pin, pinned, plan_pinning, usable_cpus
from bench.plan import (
    DELIVERY,
    INGEST,
    SCALING,
    TIMELINESS,
    BenchOptions,
    Context,
)
from bench.report import (
    Progress,
    Report,
    Section,
    Target,
    limit_target,
    machine_facts,
    percentile,
    ratio_target,
)
from bench.scale import (
    measure_levels,
    measure_processes,
    scaling_targets,
)
from bench.sink import SinkProcess
from daemon.inbox.stream import PUBLISH_BATCH
from daemon.loop import running_loop
from daemon.outbound.mailer import NullMailer, SmtpMailer
from daemon.store.embedded import EmbeddedRedis
from daemon.store.schedule import connect

INGEST_TITLE = "ingest (one process)"
DELIVERY_TITLE = "delivery (due → accepted)"
TIMELINESS_TITLE = "timeliness (lateness: accepted minus due)"
CPU_RATIO = "CPU per email: coachd ÷ raw aiosmtplib client"
CPU_RATIO_AHEAD = "CPU per email: coachd composed ahead ÷ raw aiosmtplib client"
BURST_P99_MS = 2000.0
CPU_RATIO_TARGET = 1.6
MS = "ms"
P50, P99 = 0.5, 0.99
QUIET_START_S = 0.2
DELIVERY_SHARE = 0.8
BURST_SHARE = 0.9
INGEST_TARGET = 5_000
QUIET_P99_MS = 1_000


async def run_bench(options: BenchOptions, stream: TextIO | None = None) -> Report:
    """Start the servers, run every requested section, and return the report."""
    started = time.monotonic()
    pinning = plan_pinning(usable_cpus())
    with (
        Progress(options.task_count(), stream) as progress,
        tempfile.TemporaryDirectory(prefix="coachd-bench-") as tmp,
        SinkProcess(pinning.sink) as sink,
    ):
        folder = Path(tmp)
        async with EmbeddedRedis(folder / "redis") as server:
            if server.pid is not None:  # Redis keeps off the sink's and the sender's cores
                pin(server.pid, pinning.rest)
            env = BenchEnv(
                server.url,
                write_config(folder),
                sink.port,
                options.smtp_pool,
                options.max_jobs,
                options.poll_s,
                options.null_transport,
                running_loop(),
            )
            redis = await connect(env.url)
            try:
                version = str((await redis.info("server"))["redis_version"])
                facts = machine_facts(version) | {
                    "event_loop": env.event_loop,
                    "pinning": pinning.note,
                }
                report = Report(facts, asdict(options))
                await _measure(Context(options, env, redis, sink, progress, report), pinning)
            finally:
                await redis.aclose()
        progress.finish()
    report.seconds = time.monotonic() - started
    report.machine["load_average_1m"].append(round(os.getloadavg()[0], 2))
    report.targets = check_targets(report)
    return report


async def _measure(ctx: Context, pinning: Pinning) -> None:
    # Runs interleave (run 1 of every section, then run 2, ...) so drift hits all alike.
    options = ctx.options
    for run in range(options.runs):
        if options.runs_section(INGEST):
            await measure_ingest(ctx, run)
        if options.runs_section(DELIVERY):
            with pinned(pinning.sender):  # coachd and the raw client send from one core
                await measure_delivery(ctx, run)
        if options.runs_section(TIMELINESS):
            await measure_timeliness(ctx, run)
    if options.fills_levels:
        await measure_levels(ctx)
    if options.runs_section(SCALING):
        await measure_processes(ctx)


async def measure_ingest(ctx: Context, run: int) -> None:
    count = ctx.options.events
    ctx.progress.step(f"ingest run {run + 1}: {count:,} events, XADDs, enqueues")
    await ctx.redis.flushall()
    events = pending_events(f"i{run}-", 0, count, datetime.now(UTC))
    async with coachd_services(ctx.env, NullMailer()) as services:
        publish_s, apply_s = await ingest(services.store, events, "bench")
    xadd_pipelined_s = await xadd_pipelined_seconds(ctx.redis, events, PUBLISH_BATCH)
    xadd_s = await xadd_seconds(ctx.redis, events)
    pool = await raw_pool(ctx.env.url)
    try:
        enqueue_s = await enqueue_seconds(pool, count)
    finally:
        await pool.aclose()
    section = ctx.report.section(INGEST_TITLE)
    section.record(
        "coachd: apply (validated, stored, planned, scheduled)", "events/s", count / apply_s
    )
    section.record(
        f"coachd: publish (validate + XADD, {PUBLISH_BATCH} per pipeline)",
        "events/s",
        count / publish_s,
    )
    section.record(f"raw XADD, {PUBLISH_BATCH} per pipeline", "ops/s", count / xadd_pipelined_s)
    section.record("raw XADD, one at a time", "ops/s", count / xadd_s)
    section.record("raw arq enqueue_job (deferred)", "jobs/s", count / enqueue_s)


async def measure_delivery(ctx: Context, run: int) -> None:
    options, env, progress = ctx.options, ctx.env, ctx.progress
    count, pool = options.emails, options.smtp_pool
    section = ctx.report.section(DELIVERY_TITLE)
    progress.step(f"delivery run {run + 1}: {count:,} steps, null transport")
    await ctx.redis.flushall()
    null = await deliver(env, NullMailer(), f"n{run}-", count, lambda _: 0.0)
    progress.step(f"delivery run {run + 1}: {count:,} steps into the SMTP sink")
    await ctx.redis.flushall()
    before = ctx.sink.stats()
    smtp = await deliver(env, SmtpMailer(env.smtp_config()), f"s{run}-", count, lambda _: 0.0)
    after = ctx.sink.stats()
    if after.count - before.count != len(smtp.mailer.accepted):
        raise RuntimeError("the SMTP sink did not receive every message")
    progress.step(f"delivery run {run + 1}: {count:,} steps composed ahead, into the SMTP sink")
    await ctx.redis.flushall()
    smtp_mailer = SmtpMailer(env.smtp_config())
    ahead = await deliver(env, smtp_mailer, f"a{run}-", count, lambda _: 0.0, ahead=True)
    ahead_sink = ctx.sink.stats()
    section.record(f"coachd → SMTP sink ({pool} connections)", "emails/s", smtp.rate)
    section.record("coachd → null transport", "emails/s", null.rate)
    for tuning, name in ((ARQ_DEFAULTS, "defaults"), (arq_tuned(env), "tuned")):
        progress.step(f"delivery run {run + 1}: raw arq no-op jobs, {name}")
        await ctx.redis.flushall()
        rate = await arq_noop_rate(env.url, count, tuning)
        section.record(f"raw arq no-op, {name} ({tuning.describe()})", "jobs/s", rate)
    progress.step(f"delivery run {run + 1}: raw aiosmtplib, {pool} connections")
    message = null.mailer.sample
    raw = await smtp_raw_send(env.sink_port, pool, count, message)
    sink_raw_s = (ctx.sink.stats().cpu_s - ahead_sink.cpu_s) / count
    section.record(f"raw aiosmtplib, {pool} reused connections", "emails/s", raw.rate)
    section.record("composed message size", "bytes", len(message))
    # CPU per email is the honest comparison on a shared machine: a busy neighbour slows
    # both rates but barely moves either process's own CPU per message.
    section.record("CPU per email: coachd → SMTP sink", MS, smtp.cpu_s_per_email * MS_PER_S)
    section.record("coachd → SMTP sink, composed ahead", "emails/s", ahead.rate)
    section.record(
        "CPU per email: coachd → SMTP sink, composed ahead", MS, ahead.cpu_s_per_email * MS_PER_S
    )
    section.record("CPU per email: coachd → null transport", MS, null.cpu_s_per_email * MS_PER_S)
    section.record("CPU per email: raw aiosmtplib client", MS, raw.cpu_s_per_email * MS_PER_S)
    section.record(CPU_RATIO, "x", smtp.cpu_s_per_email / raw.cpu_s_per_email)
    section.record(CPU_RATIO_AHEAD, "x", ahead.cpu_s_per_email / raw.cpu_s_per_email)
    sink_coachd_s = (after.cpu_s - before.cpu_s) / len(smtp.mailer.accepted)
    section.record("CPU per email: SMTP sink, taking coachd's", MS, sink_coachd_s * MS_PER_S)
    section.record("CPU per email: SMTP sink, taking raw's", MS, sink_raw_s * MS_PER_S)


def arq_tuned(env: BenchEnv) -> ArqTuning:
    """arq as its users tune it for throughput: no result writes, coachd's poll and max_jobs."""
    return ArqTuning(env.poll_s, env.max_jobs, keep_result_s=0)


async def measure_timeliness(ctx: Context, run: int) -> None:
    options, env = ctx.options, ctx.env
    section = ctx.report.section(TIMELINESS_TITLE)
    quiet, spread, burst = options.quiet, options.quiet_spread_s, options.burst
    ctx.progress.step(f"timeliness run {run + 1}: {quiet} steps over {spread:g} s")
    await ctx.redis.flushall()
    calm = await deliver(
        env,
        env.mailer(),
        f"q{run}-",
        quiet,
        lambda i: QUIET_START_S + i * spread / quiet,
    )
    _record_lateness(section, f"quiet ({quiet} over {spread:g} s)", calm.lateness_ms())
    ctx.progress.step(f"timeliness run {run + 1}: burst of {burst:,} steps due at once")
    await ctx.redis.flushall()
    rush = await deliver(env, env.mailer(), f"b{run}-", burst, lambda _: QUIET_START_S)
    _record_lateness(section, f"burst ({burst:,} due at once)", rush.lateness_ms())
    section.record(f"burst ({burst:,} due at once) drain rate", "emails/s", rush.rate)
    ctx.progress.step(f"timeliness run {run + 1}: burst of {burst:,}, composed ahead")
    await ctx.redis.flushall()
    kept = await deliver(env, env.mailer(), f"k{run}-", burst, lambda _: QUIET_START_S, ahead=True)
    _record_lateness(section, f"burst ({burst:,} due at once), composed ahead", kept.lateness_ms())


def _record_lateness(section: Section, label: str, lateness: list[float]) -> None:
    section.record(f"{label} p50", "ms", percentile(lateness, P50))
    section.record(f"{label} p99", "ms", percentile(lateness, P99))
    section.record(f"{label} max", "ms", max(lateness))


def check_targets(report: Report) -> list[Target]:
    """The issue's targets that this report's figures can decide."""

    def median(title: str, *words: str) -> float | None:
        return report.median_of(title, *words)

    smtp = median(DELIVERY_TITLE, "coachd", "SMTP")
    targets = [
        ratio_target(
            "delivery ≥ 80% of raw aiosmtplib",
            smtp,
            median(DELIVERY_TITLE, "raw aiosmtplib"),
            DELIVERY_SHARE,
        ),
        limit_target(
            f"coachd CPU per email ≤ {CPU_RATIO_TARGET:g}x raw aiosmtplib's",
            median(DELIVERY_TITLE, CPU_RATIO),
            CPU_RATIO_TARGET,
            "x",
        ),
        limit_target(
            f"composed ahead: coachd CPU per email ≤ {CPU_RATIO_TARGET:g}x raw aiosmtplib's",
            median(DELIVERY_TITLE, CPU_RATIO_AHEAD),
            CPU_RATIO_TARGET,
            "x",
        ),
        ratio_target(
            "null transport ≥ raw arq tuned (keep_result 0)",
            median(DELIVERY_TITLE, "coachd", "null"),
            median(DELIVERY_TITLE, "raw arq", "tuned"),
            1.0,
        ),
        limit_target(
            "ingest ≥ 5,000 events/s",
            median(INGEST_TITLE, "coachd", "apply"),
            INGEST_TARGET,
            "events/s",
            at_least=True,
        ),
        limit_target(
            "quiet p99 lateness ≤ 1 s", median(TIMELINESS_TITLE, "quiet", "p99"), QUIET_P99_MS, "ms"
        ),
        limit_target(
            "burst p99 lateness ≤ 2 s (composed ahead)",
            median(TIMELINESS_TITLE, "composed ahead", "p99"),
            BURST_P99_MS,
            "ms",
        ),
        ratio_target(
            "burst drains at the delivery rate",
            median(TIMELINESS_TITLE, "burst", "drain rate"),
            smtp,
            BURST_SHARE,
        ),
    ]
    return [t for t in [*targets, *scaling_targets(report)] if t is not None]
