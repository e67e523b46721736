"""The event inbox: publishing events to a Redis stream and consuming them with a consumer group."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from redis.typing import EncodableT, FieldT

from daemon import keys
from daemon.store import Applied, Store, StreamEntry
from jobs.events import MAX_EVENT_BYTES, Event, EventRejected, parse_event

log = structlog.get_logger(__name__)

READ_BATCH = 200
READ_BLOCK_MS = 1000
# An entry a consumer read but did not acknowledge for this long belongs to a dead consumer.
RECLAIM_IDLE_MS = 60_000
# Look for such entries a few times per idle period, and at most once a second.
RECLAIM_CHECKS_PER_IDLE = 4
RECLAIM_MIN_EVERY_S = 1.0
ERROR_BACKOFF_S = 1.0


@dataclass
class PublishReport:
    """What `coachd emit` did with each line."""

    accepted: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)


async def dead_letter(redis: Redis, raw: bytes, reason: str, source: str) -> None:
    """Keep a bad event for inspection, with the precise reason it was refused."""
    await redis.xadd(
        keys.DEAD_LETTER_STREAM,
        _dead_letter_fields(raw, reason, source),
        maxlen=keys.DEAD_LETTER_MAX_LEN,
        approximate=True,
    )


def _dead_letter_fields(raw: bytes, reason: str, source: str) -> dict[FieldT, EncodableT]:
    return {
        "reason": reason,
        "source": source,
        "at": datetime.now(UTC).isoformat(),
        "event": raw[:MAX_EVENT_BYTES],
    }


def check_line(raw: bytes) -> str | None:
    """Why a raw line cannot be published, or None if it is a valid event."""
    if len(raw) > MAX_EVENT_BYTES:
        return f"event is {len(raw)} bytes; the limit is {MAX_EVENT_BYTES}"
    try:
        parse_event(raw)
    except EventRejected as exc:
        return exc.reason
    return None


async def publish(redis: Redis, lines: Iterable[bytes]) -> PublishReport:
    """Validate JSON lines and add the valid ones to the inbox; bad ones go to the dead letter."""
    report = PublishReport()
    for number, line in enumerate(lines, start=1):
        raw = line.strip()
        if not raw:
            continue
        reason = check_line(raw)
        if reason is None:
            await redis.xadd(
                keys.INBOX_STREAM, {"event": raw}, maxlen=keys.INBOX_MAX_LEN, approximate=True
            )
            report.accepted += 1
        else:
            await dead_letter(redis, raw, reason, source=f"emit line {number}")
            report.rejected.append((number, reason))
    return report


async def publish_event(redis: Redis, event: Event) -> None:
    """Add one event coachd itself produced (e.g. from a reply) to the inbox."""
    await redis.xadd(
        keys.INBOX_STREAM,
        {"event": event.model_dump_json().encode()},
        maxlen=keys.INBOX_MAX_LEN,
        approximate=True,
    )


async def ensure_group(redis: Redis) -> None:
    try:
        await redis.xgroup_create(keys.INBOX_STREAM, keys.INBOX_GROUP, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


class InboxConsumer:
    """Applies inbox events in order; acknowledges each in the transaction that applies it."""

    def __init__(
        self, redis: Redis, store: Store, name: str, *, reclaim_idle_ms: int = RECLAIM_IDLE_MS
    ) -> None:
        self._redis = redis
        self._store = store
        self._name = name
        self._reclaim_idle_ms = reclaim_idle_ms
        self._last_reclaim: float | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; Redis outages are logged and waited out."""
        pending_first = True  # after a restart, our own unacknowledged entries come first
        while not stop.is_set():
            try:
                await ensure_group(self._redis)
                await self._reclaim_if_due()
                processed = await self.consume_once("0" if pending_first else ">")
                pending_first = pending_first and processed > 0
            except RedisError as exc:
                log.warning("inbox_redis_unavailable", error=type(exc).__name__)
                pending_first = True  # what we read but could not apply comes first again
                await asyncio.sleep(ERROR_BACKOFF_S)

    async def consume_once(self, start: str = ">", block_ms: int | None = READ_BLOCK_MS) -> int:
        """Read and apply one batch; returns how many entries it handled."""
        response = await self._redis.xreadgroup(
            keys.INBOX_GROUP,
            self._name,
            {keys.INBOX_STREAM: start},
            count=READ_BATCH,
            block=block_ms if start == ">" else None,
        )
        entries = [entry for _, batch in response or [] for entry in batch]
        for entry_id, fields in entries:
            # An entry erased while pending (see daemon.privacy) comes back without fields.
            await self._handle(entry_id.decode(), (fields or {}).get(b"event", b""))
        return len(entries)

    async def _reclaim_if_due(self) -> None:
        now = asyncio.get_running_loop().time()
        every_s = max(self._reclaim_idle_ms / 1000 / RECLAIM_CHECKS_PER_IDLE, RECLAIM_MIN_EVERY_S)
        if self._last_reclaim is not None and now - self._last_reclaim < every_s:
            return
        self._last_reclaim = now
        await self.reclaim()

    async def reclaim(self) -> int:
        """Take over entries a dead consumer read but never acknowledged; returns how many."""
        # Redis 7 appends a third element (deleted ids) that 6.2 does not send.
        reply = await self._redis.xautoclaim(
            keys.INBOX_STREAM,
            keys.INBOX_GROUP,
            self._name,
            self._reclaim_idle_ms,
            count=READ_BATCH,
        )
        claimed = reply[1]
        for entry_id, fields in claimed:
            log.info("inbox_entry_reclaimed", entry_id=entry_id.decode())
            await self._handle(entry_id.decode(), (fields or {}).get(b"event", b""))
        return len(claimed)

    async def _handle(self, entry_id: str, raw: bytes) -> None:
        ack = StreamEntry(keys.INBOX_STREAM, keys.INBOX_GROUP, entry_id)
        try:
            event = parse_event(raw)
            result = await self._store.apply_event(event, ack)
        except EventRejected as exc:
            await self._reject(entry_id, raw, exc.reason, keep_event=exc.keep_event)
            return
        except RedisError:
            raise  # not acknowledged: applied after the outage (or reclaimed by another)
        except Exception as exc:  # a bug must not stop the inbox: keep the event, move on
            log.exception("event_apply_crashed", entry_id=entry_id)
            await self._reject(
                entry_id, raw, f"internal error while applying: {type(exc).__name__}"
            )
            return
        log.info(
            "event_applied" if result is Applied.APPLIED else "event_duplicate",
            entry_id=entry_id,
            event_id=event.event_id,
            event_type=event.type,
        )

    async def _reject(
        self, entry_id: str, raw: bytes, reason: str, *, keep_event: bool = True
    ) -> None:
        """Dead-letter and acknowledge; an event about erased data is dropped, not kept."""
        log.warning("event_dead_lettered", entry_id=entry_id, reason=reason)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xadd(
                keys.DEAD_LETTER_STREAM,
                _dead_letter_fields(raw if keep_event else b"", reason, f"inbox {entry_id}"),
                maxlen=keys.DEAD_LETTER_MAX_LEN,
                approximate=True,
            )
            pipe.xack(keys.INBOX_STREAM, keys.INBOX_GROUP, entry_id)
            if not keep_event:
                pipe.xdel(keys.INBOX_STREAM, entry_id)
            await pipe.execute()
