"""Batched inbox apply: the same Redis state as one event at a time, retries, stream order."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from daemon.inbox import batch as batchapply
from daemon.inbox import stream as ingest
from daemon.inbox.batch import Entry
from daemon.store import keys
from tests.helpers.events import changed, created
from tests.helpers.firm import START
from tests.helpers.loop import Loop

LATER = START + timedelta(minutes=5)
LATEST = START + timedelta(minutes=10)


def mixed_events() -> list[dict[str, Any] | bytes]:
    """Valid events, two about one commitment, a duplicate, a stale one and a bad line."""
    return [
        created("e1", "c1"),
        created("e2", "c2", due="2026-12-10"),
        changed("commitment.updated", "e3", LATER, "c1", due_date="2026-12-07"),
        created("e1", "c1"),  # a duplicate: acknowledged, no effect
        changed("commitment.updated", "e4", START, "c1", action="stale"),  # older than e3
        b'{"version": 1, "type": "commitment.created"',  # not JSON: emit refuses it, XADD
        changed("commitment.completed", "e5", LATEST, "c2"),
        changed("commitment.cancelled", "e6", LATEST, "c9"),  # unknown commitment
        created("e7", "c3", client_id="ben", email="ben@example.org"),
    ]


async def redis_state(redis: Redis) -> dict[str, Any]:
    """Every key's value; streams as their entries' fields (entry ids are Redis clock time)."""
    state: dict[str, Any] = {}
    async for raw_key in redis.scan_iter(count=1000):
        key = raw_key.decode()
        kind = (await redis.type(key)).decode()
        ttl = await redis.ttl(key) > 0
        if kind == "hash":
            value: Any = await redis.hgetall(key)  # type: ignore[misc]
        elif kind == "string":
            value = await redis.get(key)
        elif kind == "set":
            value = sorted(await redis.smembers(key))  # type: ignore[misc]
        elif kind == "zset":
            value = await redis.zrange(key, 0, -1, withscores=True)
        elif kind == "list":
            value = await redis.lrange(key, 0, -1)  # type: ignore[misc]
        else:
            # A dead letter's source names its inbox entry id: the Redis clock again.
            value = [{**f, b"source": b""} for _, f in await redis.xrange(key)]
            value.append(
                await redis.xpending(key, keys.INBOX_GROUP) if key == keys.INBOX_STREAM else 0
            )
        state[key] = (kind, ttl, value)
    return state


async def add_to_inbox(loop: Loop, items: list[dict[str, Any] | bytes]) -> None:
    """Events as `coachd emit` adds them; a bad line straight in (emit would refuse it)."""
    for item in items:
        if isinstance(item, bytes):
            await loop.redis.xadd(keys.INBOX_STREAM, {"event": item})
        else:
            await loop.emit(item)


def one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every event through Store.apply_event, as before batching (bad lines still dead-letter)."""
    monkeypatch.setattr(ingest, "batched", lambda entry: entry.event is None)


