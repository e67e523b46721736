"""Kill workers (SIGKILL) in the middle of a burst: every email arrives exactly once."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.daemon.procs import (
    daemon_env,
    emit,
    log_events,
    now_utc,
    overdue_commitment,
    start,
    wait_for,
)

if TYPE_CHECKING:
    from conftest import SmtpTestServer

pytestmark = pytest.mark.integration

BURST = 2000
KILL_AFTER = 400  # emails received before the first worker is killed
# A killed worker's jobs come back after their timeout + 10 s (arq) and the claim's lease.
JOB_TIMEOUT_S = 5
RECOVERY_S = 90.0
SETTLE_S = 3.0  # after the last expected email, time for a duplicate to show up


def received_per_commitment(smtp: SmtpTestServer) -> Counter[str]:
    return Counter(m.rcpt_tos[0].split("@")[0].removeprefix("client") for m in smtp.messages)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_a_worker_killed_mid_burst_loses_nothing_and_doubles_nothing(
    workers: int, redis_url: str, smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    env = daemon_env(
        tmp_path,
        redis_url,
        smtp_server.host,
        smtp_server.port,
        job_timeout_s=str(JOB_TIMEOUT_S),
        worker_max_jobs="50",
        inbox_reclaim_s="5",
    )
    now = now_utc()
    emit(env, [overdue_commitment(n, now) for n in range(BURST)])
    logs = [tmp_path / f"worker{i}.log" for i in range(workers)]
    running = [start(env, log) for log in logs]
    try:
        assert wait_for(lambda: len(smtp_server.messages) >= KILL_AFTER, RECOVERY_S)
        running[0].send_signal(signal.SIGKILL)
        running[0].wait()
        running[0] = start(env, logs[0])  # the operator's supervisor restarts it
        assert wait_for(lambda: len(smtp_server.messages) >= BURST, RECOVERY_S), (
            f"only {len(smtp_server.messages)} of {BURST} arrived"
        )
        wait_for(lambda: len(smtp_server.messages) > BURST, SETTLE_S)
    finally:
        for process in running:
            process.send_signal(signal.SIGTERM)
        for process in running:
            process.wait(timeout=60)

    counts = received_per_commitment(smtp_server)
    assert len(counts) == BURST  # none lost
    assert [c for c, n in counts.items() if n > 1] == []  # none doubled
    assert all(p.returncode == 0 for p in running)
    recovered = [
        e
        for log in logs
        for e in log_events(log)
        if e["event"] in ("step_recovered", "send_taken_over")
    ]
    assert recovered, "the kill should have left sends in flight for the restart to settle"
