"""Which Redis a command uses, and connecting to it for one command.

`coachd run` uses Sentinel's primary, COACHD_REDIS_URL, or an embedded redis-server it starts
(and leaves its URL in the data directory); every other command finds the same Redis and
says in one line, not a traceback, when it does not answer.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from daemon.edges import redis_target_from
from daemon.errors import EmbeddedRedisError, EmbeddedRedisLostError, SettingsError
from daemon.settings import Settings
from daemon.store.redisio import (
    COMMAND_RETRY_S,
    COMMAND_TRIES,
    connect_client,
    ping_until_answering,
)
from daemon.store.supervisor import embedded_redis
from daemon.store.target import RedisTarget

log = structlog.get_logger(__name__)
T = TypeVar("T")

# `coachd run` leaves its embedded Redis URL here so `emit` and `status` can find it.
URL_FILE = "redis.url"
# The embedded Redis died and could not be restarted: EX_TEMPFAIL, a supervisor should retry.
EXIT_REDIS_LOST = os.EX_TEMPFAIL


def own_redis(settings: Settings) -> bool:
    """Whether the operator named a Redis (a URL or sentinels), rather than the embedded one."""
    return bool(settings.redis_url or settings.redis_sentinels)


@asynccontextmanager
async def redis_at(settings: Settings, *, start_embedded: bool) -> AsyncIterator[RedisTarget]:
    """Sentinel's primary or COACHD_REDIS_URL, else an embedded Redis (started here, or the
    one `run` started)."""
    if own_redis(settings):
        yield redis_target_from(settings, settings.redis_url or "")
        return
    url_file = settings.data_dir / URL_FILE
    if not start_embedded:
        if not url_file.exists():
            raise SettingsError(
                "COACHD_REDIS_URL is not set and no embedded Redis is running "
                f"(no {url_file}); start `coachd run` first or set COACHD_REDIS_URL"
            )
        yield redis_target_from(settings, url_file.read_text().strip())
        return
    try:
        async with embedded_redis(settings.data_dir, URL_FILE) as url:
            yield redis_target_from(settings, url)
    except EmbeddedRedisLostError as lost:
        log.error("embedded_redis_lost", attempts=lost.attempts, exit_code=EXIT_REDIS_LOST)
        # Not a CoachdError's exit 3 (the unit's RestartPreventExitStatus): let systemd restart.
        raise SystemExit(EXIT_REDIS_LOST) from lost


async def with_redis(settings: Settings, work: Callable[[Redis], Awaitable[T]]) -> T:
    """Run `work` (an operator command's) on the Redis `coachd run` uses."""
    async with connected(settings) as redis:
        return await work(redis)


@asynccontextmanager
async def connected(settings: Settings) -> AsyncIterator[Redis]:
    """The Redis `coachd run` uses (Sentinel's primary, COACHD_REDIS_URL or the embedded
    one), for one command."""
    async with redis_at(settings, start_embedded=False) as target:
        redis = connect_client(target)
        try:
            if own_redis(settings):
                where = target.describe()
                await ping_until_answering(redis, where, COMMAND_TRIES, COMMAND_RETRY_S)
            else:
                await check_embedded(redis, settings.data_dir / URL_FILE)
            yield redis
        finally:
            await redis.aclose()


async def check_embedded(redis: Redis, url_file: Path) -> None:
    """One clear line, not a traceback, when `redis.url` names a server that is gone."""
    try:
        await redis.ping()
    except (RedisError, OSError) as error:
        raise EmbeddedRedisError(
            f"the embedded Redis named in {url_file} does not answer ({type(error).__name__}); "
            "is `coachd run` running on this data directory?"
        ) from None
