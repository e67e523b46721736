"""coachd's Redis behind Sentinel, against real sentinels: the settings, the primary found and
followed, and one clear line when it cannot be (tests/helpers/sentinel.py starts them)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from daemon.cli import main
from daemon.commands import EXIT_CONFIG, EXIT_OK
from daemon.store.schedule import connect
from daemon.store.sentinel import SentinelPool
from daemon.store.settingscheck import MIN_REPLICAS, warn_about_settings
from tests.helpers.cli import clean_environment, closed_port, one_line
from tests.helpers.sentinel import SERVICE, SentinelSetup, sentinel_setup

pytestmark = pytest.mark.integration

QUICK_S = 3.0  # a one-off command reports unreachable sentinels within this
WRITE_EVERY_S = 0.001
WRITE_RETRY_S = 0.01
WRITE_BEFORE_S = 0.3
POLL_S = 0.05
# Sentinel demotes an old primary about 10 s after the switch; writes resume after that.
RESUME_WITHIN_S = 25.0
# Without min-replicas-to-write the old primary still took (and lost) writes this long after
# the sentinels had named the new one (the test writes on for 500 ms more).
LOST_AFTER_NAMED_S = 0.3
MAX_LOST_AT_SWITCH = 5  # writes acknowledged while the replica was being promoted
EXAMPLE_CONFIG = Path(__file__).parents[3] / "deploy" / "coachd.example.toml"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_environment(monkeypatch, tmp_path)


@pytest.fixture(scope="module")
def sentinels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelSetup]:
    """One primary, replica and three sentinels for the tests that fail nothing over."""
    with sentinel_setup(tmp_path_factory.mktemp("sentinel")) as setup:
        yield setup


def _set(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)


async def test_coachds_client_writes_to_the_primary_and_closes_the_sentinels_connections(
    sentinels: SentinelSetup,
) -> None:
    redis = await connect(sentinels.target())
    await redis.set("written-through-sentinel", "yes")
    pool = redis.connection_pool
    assert isinstance(pool, SentinelPool)
    await redis.aclose()
    with sentinels.node(sentinels.primary_port()) as primary:
        assert primary.get("written-through-sentinel") == b"yes"
    opened = [
        c for s in pool.sentinel_manager.sentinels for c in s.connection_pool._in_use_connections
    ]
    opened += [
        c for s in pool.sentinel_manager.sentinels for c in s.connection_pool._available_connections
    ]
    assert opened and not any(c.is_connected for c in opened)


def test_coachd_status_reaches_the_primary_through_the_sentinels(
    sentinels: SentinelSetup, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _set(monkeypatch, sentinels.coachd_env())
    assert main(["status", "--json"]) == EXIT_OK
    assert '"inbox_length"' in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["status"], ["emit", "-"], ["run"]])
def test_sentinels_that_do_not_answer_are_one_line_naming_them_without_secrets(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = closed_port(), closed_port()
    _set(monkeypatch, {
        "COACHD_REDIS_SENTINELS": f"127.0.0.1:{first}, 127.0.0.1:{second}",
        "COACHD_REDIS_SENTINEL_SERVICE": "coachd",
        "COACHD_REDIS_SENTINEL_PASSWORD": "hunter2",
        "COACHD_REDIS_URL": "redis://:s3cret@/0",
        "COACHD_CONFIG_PATH": str(EXAMPLE_CONFIG),
        "COACHD_SIGNING_KEY": "k" * 40,
    })  # fmt: skip
    started = time.monotonic()
    assert main(argv) == EXIT_CONFIG
    elapsed = time.monotonic() - started
    assert one_line(capsys.readouterr().err) == (
        f"coachd: cannot reach Redis at sentinel://127.0.0.1:{first},127.0.0.1:{second}/coachd: "
        "no sentinel answered (connection refused)"
    )
    if argv != ["run"]:  # the daemon waits a few seconds for a Redis that is starting
        assert elapsed < QUICK_S


WRONG_SERVICE = (
    "COACHD_REDIS_SENTINEL_SERVICE",
    "elsewhere",
    "no sentinel knows an up primary named 'elsewhere'",
)
WRONG_PASSWORD = (
    "COACHD_REDIS_SENTINEL_PASSWORD",
    "wrong",
    "no sentinel answered (invalid username-password pair or user is disabled)",
)


@pytest.mark.parametrize("case", [WRONG_SERVICE, WRONG_PASSWORD])
def test_a_wrong_service_or_sentinel_password_is_one_line(
    case: tuple[str, str, str],
    sentinels: SentinelSetup,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    setting, value, reason = case
    _set(monkeypatch, sentinels.coachd_env() | {setting: value})
    assert main(["status"]) == EXIT_CONFIG
    service = value if setting.endswith("SERVICE") else SERVICE
    where = f"sentinel://{sentinels.sentinels_setting}/{service}"
    assert one_line(capsys.readouterr().err) == f"coachd: cannot reach Redis at {where}: {reason}"


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"COACHD_REDIS_SENTINELS": "10.0.0.1:26379,10.0.0.2"},
         "COACHD_REDIS_SENTINELS must be host:port pairs separated by commas, e.g. "
         "10.0.0.1:26379,10.0.0.2:26379 ('10.0.0.2' is not one)"),
        ({"COACHD_REDIS_SENTINELS": "[::1]:26379,10.0.0.1:99999"},
         "COACHD_REDIS_SENTINELS must be host:port pairs separated by commas, e.g. "
         "10.0.0.1:26379,10.0.0.2:26379 ('10.0.0.1:99999' is not one)"),
        ({"COACHD_REDIS_SENTINELS": "10.0.0.1:26379"},
         "COACHD_REDIS_SENTINEL_SERVICE must be set with COACHD_REDIS_SENTINELS (the "
         "primary's name in the sentinels' `sentinel monitor` line)"),
        ({"COACHD_REDIS_SENTINEL_PASSWORD": "pw"},
         "COACHD_REDIS_SENTINEL_SERVICE, _USERNAME, _PASSWORD or _TLS is set but "
         "COACHD_REDIS_SENTINELS is not"),
        ({"COACHD_REDIS_SENTINELS": "10.0.0.1:26379", "COACHD_REDIS_SENTINEL_SERVICE": "coachd",
          "COACHD_REDIS_URL": "redis://:s3cret@10.0.0.5:6379/0"},
         "COACHD_REDIS_URL with COACHD_REDIS_SENTINELS gives only the primary's login, "
         "database and scheme, no host (the sentinels name the primary): "
         "redis://USER:PASSWORD@/0 or rediss://USER:PASSWORD@/0"),
    ],
)  # fmt: skip
def test_sentinel_settings_that_do_not_fit_are_one_line_naming_the_variable(
    env: dict[str, str],
    error: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _set(monkeypatch, env)
    assert main(["status"]) == EXIT_CONFIG
    assert one_line(capsys.readouterr().err) == f"coachd: {error}"


async def test_a_primary_without_min_replicas_to_write_is_reported_behind_sentinel(
    sentinels: SentinelSetup,
) -> None:
    redis = await connect(sentinels.target())
    try:
        with capture_logs() as logs:
            advice = await warn_about_settings(redis)
    finally:
        await redis.aclose()
    assert [(a.setting, a.found, a.wanted) for a in advice] == [
        (MIN_REPLICAS, "0", "the number of replicas")
    ]
    assert [e["setting"] for e in logs if e["event"] == "redis_setting_unsafe"] == [MIN_REPLICAS]


async def _write_through_coachd(
    setup: SentinelSetup, acked: list[tuple[float, str]], stop: asyncio.Event
) -> None:
    """RPUSH a new id through coachd's client about every millisecond until `stop`, adding
    each one Redis acknowledged to `acked` with its time (errors are waited out, as the
    daemon does)."""
    redis = await connect(setup.target())
    try:
        while not stop.is_set():
            write = f"w{len(acked)}"
            try:
                await redis.rpush("writes", write)
            except Exception:
                await asyncio.sleep(WRITE_RETRY_S)
                continue
            acked.append((time.monotonic(), write))
            await asyncio.sleep(WRITE_EVERY_S)
    finally:
        await redis.aclose()


async def _planned_failover(
    folder: Path, resumed: int, **node_config: str
) -> tuple[list[tuple[float, str]], list[tuple[float, str]], float]:
    """SENTINEL FAILOVER while coachd's client writes, until `resumed` more writes were
    acknowledged after the sentinels named the new primary. Returns the acknowledged
    writes, those the new primary does not have, and when the new primary was named."""
    acked: list[tuple[float, str]] = []
    with sentinel_setup(folder, **node_config) as setup:
        stop = asyncio.Event()
        writer = asyncio.create_task(_write_through_coachd(setup, acked, stop))
        await asyncio.sleep(WRITE_BEFORE_S)
        old = setup.primary_port()
        setup.fail_over()
        new = await asyncio.to_thread(setup.wait_for_new_primary, old)
        named_at, before = time.monotonic(), len(acked)
        deadline = named_at + RESUME_WITHIN_S
        while len(acked) < before + resumed and time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
        stop.set()
        await writer
        with setup.node(new) as primary:
            kept = {w.decode() for w in primary.lrange("writes", 0, -1)}
    return acked, [(at, w) for at, w in acked if w not in kept], named_at


async def test_a_planned_failover_loses_the_writes_the_old_primary_takes_until_demoted(
    tmp_path: Path,
) -> None:
    """Redis's default (min-replicas-to-write 0): after SENTINEL FAILOVER the old primary
    stays writable until Sentinel demotes it (about 10 s later); coachd, like any redis-py
    client, goes on writing there, and the new primary never sees those writes."""
    acked, lost, named_at = await _planned_failover(tmp_path, resumed=500)
    assert len(acked) > 500
    assert lost, "the old primary's writes after the switch should be lost"
    assert max(at for at, _ in lost) - named_at > LOST_AFTER_NAMED_S


async def test_with_min_replicas_to_write_a_planned_failover_loses_at_most_the_switch_and_resumes(
    tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    """min-replicas-to-write 1: the old primary refuses writes once its replica is promoted
    (NOREPLICAS: coachd asks the sentinels again), the new one until the old primary has
    rejoined as its replica; then writes resume, and none acknowledged since is missing."""
    acked, lost, named_at = await _planned_failover(
        tmp_path, resumed=100, min_replicas_to_write="1", min_replicas_max_lag="10"
    )
    after = [at for at, _ in acked if at > named_at]
    assert len(after) >= 100, "writes did not resume on the new primary"
    gap_s = max(b - a for (a, _), (b, _) in itertools.pairwise(acked))
    record_property("planned_failover_write_pause_s", round(gap_s, 2))
    print(f"planned failover with min-replicas-to-write 1: writes paused {gap_s:.2f} s")
    # Nothing acknowledged after the switch is lost. A write acknowledged in the moment the
    # replica was being promoted may be (asynchronous replication: seen once, one write, on
    # a loaded machine); that window is the one docs/scaling.md names.
    assert [w for at, w in lost if at >= named_at] == []
    assert len(lost) <= MAX_LOST_AT_SWITCH
