"""The Redis settings coachd relies on, checked when a worker starts.

An operator's own Redis may run with its defaults, and each of these fails quietly: no
error, just steps gone after an eviction or a restart, or twice the memory. So each one
found is logged as a warning at start; none stops the worker (the operator may know
better, e.g. a managed Redis with its own persistence).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import structlog
from redis.asyncio import Redis
from redis.asyncio.sentinel import SentinelConnectionPool
from redis.exceptions import ResponseError

from daemon.store.embedded import HASH_MAX_LISTPACK_VALUE

log = structlog.get_logger(__name__)

MAXMEMORY_POLICY = "maxmemory-policy"
APPENDONLY = "appendonly"
# Redis 7 calls it hash-max-listpack-value and still answers to the 6.2 name.
HASH_MAX_VALUE = "hash-max-ziplist-value"
# Judged only behind Sentinel (docs/scaling.md, "Planned failover").
MIN_REPLICAS = "min-replicas-to-write"
CHECKED = (MAXMEMORY_POLICY, APPENDONLY, HASH_MAX_VALUE, MIN_REPLICAS)


@dataclass(frozen=True)
class SettingAdvice:
    """A setting that differs from what coachd needs, and what that costs."""

    setting: str
    found: str
    wanted: str
    why: str


def advise(settings: Mapping[str, str], *, sentinel: bool = False) -> list[SettingAdvice]:
    """What to change in `settings` (CONFIG GET's answers; a missing one is not judged),
    for a primary reached through Sentinel when `sentinel`."""
    advice = []
    policy = settings.get(MAXMEMORY_POLICY)
    if policy is not None and policy != "noeviction":
        why = "at maxmemory Redis would drop keys: scheduled steps vanish without an error"
        advice.append(SettingAdvice(MAXMEMORY_POLICY, policy, "noeviction", why))
    appendonly = settings.get(APPENDONLY)
    if appendonly is not None and appendonly != "yes":
        why = "a restart loses everything since the last snapshot (events, steps, ledger)"
        advice.append(SettingAdvice(APPENDONLY, appendonly, "yes", why))
    hash_max = settings.get(HASH_MAX_VALUE)
    if hash_max is not None and hash_max.isdigit() and int(hash_max) < HASH_MAX_LISTPACK_VALUE:
        why = "a commitment with an action over that many bytes takes about twice the memory"
        wanted = f"{HASH_MAX_LISTPACK_VALUE} (hash-max-listpack-value)"
        advice.append(SettingAdvice(HASH_MAX_VALUE, hash_max, wanted, why))
    if sentinel and settings.get(MIN_REPLICAS) == "0":
        why = (
            "after SENTINEL FAILOVER the old primary takes writes until Sentinel demotes it "
            "(~10 s): they are lost, and emails sent meanwhile go out again"
        )
        advice.append(SettingAdvice(MIN_REPLICAS, "0", "the number of replicas", why))
    return advice


async def read_settings(redis: Redis) -> dict[str, str]:
    """CONFIG GET each checked setting, one at a time (Redis 6.2 takes one pattern)."""
    settings = {}
    for name in CHECKED:
        answer = await redis.config_get(name)
        for key, value in answer.items():
            settings[_text(key)] = _text(value)
    return settings


async def warn_about_settings(redis: Redis) -> list[SettingAdvice]:
    """Log a warning for each setting coachd needs changed; returns them."""
    try:
        settings = await read_settings(redis)
    except ResponseError as exc:  # CONFIG is often disabled on managed Redis
        log.info("redis_settings_unchecked", error=str(exc))
        return []
    advice = advise(settings, sentinel=isinstance(redis.connection_pool, SentinelConnectionPool))
    for item in advice:
        log.warning(
            "redis_setting_unsafe",
            setting=item.setting,
            found=item.found,
            wanted=item.wanted,
            why=item.why,
        )
    return advice


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
