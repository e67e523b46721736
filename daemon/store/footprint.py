"""Finding every key and stream entry coachd holds about one client, for export or erasure."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from daemon.store import keys
from daemon.store.redisio import decode_hash

# SCAN, ZSCAN and XRANGE page size: erasure walks whole keyspaces and streams, in pages.
SCAN_BATCH = 1000
STREAMS = (keys.INBOX_STREAM, keys.DEAD_LETTER_STREAM)
# What follows "<commitment>:" in its step job ids (the version) and ledger keys (plan
# generation and step); anything else (`notice:…`, `digest:…` ids) belongs to no commitment.
_JOB_SUFFIX = re.compile(r"^\d+$")
_LEDGER_SUFFIX = re.compile(r"^\d+:[^:]+$")
# Characters an id may contain: a match must not be part of a longer id.
_ID_CHARS = "A-Za-z0-9_-"
# Event fields that say whose event it is (every event type has one of them).
_OWNER_FIELDS = frozenset({"client_id", "commitment_id"})


@dataclass
class CommitmentTrace:
    """One commitment of the client and everything hanging off it."""

    commitment_id: str
    record: dict[str, str]
    history: list[str] = field(default_factory=list)
    jobs: dict[str, float] = field(default_factory=dict)  # job id -> fire time (epoch ms)
    ledger: dict[str, str] = field(default_factory=dict)  # ledger key -> outcome
    notices: dict[str, dict[str, str]] = field(default_factory=dict)  # notice id -> its hash
    failed: dict[str, str] = field(default_factory=dict)  # step id -> its `coachd failed` JSON


@dataclass(frozen=True, slots=True)
class StreamHit:
    stream: str
    entry_id: str
    fields: dict[str, str]


@dataclass
class Footprint:
    """Everything about one client: what export shows and erasure removes."""

    client_id: str
    client: dict[str, str] = field(default_factory=dict)
    commitments: list[CommitmentTrace] = field(default_factory=list)
    digest: dict[str, list[str]] = field(default_factory=dict)  # digest key -> its entries
    entries: list[StreamHit] = field(default_factory=list)
    learning: list[str] = field(default_factory=list)  # the learning loop's records
    question_counts: dict[str, str] = field(default_factory=dict)
    hour_counts: dict[str, str] = field(default_factory=dict)
    keys_read: list[str] = field(default_factory=list)

    @property
    def commitment_ids(self) -> list[str]:
        return [c.commitment_id for c in self.commitments]


class Matcher:
    """Says whether a stream entry is about the client: by its owner fields when it is an
    event, else by any mention of their ids, email or name in its text."""

    def __init__(self, ids: Iterable[str], email: str, name: str) -> None:
        self._ids = frozenset(ids)
        words = [rf"(?<![{_ID_CHARS}]){re.escape(i)}(?![{_ID_CHARS}])" for i in sorted(self._ids)]
        words += [re.escape(t) for t in (email, name) if t]
        self._text = re.compile("|".join(words), re.IGNORECASE)

    def event_is_theirs(self, raw: str) -> bool | None:
        """True/False for a JSON event; None when it is not one (then its text decides)."""
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        return any(value in self._ids for value in _owner_values(data))

    def mentions(self, text: str) -> bool:
        return self._text.search(text) is not None


def _owner_values(data: dict[str, Any]) -> Iterable[str]:
    for name, value in data.items():
        if isinstance(value, dict):
            yield from _owner_values(value)
        elif name in _OWNER_FIELDS and isinstance(value, str):
            yield value


class Tracer:
    """Reads what belongs to a client; on a pipeline it also WATCHes what erasure deletes."""

    def __init__(self, conn: Redis | Pipeline, client_id: str) -> None:
        self._conn = conn
        self.found = Footprint(client_id)

    async def trace(self) -> Footprint:
        found, client_id = self.found, self.found.client_id
        found.client = await self._hash(keys.client(client_id))
        for commitment_id in sorted(found.client.get("commitments", "").split()):
            record = await self._hash(keys.commitment(commitment_id))
            if record:
                found.commitments.append(await self._commitment(commitment_id, record))
        learning_key = keys.learning(client_id)
        self._read(learning_key)
        found.learning = _texts(await self._await(self._conn.lrange(learning_key, 0, -1)))
        found.question_counts = await self._hash(keys.question_counts(client_id))
        found.hour_counts = await self._hash(keys.hour_counts(client_id))
        await self._notices()
        for coach_id in sorted({c.record.get("coach_id", "") for c in found.commitments}):
            await self._digest(coach_id)
        await self._streams()
        return found

    async def _commitment(self, commitment_id: str, record: dict[str, str]) -> CommitmentTrace:
        trace = CommitmentTrace(commitment_id, record)
        history_key = keys.history(commitment_id)
        await self._watch(history_key)
        self._read(history_key)
        trace.history = _texts(await self._await(self._conn.lrange(history_key, 0, -1)))
        bucket, field_name = keys.thread(record.get("thread", ""))
        if await self._await(self._conn.hget(bucket, field_name)) == commitment_id.encode():
            self._read(f"{bucket} {field_name}")  # one field of a hash other clients share
        self._read(keys.STEP_SCHEDULE)
        async for member, score in self._conn.zscan_iter(
            keys.STEP_SCHEDULE, match=f"{commitment_id}:*", count=SCAN_BATCH
        ):
            if _JOB_SUFFIX.match(member.decode().removeprefix(f"{commitment_id}:")):
                trace.jobs[member.decode()] = score
        pattern = keys.ledger_pattern(commitment_id)
        async for raw_key in self._conn.scan_iter(pattern, SCAN_BATCH):
            key = raw_key.decode()
            if _LEDGER_SUFFIX.match(key.removeprefix(pattern.rstrip("*"))):
                self._read(key)
                trace.ledger[key] = (await self._await(self._conn.get(key)) or b"").decode()
        self._read(keys.FAILED_STEP_INFO)  # a hash every client's failed steps share
        async for step_id, details in self._conn.hscan_iter(
            keys.FAILED_STEP_INFO, match=f"{commitment_id}:*", count=SCAN_BATCH
        ):
            trace.failed[step_id.decode()] = details.decode()
        return trace

    async def _notices(self) -> None:
        by_id = {c.commitment_id: c for c in self.found.commitments}
        async for key in self._conn.scan_iter(keys.NOTICE_PATTERN, SCAN_BATCH):
            notice = await self._hash(key.decode(), record=False)
            owner = by_id.get(notice.get("commitment_id", ""))
            if owner is not None:
                self._read(key.decode())
                owner.notices[key.decode().removeprefix(keys.notice(""))] = notice

    async def _digest(self, coach_id: str) -> None:
        key = keys.digest_entries(coach_id)
        self._read(key)
        ids = set(self.found.commitment_ids)
        entries = _texts(await self._await(self._conn.lrange(key, 0, -1)))
        theirs = [e for e in entries if _digest_commitment(e) in ids]
        if theirs:
            self.found.digest[key] = theirs

    async def _streams(self) -> None:
        client = self.found.client
        matcher = Matcher(
            [self.found.client_id, *self.found.commitment_ids],
            client.get("email", ""),
            client.get("name", ""),
        )
        for stream in STREAMS:
            self._read(stream)
            async for entry_id, fields in _stream_entries(self._conn, stream):
                if _is_theirs(matcher, stream, fields):
                    self.found.entries.append(StreamHit(stream, entry_id, fields))

    async def _hash(self, key: str, *, record: bool = True) -> dict[str, str]:
        if record:
            await self._watch(key)
            self._read(key)
        raw = await self._await(self._conn.hgetall(key))
        return decode_hash(cast(dict[bytes, bytes], raw))

    async def _watch(self, key: str) -> None:
        if isinstance(self._conn, Pipeline):
            await self._conn.watch(key)

    def _read(self, key: str) -> None:
        if key not in self.found.keys_read:
            self.found.keys_read.append(key)

    @staticmethod
    async def _await(result: Any) -> Any:
        # redis-py types commands as "awaitable or not"; on an asyncio client they are awaitable.
        return await cast(Awaitable[Any], result)


def _is_theirs(matcher: Matcher, stream: str, fields: dict[str, str]) -> bool:
    """Inbox events by whose they are (another client's event may quote a name: it stays);
    dead letters, and inbox entries that are not events, by any mention at all."""
    if stream == keys.INBOX_STREAM:
        verdict = matcher.event_is_theirs(fields.get("event", ""))
        if verdict is not None:
            return verdict
    return any(matcher.mentions(value) for value in fields.values())


async def _stream_entries(
    conn: Redis | Pipeline, stream: str
) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """Every entry of a stream, oldest first, a page at a time."""
    start = "-"
    while True:
        page = await cast(
            Awaitable[list[tuple[bytes, dict[bytes, bytes] | None]]],
            conn.xrange(stream, min=start, count=SCAN_BATCH),
        )
        for entry_id, fields in page:
            decoded = {k.decode(): v.decode(errors="replace") for k, v in (fields or {}).items()}
            yield entry_id.decode(), decoded
        if len(page) < SCAN_BATCH:
            return
        start = _next_id(page[-1][0].decode())


def _next_id(entry_id: str) -> str:
    """The smallest stream id after `entry_id` (XRANGE's exclusive "(" needs Redis 6.2)."""
    millis, _, seq = entry_id.partition("-")
    return f"{millis}-{int(seq) + 1}"


def _digest_commitment(entry: str) -> str | None:
    try:
        data = json.loads(entry)
    except ValueError:
        return None
    return data.get("commitment_id") if isinstance(data, dict) else None


def _texts(raw: Iterable[bytes]) -> list[str]:
    return [item.decode() for item in raw]
