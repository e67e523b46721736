"""The send ledger: at most one email per step, even when a job runs twice or a worker dies.

A step's ledger key moves through these values, each change a compare-and-set so a stale
worker can never overwrite a newer one:

    claimed|attempt|ms  -> committing|attempt|ms  -> sent | failed | unknown
          |                      |
          +-- released ----------+   (the server refused, or hung up: nothing delivered)

`committing` is written right before the final "." of SMTP DATA (see daemon.outbound.smtpdata),
in the commit turn that this process's sends reaching their dots together share
(daemon.outbound.commitbatch): one round trip for all their marks, one mark per email.
A worker that dies while `claimed` sent nothing the server kept: once the claim's lease
has run out, another run takes it over and sends. A worker that dies while `committing`
may or may not have delivered (nobody saw the server's answer): that step is recorded
`unknown` and never sent again (daemon.outbound.recovery, daemon.outbound.sendonce).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Any

from redis.asyncio import Redis

from daemon.outbound.commitbatch import CommitBatcher, CommitTurn
from daemon.outbound.markline import open_mark_line
from daemon.outbound.tally import Report, record_call
from daemon.store import keys
from daemon.store.pipelining import AutoPipeline

# How long a claim protects an in-flight send; longer than a job may run (its timeout).
DEFAULT_LEASE_MS = 75_000
MS_PER_S = 1000

# Replace ARGV[1] (the expected value) with ARGV[2]; an empty ARGV[2] deletes the key.
_SWAP = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) return 1 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""
# Swap every key from ARGV[1] to ARGV[2], or none: the commit mark of one email that carries
# several steps (a client's prompts due the same day).
_SWAP_ALL = """
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) ~= ARGV[1] then return 0 end
end
for _, key in ipairs(KEYS) do redis.call('SET', key, ARGV[2], 'EX', ARGV[3]) end
return 1
"""
# Release or finish from either of our own in-flight values.
_SWAP_OURS = """
local current = redis.call('GET', KEYS[1])
if current ~= ARGV[1] and current ~= ARGV[2] then return 0 end
if ARGV[3] == '' then redis.call('DEL', KEYS[1]) return 1 end
redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4])
return 1
"""


class Outcome(StrEnum):
    """What the ledger knows of a step's email."""

    SENT = "sent"
    FAILED = "failed"  # refused for good by the server; never retried
    UNKNOWN = "unknown"  # no reply after the message: may be delivered; never resent
    CLAIMED = "claimed"  # a send is in flight, before its point of no return
    COMMITTING = "committing"  # the final dot is (being) written: counts as delivered


IN_FLIGHT = (Outcome.CLAIMED, Outcome.COMMITTING)


class LedgerLost(Exception):
    """Raised when our claim was taken over (our lease ran out): we must not send."""


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    outcome: Outcome
    attempt: str = ""
    claimed_at_ms: int = 0

    @property
    def value(self) -> str:
        if self.outcome in IN_FLIGHT:
            return f"{self.outcome}|{self.attempt}|{self.claimed_at_ms}"
        return self.outcome.value


def parse_entry(raw: bytes | str) -> LedgerEntry:
    text = raw.decode() if isinstance(raw, bytes) else raw
    outcome, _, rest = text.partition("|")
    if outcome not in IN_FLIGHT:
        return LedgerEntry(Outcome(outcome))
    attempt, _, claimed_at = rest.rpartition("|")
    return LedgerEntry(Outcome(outcome), attempt, int(claimed_at))


@dataclass(frozen=True, slots=True)
class LedgerOutcome:
    """An outcome to record for a step that `attempt` (claimed at `claimed_at_ms`) holds."""

    key: str
    attempt: str
    claimed_at_ms: int
    outcome: Outcome
    report: Report | None = None  # counted with it (daemon.outbound.tally)


