"""What every benchmark section shares: its coach file, generated events, due steps on demand.

Steps are never waited for in real time. The benchmark creates commitments that are already
overdue, so their one step fires at the moment the event says it happened; it says "in an
hour", then moves those steps' queue scores to the moment it wants them due (`release`), so
setting up never counts as lateness and a worker can be warm before the first step is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from arq.connections import ArqRedis
from arq.worker import Worker

from daemon.clock import Clock, SystemClock
from daemon.config.load import load_coach_config
from daemon.loop import ASYNCIO
from daemon.outbound.dispatcher import StepDispatcher
from daemon.outbound.firing import Services
from daemon.outbound.mailer import Mailer, NullMailer, SmtpConfig, SmtpMailer
from daemon.store.schedule import connect
from daemon.worker import (
    Identity,
    WorkerOptions,
    build_dispatcher,
    build_services,
    step_dispatcher,
)

# One coach, every client in UTC, a window that is open all day, one overdue prompt and no
# coach notice: a commitment created two days overdue has exactly one step, due at once.
BENCH_TOML = """
[firm]
name = "Bench Coaching"
from_address = "coach@bench.example"
reply_domain = "reply.bench.example"

[coaches.bench]
name = "Bench Coach"
email = "coach@bench.example"
timezone = "UTC"
profile = "bench"
digest = false

[profiles.bench]
reminders_before_due_days = [2]
overdue_prompt_days = [1]
send_at = "09:00"
send_window = { start = "00:00", end = "23:59:59" }
weekdays_only = false
stop_after_unanswered = 20
"""
CLIENT_DOMAIN = "bench.example"
# Steps are created this far ahead, then released (see the module docstring).
SCHEDULE_AHEAD = timedelta(hours=1)
# The send window closes for the last second of each day: a step planned then would move.
LAST_SAFE_TIME = clock_time(23, 59, 50)
OVERDUE_BY = timedelta(days=2)
# Pending (backlog) commitments are due 3 to 62 days from now, spread over the calendar.
PENDING_FROM_DAYS = 3
PENDING_SPREAD_DAYS = 60
RELEASE_CHUNK = 10_000
POLL_S = 0.005
WORKER_WARMUP_S = 0.3
MS_PER_S = 1000


@dataclass(frozen=True)
class BenchEnv:
    """Where the benchmark's servers are and how its workers are tuned; picklable for children."""

    url: str
    config_path: Path
    sink_port: int
    smtp_pool: int
    max_jobs: int
    poll_s: float
    null_transport: bool = False  # coachd's sends (beyond the delivery section) go nowhere
    event_loop: str = ASYNCIO  # worker processes run on the loop the bench runs on
    signing_key: bytes = field(default_factory=lambda: secrets.token_urlsafe(32).encode())

    def identity(self) -> Identity:
        return Identity("coach@bench.example", "reply.bench.example", self.signing_key)

    def smtp_config(self) -> SmtpConfig:
        return SmtpConfig("127.0.0.1", self.sink_port, "none", pool_size=self.smtp_pool)

    def mailer(self) -> Mailer:
        """The transport for timeliness and worker processes: the sink, or `--null-transport`."""
        return NullMailer() if self.null_transport else SmtpMailer(self.smtp_config())

    def worker_options(self) -> WorkerOptions:
        return WorkerOptions(max_jobs=self.max_jobs, poll_delay_s=self.poll_s, handle_signals=False)


def write_config(folder: Path) -> Path:
    path = folder / "bench.toml"
    path.write_text(BENCH_TOML)
    return path


@dataclass(frozen=True)
class StoppedClock:
    """A clock standing at `at`, the moment a batch's steps are planned for: released early,
    they still fire on time (daemon.clock.acting_moment), as steps composed ahead must."""

    at: datetime

    def now(self) -> datetime:
        return self.at

    def real(self, moment: datetime) -> datetime:
        return moment


@asynccontextmanager
async def coachd_services(
    env: BenchEnv, mailer: Mailer, clock: Clock | None = None, compose_ahead_s: float = 0.0
) -> AsyncIterator[Services]:
    """coachd's real services on the bench Redis, built the way `coachd run` builds them."""
    redis = await connect(env.url)
    config = load_coach_config(env.config_path)
    try:
        yield build_services(
            redis,
            config,
            mailer,
            clock or SystemClock(),
            env.identity(),
            compose_ahead_s=compose_ahead_s,
        )
    finally:
        await mailer.close()
        await redis.aclose()


def created_event(commitment_id: str, occurred_at: datetime, due: datetime) -> bytes:
    """A `commitment.created` event for a client of its own (one commitment per client)."""
    event: dict[str, Any] = {
        "version": 1,
        "event_id": f"ev-{commitment_id}",
        "occurred_at": occurred_at.isoformat(),
        "type": "commitment.created",
        "commitment_id": commitment_id,
        "coach_id": "bench",
        "client": {
            "client_id": commitment_id,
            "name": "Ana Ruiz",
            "email": f"{commitment_id}@{CLIENT_DOMAIN}",
            "timezone": "UTC",
        },
        "action": "draft the grant proposal's first page",
        "why": "so the community garden gets its funding",
        "due_date": due.date().isoformat(),
    }
    return json.dumps(event, separators=(",", ":")).encode()


