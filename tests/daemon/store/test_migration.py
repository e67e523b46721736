"""Upgrading from v0.1: each client's old set of commitment ids is folded into its record once,
atomically per client, and no commitment drops out of a client's list afterwards."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import redis as redis_sync
from redis.asyncio import Redis

from daemon import app
from daemon.settings import Settings
from daemon.store import keys, migration
from daemon.store.migration import STORAGE_LAYOUT, V01_LAYOUT, fold_clients, migrate
from tests.helpers.events import changed, created
from tests.helpers.firm import START
from tests.helpers.loop import Loop
from tests.helpers.procs import (
    WAIT_S,
    CoachdProcess,
    daemon_env,
    emit,
    now_utc,
    overdue_commitment,
    wait_for,
)
from tests.helpers.smtp import SmtpTestServer

pytestmark = pytest.mark.integration

LATER = START + timedelta(hours=1)
# A client record as v0.1 wrote it: it named the client and stored "0" for not opted out.
V01_RECORD = {
    "client_id": "client3",
    "name": "Client 3",
    "email": "client3@example.org",
    "timezone": "Europe/Madrid",
    "opted_out": "0",
    "updated_at": START.isoformat(),
}


async def as_v01(redis: Redis, client_id: str) -> list[str]:
    """Rewrite a client the way v0.1 stored it: its commitment ids in a set of their own,
    none in its record. Returns the ids."""
    key = keys.client(client_id)
    ids = (await redis.hget(key, "commitments")).decode().split()  # type: ignore[misc]
    await redis.hdel(key, "commitments")  # type: ignore[misc]
    await redis.hset(key, mapping={"client_id": client_id, "opted_out": "0"})  # type: ignore[misc]
    await redis.sadd(keys.legacy_client_commitments(client_id), *ids)  # type: ignore[misc]
    return ids


async def listed(redis: Redis, client_id: str) -> str | None:
    """The client record's `commitments` field, as stored."""
    value = await redis.hget(keys.client(client_id), "commitments")  # type: ignore[misc]
    return value.decode() if value is not None else None


async def legacy_set(redis: Redis, client_id: str) -> list[str]:
    members = await redis.smembers(keys.legacy_client_commitments(client_id))  # type: ignore[misc]
    return sorted(m.decode() for m in members)


async def v01_clients(loop: Loop) -> None:
    """Ana (two commitments) and Ben (one) as v0.1 left them."""
    await loop.emit(
        created("e1", "c1"),
        created("e2", "c2", due="2026-12-10"),
        created("e3", "b1", client_id="ben", email="ben@example.org"),
    )
    await loop.consume()
    await as_v01(loop.redis, "ana")
    await as_v01(loop.redis, "ben")


async def test_a_v01_clients_set_is_folded_into_its_record_and_deleted(loop: Loop) -> None:
    await v01_clients(loop)

    report = await migrate(loop.redis)

    assert (report.from_version, report.clients_folded) == (V01_LAYOUT, 2)
    assert await listed(loop.redis, "ana") == "c1 c2"
    assert await listed(loop.redis, "ben") == "b1"
    assert not await loop.redis.exists(keys.legacy_client_commitments("ana"))
    assert not await loop.redis.exists(keys.legacy_client_commitments("ben"))
    assert await loop.redis.get(keys.STORAGE_VERSION) == str(STORAGE_LAYOUT).encode()
    # The rest of v0.1's record is still read as it was.
    assert await loop.redis.hget(keys.client("ana"), "email") == b"ana@example.org"


async def test_migrating_again_changes_nothing(loop: Loop) -> None:
    await v01_clients(loop)
    await migrate(loop.redis)
    before = {c: await loop.redis.hgetall(keys.client(c)) for c in ("ana", "ben")}  # type: ignore[misc]

    await loop.redis.delete(keys.STORAGE_VERSION)  # even without the record of the first run
    again = await migrate(loop.redis)

    assert (again.ran, again.clients_folded) == (True, 0)
    after = {c: await loop.redis.hgetall(keys.client(c)) for c in ("ana", "ben")}  # type: ignore[misc]
    assert after == before


async def before_the_fix(loop: Loop) -> None:
    """What a worker without the migration made of v0.1 clients: Ana's new commitment c3
    listed alone in her record, her older ones left in the set."""
    await v01_clients(loop)
    await loop.emit(created("e4", "c3", due="2026-12-12", at=LATER))
    await loop.consume()
    assert await listed(loop.redis, "ana") == "c3"


async def test_a_client_with_both_a_set_and_a_field_gets_the_union(loop: Loop) -> None:
    await before_the_fix(loop)
    await loop.redis.hset(keys.client("ben"), "commitments", "b1")  # in both: listed once

    await migrate(loop.redis)

    assert await listed(loop.redis, "ana") == "c1 c2 c3"
    assert await listed(loop.redis, "ben") == "b1"
    assert await legacy_set(loop.redis, "ana") == []


async def test_a_migrated_v01_client_keeps_its_old_commitments_after_a_new_one(
    loop: Loop,
) -> None:
    await v01_clients(loop)
    await migrate(loop.redis)
    await loop.emit(created("e4", "c3", due="2026-12-12", at=LATER))
    await loop.consume()
    assert await listed(loop.redis, "ana") == "c1 c2 c3"

    # "stop" on the new commitment stops every one of the client's commitments; the one
    # email left is its confirmation ("no more emails; reply 'undo' if I misread you").
    stop = changed("reply.received", "r1", LATER, "c3", kind="reply", intent="stop", text="stop")
    await loop.emit(stop)
    await loop.consume()
    scheduled = await loop.redis.zrange(keys.STEP_SCHEDULE, 0, -1)
    assert sorted(m.decode().split(":")[0] for m in scheduled) == ["b1", "c3"]
    assert (
        await loop.redis.hget(keys.commitment("c3"), "next_step") == b"ack-1"
    )  # the confirmation of reply 1


