"""The start-up check of the Redis settings coachd relies on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_sync
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from structlog.testing import capture_logs

from daemon.store.settingscheck import (
    HASH_MAX_VALUE,
    MAXMEMORY_POLICY,
    SettingAdvice,
    advise,
    read_settings,
    warn_about_settings,
)
from tests.helpers.procs import CoachdProcess, daemon_env
from tests.helpers.smtp import SmtpTestServer

SAFE = {"maxmemory-policy": "noeviction", "appendonly": "yes", HASH_MAX_VALUE: "2048"}


def test_safe_settings_need_no_change() -> None:
    assert advise(SAFE) == []
    assert advise({**SAFE, HASH_MAX_VALUE: "4096"}) == []


def test_redis_defaults_get_one_piece_of_advice_each() -> None:
    defaults = {"maxmemory-policy": "allkeys-lru", "appendonly": "no", HASH_MAX_VALUE: "64"}
    advice = advise(defaults)
    assert [(a.setting, a.found) for a in advice] == [
        ("maxmemory-policy", "allkeys-lru"),
        ("appendonly", "no"),
        (HASH_MAX_VALUE, "64"),
    ]
    assert all(a.wanted and a.why for a in advice)


def test_a_setting_redis_did_not_report_is_not_judged() -> None:
    assert advise({}) == []
    assert advise({HASH_MAX_VALUE: "not a number"}) == []


@pytest.fixture
async def settable(redis: Redis) -> AsyncIterator[Redis]:
    """The test Redis, with the settings a test changes put back afterwards."""
    before = await read_settings(redis)
    try:
        yield redis
    finally:
        for name in (MAXMEMORY_POLICY, HASH_MAX_VALUE):
            await redis.config_set(name, before[name])


async def check_with(
    redis: Redis, policy: str, hash_max: str
) -> tuple[list[SettingAdvice], list[dict[str, Any]]]:
    """Set the two settings a test may change, then run the check; its advice and logs."""
    await redis.config_set(MAXMEMORY_POLICY, policy)
    await redis.config_set(HASH_MAX_VALUE, hash_max)
    with capture_logs() as logs:
        advice = await warn_about_settings(redis)
    return advice, logs


@pytest.mark.integration
async def test_a_redis_set_up_as_the_readme_says_is_not_warned_about(settable: Redis) -> None:
    advice, logs = await check_with(settable, "noeviction", "2048")
    judged = {MAXMEMORY_POLICY, HASH_MAX_VALUE}
    assert [a for a in advice if a.setting in judged] == []
    assert [e for e in logs if e.get("setting") in judged] == []


@pytest.mark.integration
async def test_an_evicting_redis_with_small_hashes_is_warned_about(settable: Redis) -> None:
    advice, logs = await check_with(settable, "allkeys-lru", "64")
    assert {a.setting for a in advice} >= {MAXMEMORY_POLICY, HASH_MAX_VALUE}
    warned = {e["setting"]: e for e in logs if e["event"] == "redis_setting_unsafe"}
    assert warned[MAXMEMORY_POLICY]["found"] == "allkeys-lru"
    assert warned[HASH_MAX_VALUE]["found"] == "64"
    assert warned[MAXMEMORY_POLICY]["log_level"] == "warning"


class ConfigDisabled:
    """A Redis whose CONFIG command was renamed away, as managed services do."""

    async def config_get(self, name: str) -> dict[str, str]:
        raise ResponseError("unknown command 'CONFIG'")


async def test_a_redis_without_config_is_not_judged_and_says_so() -> None:
    with capture_logs() as logs:
        advice = await warn_about_settings(ConfigDisabled())  # type: ignore[arg-type]
    assert advice == []
    assert [e["event"] for e in logs] == ["redis_settings_unchecked"]


@pytest.mark.integration
def test_coachd_run_warns_at_start_about_an_evicting_redis(
    redis_url: str, smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    client = redis_sync.Redis.from_url(redis_url, decode_responses=True)
    before = client.config_get(MAXMEMORY_POLICY)[MAXMEMORY_POLICY]
    client.config_set(MAXMEMORY_POLICY, "allkeys-lru")
    env = daemon_env(tmp_path, redis_url, smtp_server.host, smtp_server.port)
    try:
        with CoachdProcess(env, tmp_path / "worker.log") as worker:
            assert worker.wait_for_event("worker_started")
    finally:
        client.config_set(MAXMEMORY_POLICY, before)
        client.close()
    warned = worker.logged("redis_setting_unsafe")
    policy = [(e["found"], e["level"]) for e in warned if e["setting"] == MAXMEMORY_POLICY]
    assert policy == [("allkeys-lru", "warning")]