def pending_events(prefix: str, start: int, stop: int, now: datetime) -> list[bytes]:
    """Commitments due in the weeks ahead: each keeps one reminder scheduled (the backlog)."""
    return [
        created_event(
            f"{prefix}{i}",
            now,
            now + timedelta(days=PENDING_FROM_DAYS + i % PENDING_SPREAD_DAYS),
        )
        for i in range(start, stop)
    ]


MARKER_SPACING_MS = 3
_MARKER_SLOTS = itertools.count(secrets.randbelow(MS_PER_S))


def release_marker(now: datetime) -> datetime:
    """A moment an hour ahead with a millisecond no other batch (or 09:00 reminder) has.

    Batches are found again by score +-1 ms, so markers of batches made in the same second
    are MARKER_SPACING_MS apart (a random pick collided now and then).
    """
    slot = next(_MARKER_SLOTS) % (MS_PER_S // MARKER_SPACING_MS - 1) + 1
    marker = (now + SCHEDULE_AHEAD).replace(microsecond=slot * MARKER_SPACING_MS * 1000)
    if marker.time() >= LAST_SAFE_TIME:
        marker += timedelta(minutes=1)
    return marker


def score_ms(moment: datetime) -> int:
    return int(moment.timestamp() * MS_PER_S)


async def release(
    redis: ArqRedis, queue: str, marker: int | None, when: Callable[[int], float]
) -> dict[str, float]:
    """Make the steps waiting at `marker` (None: every job in `queue`) due: the i-th at
    `when(i)` (epoch seconds). Returns each job id's new due time."""
    if marker is None:
        members = await redis.zrange(queue, 0, -1)
    else:
        members = await redis.zrangebyscore(queue, marker - 1, marker + 1)
    due = {m.decode(): when(i) for i, m in enumerate(members)}
    items = list(due.items())
    for start in range(0, len(items), RELEASE_CHUNK):
        chunk = {job_id: int(at * MS_PER_S) for job_id, at in items[start : start + RELEASE_CHUNK]}
        await redis.zadd(queue, chunk, xx=True)
    return due


def recipient_of(job_id: str) -> str:
    """The client address of a step job `<commitment>:<version>` in the benchmark's data."""
    return f"{job_id.rpartition(':')[0]}@{CLIENT_DOMAIN}"


class TimedMailer:
    """Wraps a mailer and notes when each recipient's message was accepted (wall clock)."""

    def __init__(self, inner: Mailer) -> None:
        self.inner = inner
        self.accepted: dict[str, float] = {}
        self.sample = b""

    async def send(
        self, message: bytes, sender: str, recipients: Sequence[str], **options: Any
    ) -> None:
        # Options (such as the ledger's commit point) pass through untouched: the wrapper
        # only times, whatever the Mailer protocol grows.
        await self.inner.send(message, sender, recipients, **options)
        self.accepted[recipients[0]] = time.time()
        if not self.sample:
            self.sample = message

    async def close(self) -> None:
        await self.inner.close()


def coachd_dispatcher(services: Services, env: BenchEnv) -> StepDispatcher:
    return build_dispatcher(services, env.worker_options())


@asynccontextmanager
async def dispatching(dispatcher: StepDispatcher) -> AsyncIterator[None]:
    """Run coachd's step dispatcher in the background (warm before the block starts)."""
    async with step_dispatcher(dispatcher):
        await asyncio.sleep(WORKER_WARMUP_S)
        yield


async def wait_fired(dispatcher: StepDispatcher, count: int, timeout_s: float) -> float:
    """Wait until the dispatcher handled `count` steps; returns the wall-clock time it did."""
    deadline = time.monotonic() + timeout_s
    while dispatcher.fired < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{dispatcher.fired} of {count} steps done in {timeout_s:.0f} s")
        await asyncio.sleep(POLL_S)
    return time.time()


@asynccontextmanager
async def running(worker: Worker) -> AsyncIterator[None]:
    """Run an arq worker in the background (warm before the block starts), cancel it after."""
    task = asyncio.create_task(worker.async_run())
    await asyncio.sleep(WORKER_WARMUP_S)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        # arq counts a job complete before its bookkeeping transaction; let that finish
        # before the caller closes the Redis client.
        await asyncio.gather(*worker.tasks.values(), return_exceptions=True)


async def wait_done(worker: Worker, count: int, timeout_s: float) -> float:
    """Wait until the worker finished `count` jobs; returns the wall-clock time it did."""
    deadline = time.monotonic() + timeout_s
    while worker.jobs_complete + worker.jobs_failed + worker.jobs_retried < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{worker.jobs_complete} of {count} jobs done in {timeout_s:.0f} s")
        await asyncio.sleep(POLL_S)
    finished = time.time()
    if worker.jobs_failed or worker.jobs_retried:
        raise RuntimeError(f"{worker.jobs_failed} jobs failed, {worker.jobs_retried} retried")
    return finished
