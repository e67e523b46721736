"""The learning loop's writes, queued inside the transactions that already settle a sent
step or apply a reply: recording an email and what followed costs no round trip of its own."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from daemon.store import keys
from jobs.events import ReplyReceived
from jobs.learning import NOT_AN_ANSWER, LastSent, answer_record, completion_record
from jobs.state import Client, Commitment


def record_send(pipe: Pipeline, client: Client, sent: tuple[str, LastSent] | None) -> Client:
    """Queue (inside MULTI) the record of an email that reached the client (jobs.learning's
    `send_record`); returns the client as its record now remembers the email."""
    if sent is None:
        return client
    record, last = sent
    _push(pipe, client.client_id, record)
    for question_id in last.question_ids:
        _count(pipe, client.client_id, f"s:{question_id}")
    if last.hour is not None:
        _count_hour(pipe, client.client_id, f"s:{last.hour}")
    pipe.hset(keys.client(client.client_id), "last_email", last.encode())
    return replace(client, last_email=last.encode())


def record_answer(pipe: Pipeline, client: Client, event: ReplyReceived) -> Client:
    """Queue (inside MULTI) the first reply to the client's last email as its answer; returns
    the client with that email answered. Auto-replies, bounces, a stranger's words and a
    second reply to the same email answer nothing."""
    last = LastSent.decode(client.last_email)
    if last is None or event.kind != "reply" or event.from_unknown_address:
        return client
    intent = event.intent or "note"
    _push(pipe, client.client_id, answer_record(last, intent, event.occurred_at))
    if intent in NOT_AN_ANSWER:
        return replace(client, last_email="")
    for question_id in last.question_ids:
        _count(pipe, client.client_id, f"a:{question_id}")
    if last.hour is not None:
        _count_hour(pipe, client.client_id, f"a:{last.hour}")
    return replace(client, last_email="")


def record_completion(pipe: Pipeline, commitment: Commitment, now: datetime) -> None:
    """Queue (inside MULTI) that a commitment was completed now (days to completion)."""
    _push(pipe, commitment.client_id, completion_record(commitment.commitment_id, now))


def _push(pipe: Pipeline, client_id: str, record: str) -> None:
    key = keys.learning(client_id)
    pipe.lpush(key, record)
    pipe.ltrim(key, 0, keys.LEARNING_KEEP - 1)


def _count(pipe: Pipeline, client_id: str, field: str) -> None:
    pipe.hincrby(keys.question_counts(client_id), field, 1)
    pipe.hincrby(keys.FIRM_QUESTION_COUNTS, field, 1)


def _count_hour(pipe: Pipeline, client_id: str, field: str) -> None:
    pipe.hincrby(keys.hour_counts(client_id), field, 1)
    pipe.hincrby(keys.FIRM_HOUR_COUNTS, field, 1)


SCAN_BATCH = 1000


async def read_learning(redis: Redis, client_id: str | None = None) -> dict[str, list[bytes]]:
    """Every client's learning records (one client's with `client_id`), for `coachd insights`:
    an operator's command, so a SCAN over the keyspace is fine; never on the hot path."""
    if client_id is not None:
        return {client_id: await redis.lrange(keys.learning(client_id), 0, -1)}  # type: ignore[misc]
    prefix = keys.learning("")
    found: dict[str, list[bytes]] = {}
    async for key in redis.scan_iter(keys.LEARNING_PATTERN, SCAN_BATCH):
        name = key.decode()
        found[name.removeprefix(prefix)] = await redis.lrange(name, 0, -1)  # type: ignore[misc]
    return dict(sorted(found.items()))
