"""Commitment and client records: snapshot reads (no transaction) for intake, digests and
delivery, and the checks every path that applies a commitment event shares."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import cast

from redis.asyncio import Redis

from daemon.store import keys
from daemon.store.pipelining import AutoPipeline
from daemon.store.redisio import decode_hash, read_hash
from jobs.events import (
    ClientInfo,
    CommitmentCancelled,
    CommitmentCompleted,
    CommitmentCreated,
    CommitmentUpdated,
    EventRejected,
)
from jobs.state import Client, Commitment

# The events the inbox applies in batches (daemon.inbox.batch): they touch one commitment.
CommitmentChange = CommitmentCreated | CommitmentUpdated | CommitmentCompleted | CommitmentCancelled


async def load_commitment(
    redis: Redis | AutoPipeline, commitment_id: str
) -> tuple[Commitment, Client] | None:
    """A commitment and its client, or None if either is gone (snapshot, no transaction)."""
    raw = await read_hash(redis, keys.commitment(commitment_id))
    if not raw:
        return None
    commitment = Commitment.from_record(commitment_id, raw)
    client = await read_hash(redis, keys.client(commitment.client_id))
    return (commitment, Client.from_record(commitment.client_id, client)) if client else None


async def read_commitments(redis: Redis, index_key: str) -> list[Commitment]:
    """The commitments whose ids are in the set `index_key` (two round trips)."""
    ids = await cast(Awaitable[set[bytes]], redis.smembers(index_key))
    return await commitments_by_id(redis, sorted(i.decode() for i in ids))


async def commitments_by_id(redis: Redis, ids: Iterable[str]) -> list[Commitment]:
    """The commitments with these ids that still exist (one pipelined round trip)."""
    ids = list(ids)
    async with redis.pipeline(transaction=False) as pipe:
        for commitment_id in ids:
            pipe.hgetall(keys.commitment(commitment_id))
        records = await pipe.execute()
    found = zip(ids, records, strict=True)
    return [Commitment.from_record(i, decode_hash(r)) for i, r in found if r]


def require_existing(
    commitment_id: str, current: Commitment | None, client: Client | None
) -> tuple[Commitment, Client]:
    """The commitment and its client an event changes, or why the event cannot apply."""
    if current is None:
        raise EventRejected(f"unknown commitment {commitment_id}")
    if client is None:
        raise EventRejected(f"client {current.client_id} of {commitment_id} is gone")
    return current, client


def client_id_of(event: CommitmentChange, current: Commitment | None) -> str | None:
    """Whose client record a commitment event reads (None: the commitment is unknown)."""
    if isinstance(event, CommitmentCreated):
        return event.client.client_id
    return current.client_id if current else None


def merge_client_info(
    current: Client | None, info: ClientInfo, at: datetime, commitment_id: str
) -> Client:
    """The client of a new commitment: the event's details win unless the stored ones are
    newer, and the commitment joins the client's list."""
    if current is None:
        return Client(
            info.client_id,
            info.name,
            info.email,
            info.timezone,
            greeting_name=info.greeting_name or "",
            updated_at=at,
            commitment_ids=(commitment_id,),
        )
    if current.updated_at is not None and current.updated_at > at:
        return current.with_commitment(commitment_id)
    ids = current.with_commitment(commitment_id).commitment_ids
    return replace(
        current,
        name=info.name,
        email=info.email,
        timezone=info.timezone,
        # Not given: the one a client.updated (or an earlier commitment) set stays.
        greeting_name=current.greeting_name if info.greeting_name is None else info.greeting_name,
        updated_at=at,
        commitment_ids=ids,
    )
