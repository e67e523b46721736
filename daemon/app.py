"""What each command does once the CLI has parsed it: connect, run, report."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from redis.asyncio import Redis

from daemon.clock import SystemClock
from daemon.config.load import load_coach_config
from daemon.config.reload import reload_on_sighup
from daemon.edges import (
    http_limits,
    identity_from,
    imap_config_from,
    receiver_limits,
    signing_key_from,
    smtp_config_from,
    webhook_secrets,
)
from daemon.errors import OperatorRequestError
from daemon.health import Readiness, stale_after_s
from daemon.inbound.imappoller import ImapConfig, ImapPoller
from daemon.inbound.intake import ReplyIntake
from daemon.inbound.receiver import receiving
from daemon.inbound.webhooks import build_http_app, serve_http
from daemon.inbox.stream import PublishReport, publish, publish_event
from daemon.loop import running_loop
from daemon.metrics import Metrics
from daemon.outbound.mailer import SmtpMailer
from daemon.progress import counted, progress
from daemon.redisplace import connected, redis_at
from daemon.scrape import metrics_endpoint
from daemon.sdnotify import systemd_notifications
from daemon.settings import Settings
from daemon.startup import STARTING, startup_fields
from daemon.store import migration, privacy
from daemon.store.briefdata import read_brief_inputs
from daemon.store.schedule import connect
from daemon.store.status import Status, read_status
from daemon.worker import WorkerOptions, build_services, run_worker
from jobs.brief import compose_brief, reader_context
from jobs.composer import Composer
from jobs.step import StepKind

log = structlog.get_logger(__name__)


WEBHOOK_BODY_FACTOR = 3  # a provider's JSON has the raw message, its text and HTML, base64


async def run_daemon(settings: Settings) -> None:
    """`coachd run`: consume events, send steps and read replies until SIGTERM/SIGINT."""
    config = load_coach_config(settings.config_path)
    identity = identity_from(settings, config)
    imap = imap_config_from(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    async with redis_at(settings, start_embedded=True) as target:
        redis = await connect(target)
        # Once Redis answers: before, a failure is its own one line, naming the target.
        log.info(STARTING, **startup_fields(settings, target), event_loop=running_loop())
        if config.warnings:  # valid, but reaches no one: `coachd check-config` says why
            keys = [f"{w.file}: {w.key_path}" for w in config.warnings]
            log.warning("coach_config_placeholders", keys=keys)
        try:
            services = build_services(
                redis,
                config,
                SmtpMailer(smtp_config_from(settings)),
                SystemClock(),
                identity,
                job_timeout_s=settings.job_timeout_s,
                retry_base_s=settings.smtp_retry_base_s,
                compose_ahead_s=settings.compose_ahead_s,
            )
            options = WorkerOptions(
                max_jobs=settings.worker_max_jobs,
                poll_delay_s=settings.worker_poll_s,
                inbox_reclaim_ms=int(settings.inbox_reclaim_s * 1000),
                shutdown_grace_s=settings.shutdown_grace_s,
            )
            metrics = services.metrics
            intake = ReplyIntake(
                redis, identity.signing_key, identity.reply_domain, metrics=metrics
            )
            readiness = Readiness(
                redis,
                options.heartbeats,
                stale_s=stale_after_s(settings.worker_poll_s),
                config_loaded=lambda: services.config is not None,
                metrics=metrics,
            )
            async with (
                inbound_routes(settings, intake, imap, redis, readiness=readiness, metrics=metrics),
                reload_on_sighup(services, settings.config_path),
                systemd_notifications(options.heartbeats),
            ):
                await run_worker(redis, services, options)
        finally:
            await redis.aclose()


@asynccontextmanager
async def inbound_routes(
    settings: Settings,
    intake: ReplyIntake,
    imap: ImapConfig | None,
    redis: Redis,
    *,
    readiness: Readiness | None = None,
    metrics: Metrics | None = None,
) -> AsyncIterator[None]:
    """Run the configured reply routes (SMTP/LMTP receiver, webhooks, IMAP) beside the worker;
    the HTTP port also serves the health checks and, given `metrics`, `/metrics`."""
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    async with AsyncExitStack() as stack:
        if settings.receiver_port is not None:
            await stack.enter_async_context(
                receiving(
                    intake,
                    intake.reply_domain,
                    settings.receiver_host,
                    settings.receiver_port,
                    lmtp=settings.receiver_lmtp,
                    max_message_bytes=settings.max_message_bytes,
                    limits=receiver_limits(settings),
                )
            )
        if settings.http_port is not None:
            http = _start_http(settings, intake, redis, stop, readiness=readiness, metrics=metrics)
            tasks.append(await http)
        if imap is not None:
            tasks.append(asyncio.create_task(ImapPoller(imap, redis, intake).run(stop)))
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)


async def _start_http(
    settings: Settings,
    intake: ReplyIntake,
    redis: Redis,
    stop: asyncio.Event,
    *,
    readiness: Readiness | None,
    metrics: Metrics | None,
) -> asyncio.Task[None]:
    """Serve the webhooks; a port that cannot be bound stops start-up, not later, silently."""
    app = build_http_app(
        sink=intake,
        unsubscribe=intake.unsubscribe,
        secrets=webhook_secrets(settings),
        max_body_bytes=settings.max_message_bytes * WEBHOOK_BODY_FACTOR,
        redis=redis,
        unverified_parses=settings.http_unverified_parses,
        readiness=readiness,
        metrics=metrics_endpoint(metrics, redis) if metrics is not None else None,
        counters=metrics,
    )
    listening: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve_http(
            app,
            settings.http_host,
            settings.http_port or 0,
            stop,
            limits=http_limits(settings),
            on_listening=listening.set_result,
        )
    )
    either: set[asyncio.Future[Any]] = {task, listening}
    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()  # raises the bind error (serve_http logs http_listening)
    return task


async def emit(settings: Settings, source: str) -> PublishReport:
    """`coachd emit`: validate events (a file or - for stdin) and publish the good ones; on a
    terminal, a bar shows the file's bytes (stdin's lines) done so far."""
    async with connected(settings) as redis:
        if source == "-":
            with progress("emit", unit=" lines") as bar:
                return await publish(redis, counted(sys.stdin.buffer, bar, lambda _: 1))
        path = Path(source)
        size = path.stat().st_size
        with path.open("rb") as lines, progress("emit", size, unit="B", unit_scale=True) as bar:
            return await publish(redis, counted(lines, bar, len))


async def status(settings: Settings) -> Status:
    """`coachd status`: queue lengths, dead letters and Redis health."""
    async with connected(settings) as redis:
        return await read_status(redis)


async def migrate(settings: Settings) -> migration.MigrationReport:
    """`coachd migrate`: bring data an older coachd left up to the current layout; on a
    terminal, a bar shows about how much of the keyspace the SCAN has been through."""
    async with connected(settings) as redis:
        keyspace = await redis.dbsize()
        with progress("migrate", keyspace, unit=" keys", unit_scale=True) as bar:
            return await migration.migrate(redis, on_page=bar.advance)


async def export_client(settings: Settings, client_id: str) -> dict[str, Any]:
    """`coachd export-client`: everything stored about the client (after a migration, so
    that none of a v0.1 client's commitments is left out)."""
    async with connected(settings) as redis:
        await migration.migrate(redis)
        return await privacy.export_client(redis, client_id)


async def client_brief(settings: Settings, client_id: str) -> tuple[dict[str, Any], str]:
    """`coachd brief`: the client's brief as data and as the coach's email text would say it."""
    config = load_coach_config(settings.config_path)
    now = SystemClock().now()
    async with connected(settings) as redis:
        found = await read_brief_inputs(redis, config, client_id, now)
    if found is None:
        raise OperatorRequestError(f"no client {client_id!r} is stored")
    inputs, coach_id = found
    brief = compose_brief(inputs)
    coach = config.coaches.get(coach_id)
    context = reader_context(config.firm.name, coach.name if coach else "") | brief
    composer = Composer(config.template_dir_for(coach_id) if coach else None)
    return brief, composer.render(StepKind.BRIEF, context).text


async def erase_client(settings: Settings, client_id: str, *, now: bool) -> str:
    """`coachd erase-client`: publish the erase event for the daemon to apply in order with
    every other event; with `now`, apply it here (when no daemon runs). Returns what it did."""
    key = signing_key_from(settings) if now else None  # the markers are keyed with it
    async with connected(settings) as redis:
        if key is None:
            event = privacy.erase_event(client_id)
            await publish_event(redis, event)
            return f"erase event {event.event_id} published; the daemon applies it"
        await migration.migrate(redis)  # or a v0.1 client's older commitments would stay
        found = await privacy.erase_now(redis, client_id, key)
    return (
        f"erased: the client, {len(found.commitments)} commitment(s) and "
        f"{len(found.entries)} inbox/dead-letter entries"
    )
