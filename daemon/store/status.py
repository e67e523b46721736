"""What `coachd status` reports, read from Redis: the inbox, the due schedule, dead letters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from daemon.store import keys


@dataclass(frozen=True)
class Status:
    inbox_length: int
    inbox_pending: int
    steps_scheduled: int
    steps_due: int
    dead_letters: int
    redis_memory_bytes: int
    worker: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


async def read_status(redis: Redis) -> Status:
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    pending = 0
    if await redis.exists(keys.INBOX_STREAM):
        groups = await redis.xinfo_groups(keys.INBOX_STREAM)
        pending = sum(int(g["pending"]) for g in groups if g["name"] == keys.INBOX_GROUP.encode())
    memory = await redis.info("memory")
    health = await redis.get(keys.WORKER_HEALTH)
    worker = health.decode() if health else f"none seen in the last {keys.WORKER_HEALTH_S} s"
    return Status(
        inbox_length=await redis.xlen(keys.INBOX_STREAM),
        inbox_pending=pending,
        steps_scheduled=await redis.zcard(keys.STEP_SCHEDULE),
        steps_due=await redis.zcount(keys.STEP_SCHEDULE, "-inf", now_ms),
        dead_letters=await redis.xlen(keys.DEAD_LETTER_STREAM),
        redis_memory_bytes=int(memory["used_memory"]),
        worker=worker,
    )
