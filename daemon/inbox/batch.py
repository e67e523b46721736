"""Applying a run of inbox commitment events in one optimistic transaction: one read, one write.

`Store.apply_event` costs six or seven round trips per event. Here a whole run of
`commitment.*` events WATCHes every key it reads, reads them all with one script, applies the
pure transitions in memory in stream order (a later event sees an earlier one's effect through
the batch's working copies) and writes everything, acknowledgements and dead letters included,
in one MULTI. A watched key changed by someone else: the whole run is read and applied again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import cast

from redis.asyncio.client import Pipeline
from redis.typing import EncodableT

from daemon.inbox.deadletters import queue_dead_letter
from daemon.store import keys
from daemon.store.changes import Applied
from daemon.store.commitments import Store
from daemon.store.privacy import ERASED_REASON, markers_of
from daemon.store.records import CommitmentChange, client_id_of
from daemon.store.redisio import EXISTS, HASH, read_keys, transact
from jobs.events import (
    CommitmentCancelled,
    CommitmentCompleted,
    CommitmentCreated,
    CommitmentUpdated,
    Event,
    EventRejected,
    parse_event,
)
from jobs.state import Client, Commitment

# Runs commands given as ARGV = n, arg1..argn, n, arg1..argn, ... in order.
RUN_SCRIPT = """
local i = 1
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  redis.call(unpack(ARGV, i + 1, i + n))
  i = i + n + 1
end
return 0
"""
BATCHED = (CommitmentCreated, CommitmentUpdated, CommitmentCompleted, CommitmentCancelled)


@dataclass(frozen=True, slots=True)
class Entry:
    """An inbox entry: its event, or (`event` None) why it is not a valid one."""

    entry_id: str
    raw: bytes
    event: Event | None
    invalid: EventRejected | None = None


def read_entry(entry_id: str, raw: bytes) -> Entry:
    try:
        return Entry(entry_id, raw, parse_event(raw))
    except EventRejected as exc:
        return Entry(entry_id, raw, None, exc)


def batched(entry: Entry) -> bool:
    """Whether the entry goes in a batch: commitment events, and invalid entries (dead letters)."""
    return entry.event is None or isinstance(entry.event, BATCHED)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one entry of a batch: applied, duplicate, or dead-lettered with `reason`."""

    entry: Entry
    applied: Applied | None = None
    reason: str = ""
    keep_event: bool = True
    crash: Exception | None = None  # a bug, logged once the batch is committed


class Snapshot:
    """The keys a batch read under WATCH; its events change the working copies in order."""

    def __init__(self, markers: dict[str, list[str]]) -> None:
        self.markers = markers  # entry id -> the erasure markers that refuse its event
        self.exists: dict[str, bool] = {}
        self.hashes: dict[str, dict[str, str]] = {}
        self.commitments: dict[str, Commitment | None] = {}
        self.clients: dict[str, Client | None] = {}

    def take(self, values: dict[str, dict[str, str] | bool]) -> None:
        for key, value in values.items():
            if isinstance(value, dict):
                self.hashes[key] = value
            else:
                self.exists[key] = value

    def commitment(self, commitment_id: str) -> Commitment | None:
        if commitment_id not in self.commitments:
            raw = self.hashes[keys.commitment(commitment_id)]  # KeyError: a key not read
            self.commitments[commitment_id] = (
                Commitment.from_record(commitment_id, raw) if raw else None
            )
        return self.commitments[commitment_id]

    def client(self, client_id: str) -> Client | None:
        if client_id not in self.clients:
            raw = self.hashes[keys.client(client_id)]
            self.clients[client_id] = Client.from_record(client_id, raw) if raw else None
        return self.clients[client_id]


async def watch_read(pipe: Pipeline, kinds: dict[str, str]) -> dict[str, dict[str, str] | bool]:
    """WATCH the keys, then read them all in one round trip (a watched pipeline runs at once)."""
    await pipe.watch(*kinds)
    return await read_keys(pipe, kinds)


def as_one_script(pipe: Pipeline) -> None:
    """Replace the commands queued in MULTI by one script that runs them in order.

    Same effects, still inside MULTI (so EXEC still fails if a watched key changed), but
    redis-py parses one reply instead of a "QUEUED" per command: about seven per event,
    which was a quarter of the inbox's CPU time. (`command_stack` is redis-py's MULTI
    buffer; write replies are not used.)
    """
    queued = [args for args, _ in pipe.command_stack]
    if not queued:
        return
    pipe.command_stack.clear()
    argv: list[EncodableT] = []
    for args in queued:
        argv.append(len(args))
        argv.extend(args)
    pipe.eval(RUN_SCRIPT, 0, *cast(list[str], argv))  # typed as str; any EncodableT packs


