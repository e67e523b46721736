"""Reads inside an optimistic transaction: every key is watched before it is read."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from daemon.store import keys
from daemon.store.records import require_existing
from daemon.store.redisio import read_hash
from jobs.state import Client, Commitment


async def read_client(
    conn: Redis | Pipeline, client_id: str, *, watch: bool = False
) -> Client | None:
    key = keys.client(client_id)
    if watch and isinstance(conn, Pipeline):
        await conn.watch(key)
    raw = await read_hash(conn, key)
    return Client.from_record(client_id, raw) if raw else None


async def watch_existing(
    pipe: Pipeline, commitment_id: str, raw: dict[str, str]
) -> tuple[Commitment, Client]:
    """The commitment (already read under WATCH) and its client, or why not."""
    current = Commitment.from_record(commitment_id, raw) if raw else None
    client = await read_client(pipe, current.client_id, watch=True) if current else None
    return require_existing(commitment_id, current, client)


async def watch_client_commitments(pipe: Pipeline, client: Client) -> list[Commitment]:
    """Watch and load every commitment of a client (a client-wide change replans them);
    the client hash that lists them is already watched."""
    commitments = []
    for commitment_id in client.commitment_ids:
        await pipe.watch(keys.commitment(commitment_id))
        raw = await read_hash(pipe, keys.commitment(commitment_id))
        if raw:
            commitments.append(Commitment.from_record(commitment_id, raw))
    return commitments
