"""Worker wiring: the step dispatcher, the inbox consumer and the arq worker for coach emails."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import structlog
from arq import Retry
from arq.connections import ArqRedis
from arq.typing import WorkerCoroutine
from arq.utils import timestamp_ms
from arq.worker import Worker, func
from redis.exceptions import RedisError

from daemon.config.load import CoachConfig
from daemon.errors import RetryLater
from daemon.heartbeat import Heartbeat, Heartbeats
from daemon.inbox.stream import RECLAIM_IDLE_MS, InboxConsumer, ensure_group
from daemon.outbound.briefmail import send_brief
from daemon.outbound.coachmail import schedule_all_digests, send_coach_notice, send_digest
from daemon.outbound.delivery import ARQ_MAX_TRIES, RETRY_BASE_S, fire_step
from daemon.outbound.dispatcher import StepDispatcher
from daemon.outbound.firing import Services
from daemon.outbound.ledger import SendLedger
from daemon.outbound.mailer import Mailer
from daemon.outbound.promptcap import PromptCap
from daemon.store import keys
from daemon.store.commitments import Store
from daemon.store.migration import migrate
from daemon.store.schedule import (
    FIRE_STEP,
    SEND_BRIEF,
    SEND_DIGEST,
    SEND_NOTICE,
    Clock,
    StepQueue,
    deserialize,
    serialize,
)
from daemon.store.settingscheck import warn_about_settings

log = structlog.get_logger(__name__)

# Every job the worker runs, by its wire name.
JOBS: dict[str, Callable[..., Awaitable[str]]] = {
    FIRE_STEP: fire_step,
    SEND_NOTICE: send_coach_notice,
    SEND_DIGEST: send_digest,
    SEND_BRIEF: send_brief,
}
# A job's time limit; after a SIGKILL arq re-runs it once this (+10 s) has passed.
JOB_TIMEOUT_S = 60
# On SIGTERM no new send starts; those in flight get this long, then they are cut off.
SHUTDOWN_GRACE_S = 20
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# While Redis is away the worker retries with this backoff (and logs each try).
OUTAGE_RETRY_MIN_S = 0.5
OUTAGE_RETRY_MAX_S = 10.0
# A send claim outlives the job that holds it: a live send never looks abandoned.
LEASE_MARGIN_MIN_S = 5
LEASE_MARGIN_SHARE = 4  # a quarter of the job timeout, at least LEASE_MARGIN_MIN_S
MS_PER_S = 1000


@dataclass(frozen=True)
class WorkerOptions:
    # Steps claimed per batch (and arq's concurrency for coach emails).
    max_jobs: int = 100
    poll_delay_s: float = 0.2
    # An inbox entry a consumer read but did not acknowledge this long ago is taken over.
    inbox_reclaim_ms: int = RECLAIM_IDLE_MS
    # From SIGTERM: in-flight sends finish within this, or are cut off (and arq jobs cancelled).
    shutdown_grace_s: int = SHUTDOWN_GRACE_S
    handle_signals: bool = True
    burst: bool = False
    # Renewed by the inbox consumer's and the dispatcher's loops; `/readyz` reads them.
    heartbeats: Heartbeats = field(default_factory=Heartbeats)


@dataclass(frozen=True)
class Identity:
    """Where mail comes from and how replies find their way back."""

    from_address: str
    reply_domain: str
    signing_key: bytes = field(repr=False)  # a secret: never in a repr or a log
    public_url: str | None = None  # https://… where one-click unsubscribe is served


def lease_ms(job_timeout_s: int) -> int:
    margin_s = max(LEASE_MARGIN_MIN_S, job_timeout_s // LEASE_MARGIN_SHARE)
    return (job_timeout_s + margin_s) * MS_PER_S


def build_services(
    redis: ArqRedis,
    config: CoachConfig,
    mailer: Mailer,
    clock: Clock,
    identity: Identity,
    *,
    job_timeout_s: int = JOB_TIMEOUT_S,
    retry_base_s: float = RETRY_BASE_S,
    compose_ahead_s: float = 0.0,
) -> Services:
    queue = StepQueue(clock, timestamp_ms)
    store = Store(redis, config, queue, identity.signing_key)
    return Services(
        store=store,
        ledger=SendLedger(redis, store.commands, lease_ms=lease_ms(job_timeout_s)),
        prompt_cap=PromptCap(store.commands),
        job_timeout_s=job_timeout_s,
        retry_base_s=retry_base_s,
        compose_ahead_s=compose_ahead_s,
        mailer=mailer,
        config=config,
        clock=clock,
        signing_key=identity.signing_key,
        from_address=identity.from_address,
        reply_domain=identity.reply_domain,
        public_url=identity.public_url,
    )


def build_dispatcher(services: Services, options: WorkerOptions) -> StepDispatcher:
    return StepDispatcher(
        services,
        batch_size=options.max_jobs,
        poll_delay_s=options.poll_delay_s,
        lease_ms=lease_ms(services.job_timeout_s),
        heartbeat=options.heartbeats.dispatcher,
    )


@asynccontextmanager
async def step_dispatcher(
    dispatcher: StepDispatcher, grace_s: float = SHUTDOWN_GRACE_S
) -> AsyncIterator[None]:
    """Fire due steps in the background for the duration of the block; then stop (if a
    signal has not already): sends in flight get `grace_s` from the stop, then are cut off."""
    task = asyncio.create_task(dispatcher.run())
    try:
        yield
    finally:
        await dispatcher.wind_down(task, grace_s)


def build_worker(redis: ArqRedis, services: Services, options: WorkerOptions) -> Worker:
    return Worker(
        functions=[
            func(
                cast(WorkerCoroutine, _arq_job(job)),
                name=name,
                max_tries=ARQ_MAX_TRIES,
                timeout=services.job_timeout_s,
                keep_result=0,
            )
            for name, job in JOBS.items()
        ],
        queue_name=keys.JOB_QUEUE,
        redis_pool=redis,
        burst=options.burst,
        handle_signals=options.handle_signals,
        job_completion_wait=options.shutdown_grace_s,
        max_jobs=options.max_jobs,
        job_timeout=services.job_timeout_s,
        keep_result=0,
        poll_delay=options.poll_delay_s,
        queue_read_limit=max(options.max_jobs * 4, 100),
        max_tries=ARQ_MAX_TRIES,
        health_check_interval=keys.WORKER_HEALTH_S,
        health_check_key=keys.WORKER_HEALTH,
        ctx={"services": services},
        job_serializer=serialize,
        job_deserializer=deserialize,
        log_results=False,
    )


def _arq_job(job: Callable[..., Awaitable[str]]) -> Callable[..., Awaitable[str]]:
    """The job as arq runs it: coachd's own "retry later" becomes arq's `Retry`."""

    async def run(ctx: dict[str, Any], *args: Any) -> str:
        try:
            return await job(ctx, *args)
        except RetryLater as retry:
            raise Retry(defer=retry.defer_s) from retry

    return run


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


@asynccontextmanager
async def inbox_consumer(
    redis: ArqRedis,
    services: Services,
    *,
    reclaim_idle_ms: int = RECLAIM_IDLE_MS,
    heartbeat: Heartbeat | None = None,
) -> AsyncIterator[asyncio.Event]:
    """Run the inbox consumer (counting in the services' metrics) for the duration of the block."""
    await ensure_group(redis)
    stop = asyncio.Event()
    consumer = InboxConsumer(
        redis,
        services.store,
        consumer_name(),
        reclaim_idle_ms=reclaim_idle_ms,
        heartbeat=heartbeat,
        metrics=services.metrics,
    )
    task = asyncio.create_task(consumer.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=SHUTDOWN_GRACE_S)


async def _run_through_outages(worker: Worker) -> None:
    """arq's poll loop ends at the first Redis error; start it again until we are stopped."""
    stopping = asyncio.Event()
    worker.on_stop = lambda _signal: stopping.set()
    loop = asyncio.get_running_loop()
    delay = OUTAGE_RETRY_MIN_S
    while not stopping.is_set():
        started = loop.time()
        try:
            await worker.async_run()
            return
        except (RedisError, OSError) as exc:
            log.warning("redis_unavailable", error=type(exc).__name__, retry_in_s=delay)
        _forget_failed_jobs(worker)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), delay)
        ran_long = loop.time() - started > OUTAGE_RETRY_MAX_S
        delay = OUTAGE_RETRY_MIN_S if ran_long else min(delay * 2, OUTAGE_RETRY_MAX_S)
    log.info("worker_stopping")


