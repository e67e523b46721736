"""Erasure reaches the disk: once Redis has rewritten its AOF, no file holds the client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from daemon.cli import main
from daemon.commands import EXIT_OK
from daemon.outbound.mailer import SmtpMailer
from daemon.store import aof
from daemon.store.embedded import EmbeddedRedis
from daemon.worker import Identity
from tests.daemon.store.test_privacy import (
    ANA,
    ANA_EMAIL,
    ANA_NAME,
    BEN_EMAIL,
    erase_ana,
    two_clients_with_history,
)
from tests.helpers.firm import SIGNING_KEY
from tests.helpers.loop import Loop, running_loop
from tests.helpers.smtp import SmtpTestServer

pytestmark = pytest.mark.integration

REWRITE_WAIT_S = 10.0
POLL_S = 0.05


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[EmbeddedRedis]:
    """A redis-server of the test's own with appendonly yes (the embedded one's settings)."""
    async with EmbeddedRedis(tmp_path / "redis") as started:
        yield started


@pytest.fixture
async def own_loop(
    server: EmbeddedRedis, smtp_server: SmtpTestServer, firm_config: Path
) -> AsyncIterator[Loop]:
    identity = Identity("coach@northstar.example", "reply.northstar.example", SIGNING_KEY)
    mailer = SmtpMailer(smtp_server.smtp_config())
    async with running_loop(server.url, smtp_server, firm_config, mailer, identity) as running:
        yield running


async def persistence(redis: Redis) -> dict[str, str]:
    info = await redis.info("persistence")
    return {key: str(value) for key, value in info.items()}


async def rewrites_done(redis: Redis, more_than: int) -> int:
    """Wait (bounded) until more than `more_than` AOF rewrites have finished, none running
    or scheduled; returns how many there were (no more if none came)."""
    deadline = time.monotonic() + REWRITE_WAIT_S
    while True:
        state = await persistence(redis)
        idle = state["aof_rewrite_in_progress"] == state["aof_rewrite_scheduled"] == "0"
        done = int(state["aof_rewrites"])
        if (idle and done > more_than) or time.monotonic() > deadline:
            return done
        await asyncio.sleep(POLL_S)


def hits_on_disk(data_dir: Path, *needles: str) -> dict[str, int]:
    """How often each needle occurs in the AOF files (base and increments) on disk."""
    files = [p for p in (data_dir / "appendonlydir").iterdir() if p.is_file()]
    blobs = [path.read_bytes() for path in files]
    return {needle: sum(blob.count(needle.encode()) for blob in blobs) for needle in needles}


async def test_after_an_erasure_event_the_aof_on_disk_no_longer_holds_the_client(
    own_loop: Loop, server: EmbeddedRedis
) -> None:
    await two_clients_with_history(own_loop)
    await own_loop.redis.execute_command("CONFIG", "SET", "appendfsync", "always")
    assert hits_on_disk(server.data_dir, ANA_NAME, ANA_EMAIL)[ANA_EMAIL] > 0  # seen before
    before = int((await persistence(own_loop.redis))["aof_rewrites"])

    await erase_ana(own_loop)
    await aof.settle_rewrites()
    await rewrites_done(own_loop.redis, before)

    assert hits_on_disk(server.data_dir, ANA_NAME, ANA_EMAIL) == {ANA_NAME: 0, ANA_EMAIL: 0}
    assert hits_on_disk(server.data_dir, BEN_EMAIL)[BEN_EMAIL] > 0  # Ben's data is kept
    # Written command by command (an RDB preamble would keep XDEL'd stream entries, and
    # compress them out of a grep's sight); the operator's setting is back afterwards.
    [base] = (server.data_dir / "appendonlydir").glob("*.base.*")
    assert (base.suffix, base.read_bytes()[:1]) == (".aof", b"*")
    assert await own_loop.redis.config_get(aof.PREAMBLE) == {aof.PREAMBLE: "yes"}


async def test_erase_now_from_the_cli_rewrites_the_aof_too(
    own_loop: Loop, server: EmbeddedRedis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await two_clients_with_history(own_loop)
    before = int((await persistence(own_loop.redis))["aof_rewrites"])
    monkeypatch.setenv("COACHD_REDIS_URL", server.url)
    monkeypatch.setenv("COACHD_SIGNING_KEY", SIGNING_KEY.decode())
    monkeypatch.setenv("COACHD_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)

    assert await asyncio.to_thread(main, ["erase-client", ANA, "--now"]) == EXIT_OK
    await rewrites_done(own_loop.redis, before)

    assert hits_on_disk(server.data_dir, ANA_NAME, ANA_EMAIL) == {ANA_NAME: 0, ANA_EMAIL: 0}


async def test_where_the_rewrite_is_refused_erasure_still_succeeds_and_says_so_once(
    own_loop: Loop, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Managed Redis often disables BGREWRITEAOF: simulated here by an ACL that denies it."""
    await two_clients_with_history(own_loop)
    await own_loop.redis.execute_command("ACL", "SETUSER", "default", "-bgrewriteaof")
    monkeypatch.setattr(aof, "_unavailable_logged", False)

    await erase_ana(own_loop)
    await aof.settle_rewrites()
    assert await aof.rewrite_aof(own_loop.redis) is False

    logged = capsys.readouterr().err
    assert logged.count("erasure_aof_rewrite_unavailable") == 1
    assert not await own_loop.redis.exists(f"coachd:client:{ANA}")
