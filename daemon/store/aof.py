"""Rewrites Redis's append-only file after an erasure, so the erased data leaves the disk.

Until Redis rewrites it, the AOF holds every command that ever wrote the client's data. A
rewrite with the RDB preamble (Redis's default) would still carry erased stream entries:
XDEL only flags an entry inside its stream node, and the preamble copies nodes as they are.
So the rewrite runs with `aof-use-rdb-preamble no` where CONFIG allows it: then each stream
is written entry by entry, live entries only. See docs/privacy.md for RDB files and replicas.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

log = structlog.get_logger(__name__)

# The rewrite waits this long for the erasure to commit, for a rewrite already running (it
# forked before the erasure) to end, or for a scheduled one to fork; polling at this interval.
AOF_WAIT_S = 30.0
AOF_POLL_S = 0.05
PREAMBLE = "aof-use-rdb-preamble"
_IN_PROGRESS = "already in progress"
# Rewrites waiting for their erasure to commit, by erasure marker (holds the tasks, too).
_rewrites: dict[str, asyncio.Task[bool]] = {}
# One process toggles the preamble for one rewrite at a time.
_toggling = asyncio.Lock()
_unavailable_logged = False


def rewrite_once_committed(redis: Redis, marker: str) -> None:
    """In the background: once `marker` exists (the erasure's MULTI ran), rewrite the AOF.
    The erasure runs inside the caller's transaction, which may retry: one task per marker."""
    if marker in _rewrites:
        return

    async def when_committed() -> bool:
        try:
            if await _poll(lambda: _exists(redis, marker)):
                return await rewrite_aof(redis)
            return False
        finally:
            del _rewrites[marker]

    _rewrites[marker] = asyncio.get_running_loop().create_task(when_committed())


async def settle_rewrites() -> None:
    """Wait for the AOF rewrites that erasures started in the background."""
    await asyncio.gather(*_rewrites.values(), return_exceptions=True)


async def rewrite_aof(redis: Redis) -> bool:
    """Start BGREWRITEAOF without the RDB preamble (after a rewrite already running ends).
    False where AOF is off or the rewrite is refused (logged once per process)."""
    global _unavailable_logged  # noqa: PLW0603 - said once per process, not per erasure
    try:
        if (await redis.info("persistence")).get("aof_enabled") != 1:
            return False  # no AOF to rewrite (RDB snapshots: see docs/privacy.md)
        async with _toggling:
            await _rewrite_entry_by_entry(redis)
    except RedisError as error:
        if not _unavailable_logged:
            _unavailable_logged = True
            log.warning("erasure_aof_rewrite_unavailable", error=str(error))
        return False
    log.info("erasure_aof_rewrite_started")
    return True


async def _rewrite_entry_by_entry(redis: Redis) -> None:
    previous = await _set_preamble(redis, "no")
    try:
        while True:
            try:
                await redis.bgrewriteaof()  # type: ignore[no-untyped-call]
                break
            except ResponseError as error:
                if _IN_PROGRESS not in str(error) or not await _poll(lambda: _idle(redis)):
                    raise
        # Started, or scheduled behind a BGSAVE. Restored only once done: the child writes
        # as it forked, but Redis names the new file by the setting at the end.
        await _poll(lambda: _done(redis))
    finally:
        if previous not in (None, "no"):
            await _set_preamble(redis, previous)


async def _set_preamble(redis: Redis, value: str) -> str | None:
    """Set aof-use-rdb-preamble, returning what it was; None where CONFIG is refused
    (managed Redis): the rewrite then runs with the server's setting."""
    try:
        previous = (await redis.config_get(PREAMBLE)).get(PREAMBLE)
        await redis.config_set(PREAMBLE, value)
    except ResponseError:
        return None
    return previous.decode() if isinstance(previous, bytes) else previous


async def _poll(check: Callable[[], Awaitable[bool]]) -> bool:
    """True once `check` is, polling for at most AOF_WAIT_S."""
    deadline = asyncio.get_running_loop().time() + AOF_WAIT_S
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(AOF_POLL_S)
    return True


async def _exists(redis: Redis, key: str) -> bool:
    return bool(await redis.exists(key))


async def _idle(redis: Redis) -> bool:
    return bool((await redis.info("persistence")).get("aof_rewrite_in_progress") == 0)


async def _done(redis: Redis) -> bool:
    state = await redis.info("persistence")
    return bool(state.get("aof_rewrite_scheduled") == state.get("aof_rewrite_in_progress") == 0)