def _forget_failed_jobs(worker: Worker) -> None:
    """Drop job tasks that died with the connection: arq's next poll would re-raise their
    errors one by one. Their steps run again once their in-progress keys expire."""
    for job_id, task in list(worker.tasks.items()):
        if task.done():
            del worker.tasks[job_id]
            if not task.cancelled() and task.exception() is not None:
                log.info("job_interrupted_by_outage", job_id=job_id)


def _stop_on_signals(worker: Worker, dispatcher: StepDispatcher) -> None:
    """SIGTERM/SIGINT stop the dispatcher at once (arq's own handler would tell us only once
    its jobs are done), then arq: it takes no more jobs and waits for those running."""

    def stop(signum: signal.Signals) -> None:
        log.info("worker_stopping", signal=signum.name)
        dispatcher.stop()
        worker.handle_sig_wait_for_completion(signum)

    for signum in STOP_SIGNALS:
        asyncio.get_running_loop().add_signal_handler(signum, stop, signum)


async def run_worker(redis: ArqRedis, services: Services, options: WorkerOptions) -> None:
    """Consume events and fire steps until a signal (or, in burst mode, until idle)."""
    await warn_about_settings(redis)
    await migrate(redis)  # data an older coachd left is in today's layout before it is used
    worker = build_worker(redis, services, options)
    dispatcher = build_dispatcher(services, options)
    if options.handle_signals:
        _stop_on_signals(worker, dispatcher)
    await schedule_all_digests(services)
    async with (
        inbox_consumer(
            redis,
            services,
            reclaim_idle_ms=options.inbox_reclaim_ms,
            heartbeat=options.heartbeats.consumer,
        ),
        step_dispatcher(dispatcher, options.shutdown_grace_s),
    ):
        log.info("worker_started", max_jobs=options.max_jobs)
        # arq ends its main task by cancelling it once it has stopped (worker_stopping is
        # logged at the signal): that is the normal way out, not an error.
        with contextlib.suppress(asyncio.CancelledError):
            await _run_through_outages(worker)
    await services.mailer.close()
    log.info(
        "worker_stopped",
        steps_fired=dispatcher.fired,
        jobs_complete=worker.jobs_complete,
        jobs_failed=worker.jobs_failed,
    )