class SendLedger:
    """Claims, commits and records each step's email (see the module docstring)."""

    def __init__(
        self,
        redis: Redis,
        commands: AutoPipeline,
        lease_ms: int = DEFAULT_LEASE_MS,
        *,
        marks: CommitBatcher | None = None,
    ) -> None:
        self._redis = redis
        self._commands = commands  # concurrent steps' ledger calls share round trips
        self.lease_ms = lease_ms
        # Concurrent sends' commit marks share a round trip too, written with their dots.
        self._marks = marks or CommitBatcher(partial(open_mark_line, redis))

    def lease_over(self, entry: LedgerEntry, now_ms: int) -> bool:
        """Whether an in-flight entry (claimed or committing) has outlived its lease: the
        attempt that wrote it is no longer running (a job cannot run that long)."""
        return entry.outcome in IN_FLIGHT and now_ms - entry.claimed_at_ms > self.lease_ms

    def lease_left_ms(self, entry: LedgerEntry, now_ms: int) -> int:
        """How long an in-flight entry's attempt may still be running (0 once it cannot)."""
        return max(entry.claimed_at_ms + self.lease_ms - now_ms, 0)

    async def claim(self, key: str, attempt: str, now_ms: int) -> LedgerEntry | None:
        """Claim `key` for this attempt; None means ours, else what is there."""
        ours = LedgerEntry(Outcome.CLAIMED, attempt, now_ms)
        if await self._set_new(key, ours.value):
            return None
        existing = await self._commands.execute("GET", key)
        if existing is None:  # released between our SET and GET: try once more
            if await self._set_new(key, ours.value):
                return None
            existing = await self._commands.execute("GET", key)
        return parse_entry(existing) if existing is not None else ours

    async def peek(self, key: str) -> LedgerEntry | None:
        raw = await self._commands.execute("GET", key)
        return parse_entry(raw) if raw is not None else None

    async def _set_new(self, key: str, value: str) -> bool:
        return bool(await self._commands.execute("SET", key, value, "NX", "EX", keys.LEDGER_TTL_S))

    async def take_over(self, key: str, abandoned: LedgerEntry, attempt: str, now_ms: int) -> bool:
        """Claim a step whose previous claim's lease ran out (its worker died before DATA)."""
        ours = LedgerEntry(Outcome.CLAIMED, attempt, now_ms)
        return await self._cas(key, abandoned.value, ours.value)

    def commit_point(
        self, key: str, attempt: str, claimed_at_ms: int, *, also: Sequence[str] = ()
    ) -> LedgerCommit:
        """The "committing" mark, to be written together with SMTP's final dot (for `key`
        and the steps in `also` that ride in the same email, all claimed by this attempt)."""
        claimed = LedgerEntry(Outcome.CLAIMED, attempt, claimed_at_ms)
        committing = LedgerEntry(Outcome.COMMITTING, attempt, claimed_at_ms)
        return LedgerCommit(self._marks, (key, *also), (claimed.value, committing.value))

    async def finish(
        self,
        key: str,
        attempt: str,
        claimed_at_ms: int,
        outcome: Outcome,
        report: Report | None = None,
    ) -> bool:
        """Record the outcome (counted as `report` says), only if this attempt still holds
        the step."""
        if report is None:
            return await self._from_ours(key, attempt, claimed_at_ms, outcome.value)
        item = LedgerOutcome(key, attempt, claimed_at_ms, outcome, report)
        return bool(await self._commands.eval(*_record_call(item)))

    async def record_all(self, outcomes: Sequence[LedgerOutcome]) -> None:
        """`finish` for many steps, in one pipeline (each still only if its attempt holds it)."""
        if not outcomes:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for item in outcomes:
                if item.report is not None:
                    script, script_keys, args = _record_call(item)
                    pipe.eval(script, len(script_keys), *script_keys, *args)
                    continue
                args = _ours_args(item.attempt, item.claimed_at_ms, item.outcome.value)
                pipe.eval(_SWAP_OURS, 1, item.key, *args)
            await pipe.execute()

    async def release(self, key: str, attempt: str, claimed_at_ms: int) -> None:
        """Give the step back after a failure that certainly did not deliver."""
        await self._from_ours(key, attempt, claimed_at_ms, "")

    async def _from_ours(self, key: str, attempt: str, claimed_at_ms: int, new: str) -> bool:
        args = _ours_args(attempt, claimed_at_ms, new)
        return bool(await self._commands.eval(_SWAP_OURS, [key], args))

    async def _cas(self, key: str, expected: str, new: str) -> bool:
        return bool(await self._commands.eval(_SWAP, [key], [expected, new, keys.LEDGER_TTL_S]))


def wall_ms() -> int:
    """Leases are wall-clock (Redis expiry is too), whatever the domain clock says."""
    return int(time.time() * MS_PER_S)


def _record_call(item: LedgerOutcome) -> tuple[str, list[str], list[str]]:
    """The counting script, its keys and arguments for `item` (which has a report)."""
    assert item.report is not None
    ours = _ours_args(item.attempt, item.claimed_at_ms, "")[:2]
    return record_call(item.key, (ours[0], ours[1]), item.outcome.value, item.report, wall_ms())


def _ours_args(attempt: str, claimed_at_ms: int, new: str) -> list[str]:
    """_SWAP_OURS's arguments: this attempt's claimed and committing values, then `new`."""
    claimed = LedgerEntry(Outcome.CLAIMED, attempt, claimed_at_ms).value
    committing = LedgerEntry(Outcome.COMMITTING, attempt, claimed_at_ms).value
    return [claimed, committing, new, str(keys.LEDGER_TTL_S)]


class LedgerCommit:
    """One email's claimed -> committing swap (every key of it, or none), written in this
    process's open commit turn (daemon.outbound.commitbatch).

    `prepare` joins the turn (waiting only while its connection is opened); `write` only
    puts the mark in the turn's held-back connection (synchronously), so the SMTP dot can
    follow with no await in between; `confirm` waits for Redis's answer to this mark alone.
    """

    def __init__(
        self, marks: CommitBatcher, step_keys: Sequence[str], values: tuple[str, str]
    ) -> None:
        self._marks = marks
        self._keys = tuple(step_keys)
        self._values = values
        self._turn: CommitTurn | None = None
        self._reply: asyncio.Future[Any] | None = None

    async def prepare(self) -> None:
        self._turn = await self._marks.turn()

    def write(self) -> None:
        assert self._turn is not None, "prepare first"
        expected, new = self._values
        self._reply = self._turn.write(
            ("EVAL", _SWAP_ALL, len(self._keys), *self._keys, expected, new, keys.LEDGER_TTL_S)
        )

    async def confirm(self) -> None:
        assert self._reply is not None, "write first"
        if not await self._reply:
            raise LedgerLost(self._keys[0])
