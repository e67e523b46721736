"""The event inbox: publishing events to a Redis stream and consuming them with a consumer group."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from structlog.typing import FilteringBoundLogger

from daemon.heartbeat import Heartbeat
from daemon.inbox.batch import (
    BatchApplier,
    Entry,
    OrderedBatches,
    Outcome,
    batched,
    read_entry,
)
from daemon.inbox.deadletters import queue_dead_letter, queue_line_dead_letter
from daemon.inbox.lines import checked_lines
from daemon.metrics import Metrics
from daemon.store import keys
from daemon.store.changes import Applied, StreamEntry
from daemon.store.commitments import Store
from jobs.events import Event, EventRejected

log = structlog.get_logger(__name__)

READ_BATCH = 1000
# Events per apply transaction, and how many such transactions overlap (see OrderedBatches).
APPLY_BATCH = 100
BATCHES_IN_FLIGHT = 2
# XADDs per pipeline when publishing: a few hundred amortise the round trip.
PUBLISH_BATCH = 500
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


async def publish(redis: Redis, lines: Iterable[bytes]) -> PublishReport:
    """Validate JSON lines and add the valid ones to the inbox; bad ones go to the dead letter.

    XADDs go out in pipelines of PUBLISH_BATCH (not transactions: what was sent stays sent).
    """
    report = PublishReport()
    async with redis.pipeline(transaction=False) as pipe:
        for line in checked_lines(lines):
            if line.reason is None:
                pipe.xadd(
                    keys.INBOX_STREAM,
                    {"event": line.raw},
                    maxlen=keys.INBOX_MAX_LEN,
                    approximate=True,
                )
                report.accepted += 1
            else:
                queue_line_dead_letter(pipe, line, "emit")
                report.rejected.append((line.number, line.reason))
            if len(pipe) >= PUBLISH_BATCH:
                await pipe.execute()
        await pipe.execute()
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
        self,
        redis: Redis,
        store: Store,
        name: str,
        *,
        reclaim_idle_ms: int = RECLAIM_IDLE_MS,
        heartbeat: Heartbeat | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._redis = redis
        self._heartbeat = heartbeat or Heartbeat()
        self._metrics = metrics or Metrics()
        self._store = store
        self._name = name
        self._reclaim_idle_ms = reclaim_idle_ms
        self._last_reclaim: float | None = None
        self._batch = BatchApplier(store)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; Redis outages are logged and waited out."""
        pending_first = True  # after a restart, our own unacknowledged entries come first
        while not stop.is_set():
            self._heartbeat.beat()  # /readyz: the loop turns (a hung Redis call stops it)
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
        await self._apply_entries(entries)
        return len(entries)

    async def _apply_entries(self, entries: list[tuple[bytes, dict[bytes, bytes] | None]]) -> None:
        """In stream order: runs of commitment events in transactions of up to APPLY_BATCH,
        other events each in its own (after every batch before it has committed)."""
        batches = OrderedBatches(self._batch, BATCHES_IN_FLIGHT)
        run: list[Entry] = []
        for entry_id, fields in entries:
            # An entry erased while pending (see daemon.store.privacy) comes back without fields.
            entry = read_entry(entry_id.decode(), (fields or {}).get(b"event", b""))
            if batched(entry):
                run.append(entry)
                if len(run) >= APPLY_BATCH:
                    await batches.submit(run)
                    run = []
                continue
            if run:
                await batches.submit(run)
                run = []
            self._log_outcomes(await batches.finish())
            await self._handle(entry)
        if run:
            await batches.submit(run)
        self._log_outcomes(await batches.finish())

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
        for entry_id, _ in claimed:
            log.info("inbox_entry_reclaimed", entry_id=entry_id.decode())
        await self._apply_entries(claimed)
        return len(claimed)

    async def _handle(self, entry: Entry) -> None:
        """One event outside a batch (client and reply events), in its own transaction."""
        assert entry.event is not None  # invalid entries are batched
        ack = StreamEntry(keys.INBOX_STREAM, keys.INBOX_GROUP, entry.entry_id)
        try:
            result = await self._store.apply_event(entry.event, ack)
        except EventRejected as exc:
            await self._reject(entry, exc.reason, keep_event=exc.keep_event)
            return
        except RedisError:
            raise  # not acknowledged: applied after the outage (or reclaimed by another)
        except Exception as exc:  # a bug must not stop the inbox: keep the event, move on
            log.exception("event_apply_crashed", entry_id=entry.entry_id)
            await self._reject(entry, f"internal error while applying: {type(exc).__name__}")
            return
        self._log_outcomes([Outcome(entry, result)])

    async def _reject(self, entry: Entry, reason: str, *, keep_event: bool = True) -> None:
        """Dead-letter and acknowledge; an event about erased data is dropped, not kept."""
        async with self._redis.pipeline(transaction=True) as pipe:
            queue_dead_letter(pipe, entry.entry_id, entry.raw, reason, keep_event=keep_event)
            await pipe.execute()
        self._log_outcomes([Outcome(entry, reason=reason, keep_event=keep_event)])

    def _log_outcomes(self, outcomes: list[Outcome]) -> None:
        """Log and count what the inbox did with each entry, once it is committed."""
        # One logger for the batch: the module's lazy proxy builds a new one on every call
        # (~6 µs, even for a line the level filters out).
        batch_log = log.bind()
        for outcome in outcomes:
            _log_outcome(outcome, batch_log)
            _count_outcome(outcome, self._metrics)


def _count_outcome(outcome: Outcome, metrics: Metrics) -> None:
    event = outcome.entry.event
    if outcome.applied is None or event is None:
        metrics.dead_lettered(outcome.reason)
    elif outcome.applied is Applied.APPLIED:
        metrics.events_applied.labels(event.type).inc()
    else:
        metrics.events_duplicate.inc()


def _log_outcome(outcome: Outcome, logger: FilteringBoundLogger) -> None:
    entry_id = outcome.entry.entry_id
    if outcome.crash is not None:
        logger.error("event_apply_crashed", entry_id=entry_id, exc_info=outcome.crash)
    event = outcome.entry.event
    if outcome.applied is None or event is None:
        logger.warning("event_dead_lettered", entry_id=entry_id, reason=outcome.reason)
        return
    logger.info(
        "event_applied" if outcome.applied is Applied.APPLIED else "event_duplicate",
        entry_id=entry_id,
        event_id=event.event_id,
        event_type=event.type,
    )
