"""Redis (AOF on) restarted under a running daemon: nothing accepted is lost, nothing doubled."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from daemon.store.embedded import EmbeddedRedis
from tests.helpers.procs import (
    CoachdProcess,
    daemon_env,
    emit,
    now_utc,
    overdue_commitment,
    wait_for,
)
from tests.helpers.smtp import SmtpTestServer

pytestmark = pytest.mark.integration

BATCH = 150
WAIT_S = 90.0
SETTLE_S = 2.0


def test_a_redis_restart_mid_flow_loses_no_event_or_step_and_doubles_none(
    smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    redis = EmbeddedRedis(tmp_path / "redis")
    redis.start_blocking()
    env = daemon_env(tmp_path, redis.url, smtp_server.host, smtp_server.port, job_timeout_s="5")
    now = now_utc()
    try:
        with CoachdProcess(env, tmp_path / "daemon.log") as daemon:
            emit(env, [overdue_commitment(n, now) for n in range(BATCH)])
            emit(env, [overdue_commitment(n, now) for n in range(BATCH, 2 * BATCH)])
            assert wait_for(lambda: len(smtp_server.messages) >= BATCH // 2, WAIT_S)
            redis.stop_blocking()  # mid-burst: steps are due and events are still being applied
            assert daemon.wait_for_event(lambda name: name.endswith("redis_unavailable"), WAIT_S)
            redis.start_blocking()  # same port, the AOF replays
            emit(env, [overdue_commitment(n, now) for n in range(2 * BATCH, 3 * BATCH)])
            assert wait_for(lambda: len(smtp_server.messages) >= 3 * BATCH, WAIT_S), (
                f"only {len(smtp_server.messages)} of {3 * BATCH} arrived"
            )
            wait_for(lambda: len(smtp_server.messages) > 3 * BATCH, SETTLE_S)
    finally:
        redis.stop_blocking()

    counts = Counter(m.rcpt_tos[0] for m in smtp_server.messages)
    assert len(counts) == 3 * BATCH
    assert [address for address, n in counts.items() if n > 1] == []
    assert daemon.returncode == 0