async def test_a_mixed_batch_leaves_redis_exactly_as_one_at_a_time_would(
    loop: Loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied: list[int] = []
    real_apply = batchapply.BatchApplier.apply

    async def counting(self: batchapply.BatchApplier, entries: list[Entry], **kw: Any) -> Any:
        applied.append(len(entries))
        return await real_apply(self, entries, **kw)

    monkeypatch.setattr(batchapply.BatchApplier, "apply", counting)
    await add_to_inbox(loop, mixed_events())
    await loop.consume()
    batched = await redis_state(loop.redis)
    assert applied == [len(mixed_events())]  # all of them in one transaction

    await loop.redis.flushdb()
    await ingest.ensure_group(loop.redis)
    with monkeypatch.context() as patch:
        one_at_a_time(patch)
        await add_to_inbox(loop, mixed_events())
        await loop.consume()
    assert await redis_state(loop.redis) == batched

    reasons = [d["reason"] for d in await loop.dead_letters()]
    assert len(reasons) == 3
    assert reasons[0].startswith("stale event for c1")
    assert reasons[2] == "unknown commitment c9"
    c1 = await loop.commitment("c1")
    assert (c1["due_date"], c1["version"], c1.get("action")) == (
        "2026-12-07",
        "2",
        created()["action"],
    )
    assert (await loop.commitment("c2"))["status"] == "completed"
    ana = await loop.redis.hget(keys.client("ana"), "commitments")
    assert ana == b"c1 c2"


async def test_a_watched_key_changed_mid_batch_redoes_the_batch_once(
    loop: Loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another client opts Ana out between the batch's read and its EXEC: the batch is read
    and applied again, so her new commitment is created once, with nothing scheduled."""
    reads: list[list[str]] = []
    real_read = batchapply.watch_read

    async def interfering(pipe: Pipeline, kinds: dict[str, str]) -> dict[str, object]:
        values = await real_read(pipe, kinds)
        reads.append(list(kinds))
        if len(reads) == 1:  # a second connection writes a key this batch watches
            record = {"name": "Ana", "email": "ana@example.org", "timezone": "UTC"}
            await loop.redis.hset(keys.client("ana"), mapping={**record, "opted_out": "1"})
        return values

    monkeypatch.setattr(batchapply, "watch_read", interfering)
    await loop.emit(created("e1", "c1"), created("e2", "c2", client_id="ben"))
    await loop.consume()

    assert len(reads) == 2 and reads[0] == reads[1]
    c1 = await loop.commitment("c1")
    assert (c1["version"], c1.get("next_step")) == ("1", None)  # opted out: no step
    assert (await loop.commitment("c2"))["next_step"] == "reminder-2d"
    assert await loop.redis.zcard(keys.STEP_SCHEDULE) == 1  # only Ben's
    assert await loop.redis.hget(keys.client("ana"), "opted_out") == b"1"
    assert await loop.dead_letters() == []
    pending = await loop.redis.xpending(keys.INBOX_STREAM, keys.INBOX_GROUP)
    assert pending["pending"] == 0


async def test_stream_order_holds_across_a_split_around_a_slow_event(loop: Loop) -> None:
    """created, erased, created again, another client's: the erasure runs after the first
    batch committed and before the second, so only the late event about Ana is refused."""
    erase = {
        "version": 1,
        "event_id": "erase-1",
        "occurred_at": LATER.isoformat(),
        "type": "client.erased",
        "client_id": "ana",
    }
    await loop.emit(
        created("e1", "c1"),
        erase,
        created("e2", "c2", at=LATEST),
        created("e3", "c3", client_id="ben", email="ben@example.org"),
    )
    await loop.consume()

    assert [d["reason"] for d in await loop.dead_letters()] == ["client erased"]
    assert await loop.redis.exists(keys.commitment("c1"), keys.commitment("c2")) == 0
    assert await loop.redis.exists(keys.client("ana")) == 0
    assert (await loop.commitment("c3"))["client_id"] == "ben"
    fields = [f for _, f in await loop.redis.xrange(keys.INBOX_STREAM)]
    assert [json.loads(f[b"event"])["event_id"] for f in fields] == ["e3"]  # Ana's are gone


async def test_a_reply_waits_for_the_batch_before_it_and_the_next_batch_waits_for_it(
    loop: Loop,
) -> None:
    """One read: two creations and a completion (a batch), a reply about the second
    commitment (on its own), then another creation and completion (a second batch). The
    coach's digest lists the three in stream order, and nothing is refused."""
    note = {"kind": "reply", "intent": "done", "text": "finished!", "source": "smtp"}
    await loop.emit(
        created("e1", "c1"),
        created("e2", "c2", client_id="ben", email="ben@example.org"),
        changed("commitment.completed", "e3", LATER, "c1"),
        changed("reply.received", "e4", LATER, "c2", **note),
        created("e5", "c3", at=LATER),
        changed("commitment.completed", "e6", LATEST, "c3"),
    )
    await loop.consume()

    assert await loop.dead_letters() == []
    digest = await loop.redis.lrange(keys.digest_entries("maria"), 0, -1)  # type: ignore[misc]
    assert [json.loads(e)["commitment_id"] for e in digest] == ["c1", "c2", "c3"]
    assert [(await loop.commitment(c))["status"] for c in ("c1", "c2", "c3")] == ["completed"] * 3


async def test_a_record_that_does_not_parse_dead_letters_only_its_own_event(loop: Loop) -> None:
    await loop.redis.hset(keys.commitment("bad"), mapping={"client_id": "ana", "status": "x"})
    await loop.emit(
        changed("commitment.updated", "e1", START, "bad", action="x"), created("e2", "c1")
    )
    await loop.consume()

    assert [d["reason"] for d in await loop.dead_letters()] == [
        "internal error while applying: KeyError"
    ]
    assert (await loop.commitment("c1"))["version"] == "1"
