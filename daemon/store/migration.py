"""Bringing data an older coachd left in Redis up to the current layout, before it is used.

v0.1 kept each client's commitment ids in a set of its own (`keys.legacy_client_commitments`);
now they are the client hash's `commitments` field, and nothing reads the sets. `migrate`
folds every set into its client's field, one client per atomic script, then records the
layout's version (`keys.STORAGE_VERSION`) so later starts skip the keyspace SCAN. A run cut
short (a crash, a Redis restart) has folded some clients and left the other sets as they
were: the next run folds the rest. No v0.1 process may write to Redis once a migration has
run (README, "Upgrading from v0.1"): what it adds to a set would never be folded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

import structlog
from redis.asyncio import Redis

from daemon.store import keys

log = structlog.get_logger(__name__)

# v0.1 recorded no version; `migrate` leaves STORAGE_LAYOUT.
V01_LAYOUT = 1
STORAGE_LAYOUT = 2
# SCAN page size; a page's folds go to Redis in one pipeline.
SCAN_COUNT = 1000
FOLDED, NO_SET, NO_CLIENT = 1, 0, -1
# What is around the client id in a v0.1 set's key.
_SET_PREFIX = keys.client("")
_SET_SUFFIX = keys.legacy_client_commitments("").removeprefix(_SET_PREFIX)
# KEYS[1]: v0.1's set of a client's commitment ids; KEYS[2]: the client's hash. The set's
# ids join any already in the field (a client that got a commitment from a worker without
# this migration has both), sorted and unique as Client.with_commitment keeps them, and the
# set goes. A set without its client hash is left alone: there is no record to fold it into.
_FOLD = """
if redis.call('TYPE', KEYS[1]).ok ~= 'set' then return 0 end
if redis.call('TYPE', KEYS[2]).ok ~= 'hash' then return -1 end
local ids, seen = {}, {}
local function add(id)
  if not seen[id] then seen[id] = true; ids[#ids + 1] = id end
end
for id in string.gmatch(redis.call('HGET', KEYS[2], 'commitments') or '', '%S+') do add(id) end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do add(id) end
table.sort(ids)
redis.call('HSET', KEYS[2], 'commitments', table.concat(ids, ' '))
redis.call('DEL', KEYS[1])
return 1
"""


@dataclass
class MigrationReport:
    """What `migrate` did: the layout it found, and the clients whose sets it folded."""

    from_version: int
    clients_folded: int = 0
    sets_without_client: list[str] = field(default_factory=list)  # client ids

    @property
    def ran(self) -> bool:
        return self.from_version < STORAGE_LAYOUT

    def summary(self, took: str = "") -> str:
        """What it did, in a line (and one per set left as it was); `took`: "in 1.2 s"."""
        if not self.ran:
            return f"Nothing to do: the data is in layout {STORAGE_LAYOUT} already."
        lines = [
            f"Migrated from layout {self.from_version} to {STORAGE_LAYOUT}: "
            f"{self.clients_folded} client(s)' commitment lists folded into their records"
            f"{' ' + took if took else ''}."
        ]
        lines += [
            f"left as it was: {keys.legacy_client_commitments(c)} (no client record)"
            for c in self.sets_without_client
        ]
        return "\n".join(lines)


async def stored_layout(redis: Redis) -> int:
    """The layout version of the data in Redis (v0.1's when none is recorded)."""
    stored = await cast(Awaitable[bytes | None], redis.get(keys.STORAGE_VERSION))
    return int(stored) if stored else V01_LAYOUT


async def migrate(redis: Redis, on_page: Callable[[int], None] | None = None) -> MigrationReport:
    """Bring the data up to STORAGE_LAYOUT: one GET when it already is. Safe to run again,
    and beside another worker running it. `on_page` is told, after each SCAN page, about
    how many keys that page looked at (SCAN_COUNT: SCAN gives no exact count)."""
    report = MigrationReport(await stored_layout(redis))
    if not report.ran:
        return report
    log.info("storage_migration_started", from_version=report.from_version)
    cursor = 0
    while True:
        cursor, page = await redis.scan(
            cursor, match=keys.LEGACY_CLIENT_COMMITMENTS_PATTERN, count=SCAN_COUNT, _type="set"
        )
        client_ids = [i for i in map(_client_id_of, page) if i is not None]
        outcomes = await fold_clients(redis, client_ids)
        for client_id, outcome in zip(client_ids, outcomes, strict=True):
            if outcome == FOLDED:
                report.clients_folded += 1
            elif outcome == NO_CLIENT:
                log.warning("legacy_set_without_client", client_id=client_id)
                report.sets_without_client.append(client_id)
        if on_page is not None:
            on_page(SCAN_COUNT)
        if cursor == 0:
            break
    # Only once every set is folded: a run cut short must leave the next one to finish.
    await redis.set(keys.STORAGE_VERSION, str(STORAGE_LAYOUT))
    log.info(
        "storage_migrated",
        to_version=STORAGE_LAYOUT,
        clients_folded=report.clients_folded,
        sets_without_client=len(report.sets_without_client),
    )
    return report


async def fold_clients(redis: Redis, client_ids: Sequence[str]) -> list[int]:
    """Fold each client's v0.1 set into its hash, each client atomically, in one pipeline;
    FOLDED, NO_SET or NO_CLIENT for each."""
    if not client_ids:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for client_id in client_ids:
            legacy, record = keys.legacy_client_commitments(client_id), keys.client(client_id)
            pipe.eval(_FOLD, 2, legacy, record)
        return [int(outcome) for outcome in await pipe.execute()]


def _client_id_of(raw_key: bytes) -> str | None:
    """The client id in a key the SCAN matched; None when the part between has a ':', which
    no client id has (jobs.events.Identifier): not a v0.1 set, whatever else it is."""
    middle = raw_key.decode().removeprefix(_SET_PREFIX).removesuffix(_SET_SUFFIX)
    return middle if middle and ":" not in middle else None