def command_settings(redis_url: str, tmp_path: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        redis_url=redis_url, data_dir=tmp_path, signing_key="k" * 40, _env_file=None
    )


async def test_export_migrates_first_and_shows_every_commitment(
    loop: Loop, redis_url: str, tmp_path: Path
) -> None:
    await before_the_fix(loop)

    exported = await app.export_client(command_settings(redis_url, tmp_path), "ana")

    assert [c["commitment_id"] for c in exported["commitments"]] == ["c1", "c2", "c3"]


async def test_erase_now_migrates_first_and_leaves_no_commitment_behind(
    loop: Loop, redis_url: str, tmp_path: Path
) -> None:
    await before_the_fix(loop)

    said = await app.erase_client(command_settings(redis_url, tmp_path), "ana", now=True)

    assert said.startswith("erased: the client, 3 commitment(s)")
    assert [await loop.redis.exists(keys.commitment(c)) for c in ("c1", "c2", "c3")] == [0] * 3
    assert await loop.redis.exists(keys.commitment("b1"))


async def test_the_recorded_version_skips_the_scan(loop: Loop) -> None:
    await v01_clients(loop)
    await migrate(loop.redis)
    # A set written after the migration (only a v0.1 process would): no SCAN finds it.
    await loop.redis.sadd(keys.legacy_client_commitments("ana"), "c0")

    again = await migrate(loop.redis)

    assert (again.from_version, again.ran) == (STORAGE_LAYOUT, False)
    assert await legacy_set(loop.redis, "ana") == ["c0"]
    assert await listed(loop.redis, "ana") == "c1 c2"


async def test_a_migration_cut_short_loses_nothing_and_the_next_run_finishes(
    loop: Loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    await v01_clients(loop)
    await loop.emit(created("e4", "d1", client_id="dee", email="dee@example.org"))
    await loop.consume()
    await as_v01(loop.redis, "dee")

    async def dies_after_one(redis: Redis, client_ids: list[str]) -> list[int]:
        await fold_clients(redis, client_ids[:1])
        raise ConnectionError("the worker died mid-migration")

    monkeypatch.setattr(migration, "fold_clients", dies_after_one)
    with pytest.raises(ConnectionError):
        await migrate(loop.redis)
    monkeypatch.undo()
    assert await loop.redis.get(keys.STORAGE_VERSION) is None  # the next start runs it again
    v01 = {"ana": (None, ["c1", "c2"]), "ben": (None, ["b1"]), "dee": (None, ["d1"])}
    done = {"ana": ("c1 c2", []), "ben": ("b1", []), "dee": ("d1", [])}
    now = {c: (await listed(loop.redis, c), await legacy_set(loop.redis, c)) for c in v01}
    # Each client is all v0.1 or all folded (one script each); one got folded.
    assert sorted(c for c in v01 if now[c] in (v01[c], done[c])) == sorted(v01)
    assert sum(now[c] == done[c] for c in v01) == 1

    report = await migrate(loop.redis)

    assert report.clients_folded == 2
    assert [await listed(loop.redis, c) for c in ("ana", "ben", "dee")] == ["c1 c2", "b1", "d1"]
    assert [await legacy_set(loop.redis, c) for c in ("ana", "ben", "dee")] == [[], [], []]


async def test_only_v01_client_sets_are_folded(loop: Loop) -> None:
    """The coach's index, a client whose id is "c", keys whose middle part has a ':' (no
    client id has one) and a set whose client record is gone are all left as they were."""
    await loop.emit(created("e1", "k1", client_id="c", email="c@example.org"))
    await loop.consume()
    await loop.redis.sadd("coachd:cl:a:b:c", "x1")
    await loop.redis.set("coachd:cl:str:c", "not a set")
    await loop.redis.sadd(keys.legacy_client_commitments("gone"), "g1")
    untouched = ["coachd:co:maria:c", keys.client("c"), "coachd:cl:a:b:c", "coachd:cl:str:c"]
    before = [await loop.redis.dump(key) for key in untouched]

    report = await migrate(loop.redis)

    assert (report.clients_folded, report.sets_without_client) == (0, ["gone"])
    assert [await loop.redis.dump(key) for key in untouched] == before
    assert await legacy_set(loop.redis, "gone") == ["g1"]
    assert not await loop.redis.exists(keys.client("gone"))


def test_coachd_run_migrates_before_it_applies_an_event(
    redis_url: str, smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    env = daemon_env(tmp_path, redis_url, smtp_server.host, smtp_server.port)
    with redis_sync.Redis.from_url(redis_url) as state:
        state.hset(keys.client("client3"), mapping=V01_RECORD)
        state.sadd(keys.legacy_client_commitments("client3"), "c1", "c2")
        with CoachdProcess(env, tmp_path / "daemon.log") as daemon:
            emit(env, [overdue_commitment(3, now_utc())])  # client3's third commitment
            assert wait_for(lambda: state.exists(keys.commitment("c3")) == 1)
            daemon.stop(timeout=WAIT_S)
        assert state.hget(keys.client("client3"), "commitments") == b"c1 c2 c3"
        assert not state.exists(keys.legacy_client_commitments("client3"))
    assert daemon.returncode == 0