class BatchApplier:
    """Applies a run of batched entries exactly as `Store.apply_event` would one by one."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def apply(
        self, entries: Sequence[Entry], after: Awaitable[object] | None = None
    ) -> list[Outcome]:
        """Apply the entries in one transaction; with `after`, commit only once it is done
        (the batch before this one: what it wrote is watched here, so this one redoes)."""
        key = self._store.signing_key
        markers = {e.entry_id: markers_of(e.event, key) for e in entries if e.event is not None}

        async def attempt(pipe: Pipeline) -> list[Outcome]:
            snapshot = await self._read(pipe, entries, markers)
            pipe.multi()  # type: ignore[no-untyped-call]
            outcomes = [self._apply_one(pipe, snapshot, entry) for entry in entries]
            ids = [o.entry.entry_id for o in outcomes if o.applied is not None]
            if ids:
                pipe.xack(keys.INBOX_STREAM, keys.INBOX_GROUP, *ids)
            as_one_script(pipe)
            if after is not None:
                await after  # its error is ours: nothing after a failed batch commits
            return outcomes

        return await transact(self._store.redis, attempt)

    async def _read(
        self, pipe: Pipeline, entries: Sequence[Entry], markers: dict[str, list[str]]
    ) -> Snapshot:
        kinds: dict[str, str] = {}
        snapshot = Snapshot(markers)
        for entry in entries:
            event = entry.event
            if not isinstance(event, BATCHED):
                continue
            kinds[keys.event_seen(event.event_id)] = EXISTS
            for marker in markers[entry.entry_id]:
                kinds[marker] = EXISTS
            kinds[keys.commitment(event.commitment_id)] = HASH
            if isinstance(event, CommitmentCreated):
                kinds[keys.client(event.client.client_id)] = HASH
        snapshot.take(await watch_read(pipe, kinds) if kinds else {})
        # A commitment's client id never changes: its client is read (and watched) next.
        # (Raw fields: a record that does not parse fails its own event, not the batch.)
        more: dict[str, str] = {}
        for key, kind in kinds.items():
            client_id = snapshot.hashes.get(key, {}).get("client_id") if kind == HASH else None
            if client_id and key.startswith(keys.commitment("")):
                more.setdefault(keys.client(client_id), HASH)
        more = {key: kind for key, kind in more.items() if key not in kinds}
        if more:
            snapshot.take(await watch_read(pipe, more))
        return snapshot

    def _apply_one(self, pipe: Pipeline, snapshot: Snapshot, entry: Entry) -> Outcome:
        event = entry.event
        if not isinstance(event, BATCHED):
            reason = entry.invalid.reason if entry.invalid else "not a commitment event"
            return _refused(pipe, entry, reason)
        seen = keys.event_seen(event.event_id)
        if snapshot.exists[seen]:
            return Outcome(entry, Applied.DUPLICATE)
        # What the event queued is dropped if it fails (command_stack: redis-py's MULTI buffer).
        mark = len(pipe.command_stack)
        try:
            self._change(pipe, snapshot, event, snapshot.markers[entry.entry_id])
        except EventRejected as exc:
            del pipe.command_stack[mark:]
            return _refused(pipe, entry, exc.reason, keep_event=exc.keep_event)
        except Exception as exc:  # a bug must not stop the inbox: keep the event, move on
            del pipe.command_stack[mark:]
            reason = f"internal error while applying: {type(exc).__name__}"
            return _refused(pipe, entry, reason, crash=exc)
        pipe.set(seen, b"1", ex=keys.EVENT_SEEN_TTL_S)
        snapshot.exists[seen] = True
        return Outcome(entry, Applied.APPLIED)

    def _change(
        self, pipe: Pipeline, snapshot: Snapshot, event: CommitmentChange, markers: list[str]
    ) -> None:
        if any(snapshot.exists[m] for m in markers):
            raise EventRejected(ERASED_REASON, keep_event=False)
        current = snapshot.commitment(event.commitment_id)
        client_id = client_id_of(event, current)
        stored = snapshot.client(client_id) if client_id else None
        client, transition = self._store.commitment_change(event, current, stored)
        self._store.write_commitment_change(pipe, event, client, transition)
        snapshot.commitments[event.commitment_id] = transition.commitment
        snapshot.clients[client.client_id] = client


class OrderedBatches:
    """Applies batches concurrently but commits them in stream order: a batch reads and plans
    while the one before it commits (Redis and Python work overlap), and EXECs after it."""

    def __init__(self, applier: BatchApplier, window: int) -> None:
        self._applier = applier
        self._window = window
        self._tasks: list[asyncio.Task[list[Outcome]]] = []

    async def submit(self, entries: Sequence[Entry]) -> None:
        running = [t for t in self._tasks if not t.done()]
        if len(running) >= self._window:
            await asyncio.wait(running[: len(running) - self._window + 1])
        previous = self._tasks[-1] if self._tasks else None
        self._tasks.append(asyncio.create_task(self._applier.apply(entries, after=previous)))

    async def finish(self) -> list[Outcome]:
        """Every batch's outcomes in stream order, once all are done; or the first error."""
        results = await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        outcomes: list[Outcome] = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            outcomes += result
        return outcomes


def _refused(
    pipe: Pipeline,
    entry: Entry,
    reason: str,
    *,
    keep_event: bool = True,
    crash: Exception | None = None,
) -> Outcome:
    queue_dead_letter(pipe, entry.entry_id, entry.raw, reason, keep_event=keep_event)
    return Outcome(entry, reason=reason, keep_event=keep_event, crash=crash)
