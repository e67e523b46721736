"""A client's data on request: export all of it, or erase all of it and refuse late events."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import defaultdict
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, cast
from uuid import uuid4

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from daemon.store import keys
from daemon.store.aof import rewrite_aof, rewrite_once_committed
from daemon.store.footprint import CommitmentTrace, Footprint, Tracer
from daemon.store.redisio import transact
from daemon.store.schedule import brief_job_id, drop_job, drop_step, notice_job_id
from daemon.store.sessions import client_sessions
from jobs.events import (
    SCHEMA_VERSION,
    ClientErased,
    ClientUpdated,
    CommitmentCreated,
    Event,
    EventRejected,
)
from jobs.sessionevents import SessionCancelled, SessionScheduled
from jobs.state import readable_record

log = structlog.get_logger(__name__)

ERASED_REASON = "client erased"
# Hex digits of the keyed hash in an erasure marker: 128 bits, no collisions in practice.
MARKER_HEX = 32
MS_PER_S = 1000
_CLIENT = "client"
_COMMITMENT = "commitment"


def erased_marker(signing_key: bytes, kind: str, item_id: str) -> str:
    """The marker key of an erased client or commitment: keyed, so it cannot be reversed
    (or guessed from a list of ids) without the signing key."""
    mac = hmac.digest(signing_key, f"{kind}:{item_id}".encode(), hashlib.sha256)
    return keys.erased(mac.hex()[:MARKER_HEX])


def erase_event(client_id: str, at: datetime | None = None) -> ClientErased:
    """A `client.erased` event; its id is random so no key left behind names the client."""
    return ClientErased(
        version=SCHEMA_VERSION,
        event_id=f"erase-{uuid4().hex}",
        occurred_at=at or datetime.now(UTC),
        type="client.erased",
        client_id=client_id,
    )


async def refuse_if_erased(pipe: Pipeline, event: Event, signing_key: bytes) -> None:
    """Inside apply_event's WATCH: a late event about an erased client or commitment is
    rejected, without its payload, instead of re-creating what was erased."""
    markers = markers_of(event, signing_key)
    if not markers:
        return
    await pipe.watch(*markers)
    if await pipe.exists(*markers):
        raise EventRejected(ERASED_REASON, keep_event=False)


def markers_of(event: Event, signing_key: bytes) -> list[str]:
    """The erasure markers whose presence refuses `event`."""
    if isinstance(event, ClientErased):
        return []  # erasing again is a harmless sweep
    if isinstance(event, ClientUpdated | SessionScheduled):
        return [erased_marker(signing_key, _CLIENT, event.client_id)]
    if isinstance(event, SessionCancelled):
        return []  # it only removes what is stored
    markers = [erased_marker(signing_key, _COMMITMENT, event.commitment_id)]
    if isinstance(event, CommitmentCreated):
        markers.append(erased_marker(signing_key, _CLIENT, event.client.client_id))
    return markers


async def erase_client(
    pipe: Pipeline, client_id: str, signing_key: bytes, *, rewrite: bool = True
) -> Footprint:
    """Inside a WATCH: find everything about the client, then (MULTI) delete all of it and
    leave the markers that refuse late events. Returns what was removed. With `rewrite`, the
    AOF is rewritten in the background once the erasure has committed."""
    found = await Tracer(pipe, client_id).trace()
    sessions = await cast(
        Awaitable[list[bytes]], pipe.zrange(keys.client_sessions(client_id), 0, -1)
    )
    pipe.multi()
    for session_id in (s.decode() for s in sessions):
        pipe.delete(keys.session(session_id))
        drop_job(pipe, brief_job_id(session_id))
    pipe.delete(keys.client_sessions(client_id))
    for commitment in found.commitments:
        _delete_commitment(pipe, commitment)
    pipe.delete(
        keys.client(client_id),
        keys.learning(client_id),
        keys.question_counts(client_id),
        keys.hour_counts(client_id),
    )
    for key, entries in found.digest.items():
        # By value, not by rewriting the list: entries other events add meanwhile stay.
        for entry in entries:
            pipe.lrem(key, 0, entry)
    by_stream: dict[str, list[str]] = defaultdict(list)
    for hit in found.entries:
        by_stream[hit.stream].append(hit.entry_id)
    for stream, entry_ids in by_stream.items():
        pipe.xdel(stream, *entry_ids)
    markers = [erased_marker(signing_key, _CLIENT, client_id)]
    markers += [erased_marker(signing_key, _COMMITMENT, c) for c in found.commitment_ids]
    for marker in markers:
        pipe.set(marker, b"1", ex=keys.ERASED_TTL_S)
    if rewrite:
        rewrite_once_committed(Redis(connection_pool=pipe.connection_pool), markers[0])
    log.info(
        "client_erased",
        commitments=len(found.commitments),
        stream_entries=len(found.entries),
        keys_read=len(found.keys_read),
    )
    return found


def _delete_commitment(pipe: Pipeline, trace: CommitmentTrace) -> None:
    commitment_id = trace.commitment_id
    pipe.delete(keys.commitment(commitment_id), keys.history(commitment_id))
    if trace.record.get("thread"):
        pipe.hdel(*keys.thread(trace.record["thread"]))
        pipe.delete(keys.legacy_thread(trace.record["thread"]))
        pipe.delete(keys.thread_sent(trace.record["thread"]))
    if trace.record.get("coach_id"):
        pipe.srem(keys.coach_commitments(trace.record["coach_id"]), commitment_id)
    for step_id in trace.jobs:
        drop_step(pipe, step_id)
    for notice_id in trace.notices:
        drop_job(pipe, notice_job_id(notice_id))
        pipe.delete(keys.notice(notice_id), keys.sent("notice", notice_id))
    if trace.ledger:
        pipe.delete(*trace.ledger)
    if trace.failed:
        pipe.zrem(keys.FAILED_STEPS, *trace.failed)
        pipe.hdel(keys.FAILED_STEP_INFO, *trace.failed)


async def erase_now(redis: Redis, client_id: str, signing_key: bytes) -> Footprint:
    """Erase directly, outside the inbox (`coachd erase-client --now`, when no daemon runs)."""

    async def attempt(pipe: Pipeline) -> Footprint:
        return await erase_client(pipe, client_id, signing_key, rewrite=False)

    found = await transact(redis, attempt)
    await rewrite_aof(redis)
    return found


async def export_client(redis: Redis, client_id: str) -> dict[str, Any]:
    """Everything stored about the client, as JSON-ready data (`coachd export-client`)."""
    exported = footprint_json(await Tracer(redis, client_id).trace())
    return exported | {"sessions": [s.to_json() for s in await client_sessions(redis, client_id)]}


def footprint_json(found: Footprint) -> dict[str, Any]:
    return {
        "client_id": found.client_id,
        "client": readable_record(found.client) if found.client else None,
        "commitments": [_commitment_json(c) for c in found.commitments],
        "digest_entries": [json.loads(e) for entries in found.digest.values() for e in entries],
        "stream_entries": [
            {"stream": h.stream, "id": h.entry_id, "fields": h.fields} for h in found.entries
        ],
        "learning": [json.loads(r) for r in found.learning],
        "question_counts": found.question_counts,
        "hour_counts": found.hour_counts,
        "keys_read": found.keys_read,
    }


def _commitment_json(trace: CommitmentTrace) -> dict[str, Any]:
    return {
        "commitment_id": trace.commitment_id,
        "record": readable_record(trace.record),
        "history": [json.loads(h) for h in trace.history],
        "scheduled": [
            {"job_id": job_id, "fire_at": _from_ms(score)} for job_id, score in trace.jobs.items()
        ],
        "notices": [{"notice_id": n, **fields} for n, fields in trace.notices.items()],
        "sent": trace.ledger,
        "failed": {step_id: json.loads(f) for step_id, f in trace.failed.items()},
    }


def _from_ms(score: float) -> str:
    return datetime.fromtimestamp(score / MS_PER_S, UTC).isoformat()
