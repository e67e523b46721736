"""What each command does once the CLI has parsed it: connect, run, report."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from daemon.clock import SystemClock
from daemon.config.load import load_coach_config
from daemon.config.reload import reload_on_sighup
from daemon.edges import (
    http_limits,
    identity_from,
    imap_config_from,
    receiver_limits,
    redis_tls_from,
    signing_key_from,
    smtp_config_from,
    webhook_secrets,
)
from daemon.errors import EmbeddedRedisError, EmbeddedRedisLostError, SettingsError
from daemon.health import Readiness, stale_after_s
from daemon.inbound.imappoller import ImapConfig, ImapPoller
from daemon.inbound.intake import ReplyIntake
from daemon.inbound.receiver import receiving
from daemon.inbound.webhooks import build_http_app, serve_http
from daemon.inbox.stream import PublishReport, publish, publish_event
from daemon.outbound.mailer import SmtpMailer
from daemon.settings import Settings
from daemon.store import migration, privacy
from daemon.store.redisio import (
    COMMAND_RETRY_S,
    COMMAND_TRIES,
    connect_client,
    ping_until_answering,
    redis_target,
)
from daemon.store.schedule import connect
from daemon.store.status import Status, read_status
from daemon.store.supervisor import embedded_redis
from daemon.worker import WorkerOptions, build_services, run_worker

log = structlog.get_logger(__name__)

# `coachd run` leaves its embedded Redis URL here so `emit` and `status` can find it.
URL_FILE = "redis.url"
# The embedded Redis died and could not be restarted: EX_TEMPFAIL, a supervisor should retry.
EXIT_REDIS_LOST = os.EX_TEMPFAIL
WEBHOOK_BODY_FACTOR = 3  # a provider's JSON has the raw message, its text and HTML, base64


@asynccontextmanager
async def redis_url(settings: Settings, *, start_embedded: bool) -> AsyncIterator[str]:
    """COACHD_REDIS_URL, else an embedded Redis (started here, or the one `run` started)."""
    if settings.redis_url:
        yield settings.redis_url
        return
    url_file = settings.data_dir / URL_FILE
    if not start_embedded:
        if not url_file.exists():
            raise SettingsError(
                "COACHD_REDIS_URL is not set and no embedded Redis is running "
                f"(no {url_file}); start `coachd run` first or set COACHD_REDIS_URL"
            )
        yield url_file.read_text().strip()
        return
    try:
        async with embedded_redis(settings.data_dir, URL_FILE) as url:
            yield url
    except EmbeddedRedisLostError as lost:
        log.error("embedded_redis_lost", attempts=lost.attempts, exit_code=EXIT_REDIS_LOST)
        # Not a CoachdError's exit 3 (the unit's RestartPreventExitStatus): let systemd restart.
        raise SystemExit(EXIT_REDIS_LOST) from lost


async def run_daemon(settings: Settings) -> None:
    """`coachd run`: consume events, send steps and read replies until SIGTERM/SIGINT."""
    config = load_coach_config(settings.config_path)
    identity = identity_from(settings, config)
    imap = imap_config_from(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    async with redis_url(settings, start_embedded=True) as url:
        redis = await connect(url, redis_tls_from(settings))
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
            )
            options = WorkerOptions(
                max_jobs=settings.worker_max_jobs,
                poll_delay_s=settings.worker_poll_s,
                inbox_reclaim_ms=int(settings.inbox_reclaim_s * 1000),
                shutdown_grace_s=settings.shutdown_grace_s,
            )
            intake = ReplyIntake(redis, identity.signing_key, identity.reply_domain)
            readiness = Readiness(
                redis,
                options.heartbeats,
                stale_s=stale_after_s(settings.worker_poll_s),
                config_loaded=lambda: services.config is not None,
            )
            async with (
                inbound_routes(settings, intake, imap, redis, readiness),
                reload_on_sighup(services, settings.config_path),
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
    readiness: Readiness | None = None,
) -> AsyncIterator[None]:
    """Run the configured reply routes (SMTP/LMTP receiver, webhooks, IMAP) beside the worker."""
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
            tasks.append(await _start_http(settings, intake, redis, stop, readiness))
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
    readiness: Readiness | None,
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
    """`coachd emit`: validate events (a file or - for stdin) and publish the good ones."""
    async with _connected(settings) as redis:
        if source == "-":
            return await publish(redis, sys.stdin.buffer)
        with Path(source).open("rb") as lines:
            return await publish(redis, lines)


async def status(settings: Settings) -> Status:
    """`coachd status`: queue lengths, dead letters and Redis health."""
    async with _connected(settings) as redis:
        return await read_status(redis)


@asynccontextmanager
async def _connected(settings: Settings) -> AsyncIterator[Redis]:
    """The Redis `coachd run` uses (COACHD_REDIS_URL or its embedded one), for one command."""
    async with redis_url(settings, start_embedded=False) as url:
        redis = connect_client(url, redis_tls_from(settings))
        try:
            if settings.redis_url:
                target = redis_target(url)
                await ping_until_answering(redis, target, COMMAND_TRIES, COMMAND_RETRY_S)
            else:
                await _check_embedded(redis, settings.data_dir / URL_FILE)
            yield redis
        finally:
            await redis.aclose()


async def _check_embedded(redis: Redis, url_file: Path) -> None:
    """One clear line, not a traceback, when `redis.url` names a server that is gone."""
    try:
        await redis.ping()
    except (RedisError, OSError) as error:
        raise EmbeddedRedisError(
            f"the embedded Redis named in {url_file} does not answer ({type(error).__name__}); "
            "is `coachd run` running on this data directory?"
        ) from None


async def migrate(settings: Settings) -> str:
    """`coachd migrate`: bring data an older coachd left up to the current layout. Returns
    what it did."""
    async with _connected(settings) as redis:
        return (await migration.migrate(redis)).summary()


async def export_client(settings: Settings, client_id: str) -> dict[str, Any]:
    """`coachd export-client`: everything stored about the client (after a migration, so
    that none of a v0.1 client's commitments is left out)."""
    async with _connected(settings) as redis:
        await migration.migrate(redis)
        return await privacy.export_client(redis, client_id)


async def erase_client(settings: Settings, client_id: str, *, now: bool) -> str:
    """`coachd erase-client`: publish the erase event for the daemon to apply in order with
    every other event; with `now`, apply it here (when no daemon runs). Returns what it did."""
    key = signing_key_from(settings) if now else None  # the markers are keyed with it
    async with _connected(settings) as redis:
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
