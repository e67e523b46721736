"""The send ledger: at most one email per step, even when a job runs twice or a worker dies."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from redis.asyncio import Redis

from daemon import keys

# How long a claim protects an in-flight send; longer than the worst SMTP transaction.
CLAIM_LEASE_MS = 120_000

_RELEASE_IF_OURS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# Only the attempt holding the claim may record the outcome: a stale worker cannot overwrite it.
_FINISH_IF_OURS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""


class Outcome(StrEnum):
    """What the ledger knows of a step's email."""

    SENT = "sent"
    FAILED = "failed"  # refused for good by the server; never retried
    UNKNOWN = "unknown"  # may or may not have been delivered; never resent (policy)
    CLAIMED = "claimed"  # a send is in flight (or its worker died mid-send)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    outcome: Outcome
    attempt: str = ""
    claimed_at_ms: int = 0

    def lease_expired(self, now_ms: int) -> bool:
        return self.outcome is Outcome.CLAIMED and now_ms - self.claimed_at_ms > CLAIM_LEASE_MS


def claim_value(attempt: str, now_ms: int) -> str:
    return f"{Outcome.CLAIMED}|{attempt}|{now_ms}"


def parse_entry(raw: bytes | str) -> LedgerEntry:
    text = raw.decode() if isinstance(raw, bytes) else raw
    outcome, _, rest = text.partition("|")
    if outcome != Outcome.CLAIMED:
        return LedgerEntry(Outcome(outcome))
    attempt, _, claimed_at = rest.rpartition("|")
    return LedgerEntry(Outcome.CLAIMED, attempt, int(claimed_at))


class SendLedger:
    """Claims a step before sending; the outcome is written with the state change (see Store)."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._release = redis.register_script(_RELEASE_IF_OURS)
        self._finish = redis.register_script(_FINISH_IF_OURS)

    async def claim(self, key: str, attempt: str, now_ms: int) -> LedgerEntry | None:
        """Claim `key` for this attempt; None means ours, else what was there before."""
        value = claim_value(attempt, now_ms)
        if await self._redis.set(key, value, nx=True, ex=keys.LEDGER_TTL_S):
            return None
        existing = await self._redis.get(key)
        if existing is None:  # released between our SET and GET: try once more
            return (
                None
                if await self._redis.set(key, value, nx=True, ex=keys.LEDGER_TTL_S)
                else (LedgerEntry(Outcome.CLAIMED, "", now_ms))
            )
        return parse_entry(existing)

    async def finish(self, key: str, attempt: str, claimed_at_ms: int, outcome: Outcome) -> bool:
        """Record the outcome right after the SMTP answer, before anything else can fail."""
        value = claim_value(attempt, claimed_at_ms)
        done = await self._finish(keys=[key], args=[value, outcome.value, keys.LEDGER_TTL_S])
        return bool(done)

    async def release(self, key: str, attempt: str, claimed_at_ms: int) -> None:
        """Give the claim back after a failure that certainly did not deliver (4xx, refused)."""
        await self._release(keys=[key], args=[claim_value(attempt, claimed_at_ms)])
