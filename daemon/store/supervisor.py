"""Runs the embedded redis-server for a data directory and keeps it running (restarts, backoff)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import structlog

from daemon.errors import EmbeddedRedisError, EmbeddedRedisLostError
from daemon.store.datadir import DataDirLock, write_private
from daemon.store.embedded import EmbeddedRedis

log = structlog.get_logger(__name__)

WATCH_INTERVAL_S = 0.2
REDIS_DIR_NAME = "redis"


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """How hard to try: `attempts` starts, waiting `min_s` before the first, doubling to
    `max_s` (defaults: 0.5 + 1 + 2 + 4 + 5 s, so ~13 s before giving up)."""

    attempts: int = 5
    min_s: float = 0.5
    max_s: float = 5.0


class Supervisor:
    """Watches one EmbeddedRedis and relaunches it (same port, password and data) when it dies."""

    def __init__(
        self,
        server: EmbeddedRedis,
        on_restart: Callable[[], None],
        policy: RestartPolicy = RestartPolicy(),
    ) -> None:
        self._server = server
        self._on_restart = on_restart
        self._policy = policy

    async def run(self) -> None:
        """Watch until cancelled; raise EmbeddedRedisLostError once a death outlasts the policy."""
        while True:
            while self._server.running:
                await asyncio.sleep(WATCH_INTERVAL_S)
            log.error(
                "embedded_redis_died", pid=self._server.pid, returncode=self._server.returncode
            )
            await self._restart()

    async def _restart(self) -> None:
        delay = self._policy.min_s
        for attempt in range(1, self._policy.attempts + 1):
            await asyncio.sleep(delay)
            try:
                await self._relaunch()
            except EmbeddedRedisError as error:
                reason = str(error).splitlines()[0]
                log.warning("embedded_redis_restart_failed", attempt=attempt, reason=reason)
                delay = min(delay * 2, self._policy.max_s)
                continue
            self._on_restart()
            log.warning(
                "embedded_redis_restarted",
                attempt=attempt,
                port=self._server.port,
                pid=self._server.pid,
            )
            return
        raise EmbeddedRedisLostError(self._policy.attempts, self._server.log_path)

    async def _relaunch(self) -> None:
        """Relaunch in a thread; if cancelled meanwhile, let the launch finish first, so the
        `stop` that follows sees (and stops) the child it started."""
        launch = asyncio.ensure_future(asyncio.to_thread(self._server.relaunch_blocking))
        try:
            await asyncio.shield(launch)
        except asyncio.CancelledError:
            await asyncio.wait([launch])
            raise


@asynccontextmanager
async def embedded_redis(data_dir: Path, url_file_name: str) -> AsyncIterator[str]:
    """Own `data_dir` (one process at a time, DataDirInUseError otherwise), run its Redis
    under supervision and leave its URL, password included, in a 0600 file there for the
    commands that connect to it."""
    url_file = data_dir / url_file_name
    with DataDirLock(data_dir):
        async with EmbeddedRedis(data_dir / REDIS_DIR_NAME) as server:
            write_private(url_file, server.url + "\n")
            log.info("embedded_redis_started", port=server.port, data_dir=str(server.data_dir))
            try:
                async with supervised(server, lambda: write_private(url_file, server.url + "\n")):
                    yield server.url
            finally:
                url_file.unlink(missing_ok=True)


@asynccontextmanager
async def supervised(
    server: EmbeddedRedis,
    on_restart: Callable[[], None],
    policy: RestartPolicy = RestartPolicy(),
) -> AsyncIterator[None]:
    """Supervise `server` while the block runs. If it is lost for good, the block's task is
    cancelled (so the process winds down as on SIGTERM) and EmbeddedRedisLostError raised."""
    owner = asyncio.current_task()
    assert owner is not None, "supervised() runs inside a task"
    watch = asyncio.create_task(Supervisor(server, on_restart, policy).run())
    watch.add_done_callback(lambda done: owner.cancel() if _lost(done) else None)
    try:
        yield
    except BaseException as error:  # cleanup: how the block wound down once Redis was lost
        if not _lost(watch):
            raise
        # Cancelled, or a shutdown cut short with no Redis: a consequence, not the cause.
        log.warning("embedded_redis_lost_shutdown", error=type(error).__name__)
    finally:
        watch.cancel()
        await asyncio.wait([watch])
    if _lost(watch):
        owner.uncancel()  # the cancel was ours, and it has done its work
        lost = watch.exception()
        assert lost is not None
        raise lost


def _lost(watch: asyncio.Task[None]) -> bool:
    return watch.done() and not watch.cancelled() and watch.exception() is not None
