"""What `coachd status` reports, read from Redis: the inbox, the due schedule, dead letters,
and what became of today's emails (counted by daemon.outbound.tally)."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from redis.asyncio import Redis

from daemon.store import keys

OUTCOMES = ("sent", "failed", "unknown")


@dataclass(frozen=True)
class Status:
    inbox_length: int
    inbox_pending: int
    steps_scheduled: int
    steps_due: int
    dead_letters: int
    redis_memory_bytes: int
    worker: str
    # {"day": YYYY-MM-DD (UTC), "sent": n, "failed": n, "unknown": n}
    emails_today: dict[str, Any] = field(default_factory=dict)
    failed_steps: int = 0  # listed by `coachd failed`
    last_errors: list[dict[str, Any]] = field(default_factory=list)  # newest first

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


async def read_status(redis: Redis) -> Status:
    now = datetime.now(UTC)
    now_ms = int(now.timestamp() * 1000)
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
        emails_today=await emails_on(redis, now.date().isoformat()),
        failed_steps=await redis.zcard(keys.FAILED_STEPS),
        last_errors=await last_errors(redis),
    )


async def emails_on(redis: Redis, day: str) -> dict[str, Any]:
    """How many emails were recorded sent, failed and unknown on `day` (UTC)."""
    raw = await cast(Awaitable[dict[bytes, bytes]], redis.hgetall(keys.emails_on(day)))
    counts = {k.decode(): int(v) for k, v in raw.items()}
    return {"day": day, **{outcome: counts.get(outcome, 0) for outcome in OUTCOMES}}


async def last_errors(redis: Redis) -> list[dict[str, Any]]:
    """The last emails that failed or may not have arrived, newest first: when, what kind,
    and why in a coach's words (no ids, no addresses)."""
    raw = await cast(Awaitable[list[bytes]], redis.lrange(keys.EMAIL_ERRORS, 0, -1))
    return [json.loads(item) for item in raw]
