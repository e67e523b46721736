"""The client steps whose email failed (`coachd failed`): listed with what a retry would do,
and retried by scheduling the step again, due now, for the normal send path.

The list is written by daemon.outbound.tally as outcomes are recorded. A retry happens in one
transaction that watches the step's ledger key: it deletes the `failed` (or, forced,
`unknown`) outcome and reschedules the step, so a second retry, or one racing the send,
finds no failed outcome and is refused; the send itself claims the ledger key as every
send does (daemon.outbound.sendonce), so the step is sent at most once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from daemon.errors import OperatorRequestError
from daemon.store import keys
from daemon.store.commitments import write_transition
from daemon.store.redisio import read_hash, read_hashes, transact
from daemon.store.schedule import StepQueue
from daemon.store.watched import read_client
from jobs.retrystep import UNKNOWN_NEEDS_FORCE, retried, retry_refusal
from jobs.state import Client, Commitment

# `<commitment>:<plan generation>:<step>`, e.g. ana-grant:1:overdue-4d.
_STEP_ID = re.compile(r"^(?P<commitment>[A-Za-z0-9_.-]{1,64}):(?P<gen>\d+):(?P<step>[a-z0-9-]+)$")
STEP_ID_EXAMPLE = "ana-grant:1:overdue-4d"


@dataclass(frozen=True, slots=True)
class FailedStep:
    """One listed step: what was recorded, and whether a retry would be done now."""

    step_id: str
    at: str
    kind: str
    outcome: str  # failed or unknown, as recorded
    code: int | None
    reason: str
    refusal: str | None  # why `--retry` is refused now; None: it would be done
    needs_force: bool  # refused only because the outcome is unknown: `--retry --force` does it

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Retried:
    """A retry that was done: the step is due now; `superseded` was scheduled before it."""

    step_id: str
    outcome: str
    superseded: str


def parse_step_id(step_id: str) -> tuple[str, int, str]:
    found = _STEP_ID.match(step_id)
    if found is None:
        raise OperatorRequestError(
            f"{step_id!r} is not a step id (they look like {STEP_ID_EXAMPLE}; see `coachd failed`)"
        )
    return found["commitment"], int(found["gen"]), found["step"]


async def list_failed(redis: Redis, now: datetime) -> list[FailedStep]:
    """Every listed step, newest first, with what a retry would do now (five round trips)."""
    raw_ids = await cast(Awaitable[list[bytes]], redis.zrevrange(keys.FAILED_STEPS, 0, -1))
    ids = [i.decode() for i in raw_ids]
    if not ids:
        return []
    infos = await cast(Awaitable[list[bytes | None]], redis.hmget(keys.FAILED_STEP_INFO, ids))
    parsed = [parse_step_id(i) for i in ids]
    ledger_values = await redis.mget([keys.ledger(*p) for p in parsed])
    commitments = await _records(redis, {c for c, _, _ in parsed}, keys.commitment)
    clients = await _records(redis, {r["client_id"] for r in commitments.values()}, keys.client)
    listed = []
    for step_id, (commitment_id, gen, step), info, value in zip(
        ids, parsed, infos, ledger_values, strict=True
    ):
        found = _found(commitment_id, commitments, clients)
        outcome = _ledger_outcome(value)
        refusal = retry_refusal(step, gen, outcome, found, now)
        forced = retry_refusal(step, gen, outcome, found, now, force=True)
        listed.append(_listed(step_id, info, refusal, needs_force=forced is None and bool(refusal)))
    return listed


async def retry_failed(
    redis: Redis, queue: StepQueue, step_id: str, now: datetime, *, force: bool = False
) -> Retried:
    """Schedule a listed step again, due `now`; raises OperatorRequestError saying why not."""
    commitment_id, gen, step = parse_step_id(step_id)
    ledger_key = keys.ledger(commitment_id, gen, step)

    async def attempt(pipe: Pipeline) -> Retried:
        await pipe.watch(ledger_key, keys.commitment(commitment_id))
        if not await cast(Awaitable[bool], pipe.hexists(keys.FAILED_STEP_INFO, step_id)):
            raise OperatorRequestError(f"no failed step {step_id} (see `coachd failed`)")
        outcome = _ledger_outcome(await pipe.get(ledger_key))
        raw = await read_hash(pipe, keys.commitment(commitment_id))
        commitment = Commitment.from_record(commitment_id, raw) if raw else None
        client = await read_client(pipe, commitment.client_id, watch=True) if commitment else None
        found = (commitment, client) if commitment and client else None
        refusal = retry_refusal(step, gen, outcome, found, now, force=force)
        if refusal is not None or found is None:
            hint = " (add --force to send it anyway)" if refusal == UNKNOWN_NEEDS_FORCE else ""
            raise OperatorRequestError(f"step {step_id} is not retried: {refusal}{hint}")
        pipe.multi()  # type: ignore[no-untyped-call]
        pipe.delete(ledger_key)  # the outcome goes; the send claims the key afresh
        write_transition(pipe, queue, retried(*found, step, now))
        pipe.zrem(keys.FAILED_STEPS, step_id)
        pipe.hdel(keys.FAILED_STEP_INFO, step_id)
        return Retried(step_id, outcome or "", found[0].next_step)

    return await transact(redis, attempt)


def _ledger_outcome(value: bytes | None) -> str | None:
    """The ledger entry's outcome (`claimed|attempt|ms` is "claimed"), or None if absent."""
    return value.decode().partition("|")[0] if value is not None else None


def _found(
    commitment_id: str, commitments: dict[str, dict[str, str]], clients: dict[str, dict[str, str]]
) -> tuple[Commitment, Client] | None:
    record = commitments.get(commitment_id)
    client = clients.get(record["client_id"]) if record else None
    if record is None or client is None:
        return None
    return Commitment.from_record(commitment_id, record), Client.from_record(
        record["client_id"], client
    )


async def _records(
    redis: Redis, ids: set[str], key_of: Callable[[str], str]
) -> dict[str, dict[str, str]]:
    """The hashes of these ids that exist, by id (one round trip)."""
    ordered = sorted(ids)
    found = zip(ordered, await read_hashes(redis, map(key_of, ordered)), strict=True)
    return {i: record for i, record in found if record}


def _listed(
    step_id: str, info: bytes | None, refusal: str | None, *, needs_force: bool
) -> FailedStep:
    details: dict[str, Any] = json.loads(info) if info else {}
    return FailedStep(
        step_id=step_id,
        at=details.get("at", ""),
        kind=details.get("kind", ""),
        outcome=details.get("outcome", ""),
        code=details.get("code"),
        reason=details.get("reason", ""),
        refusal=refusal,
        needs_force=needs_force,
    )
