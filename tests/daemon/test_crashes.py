"""Kill workers (SIGKILL) in the middle of a burst: every email arrives exactly once."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.helpers.procs import (
    CoachdProcess,
    daemon_env,
    emit,
    now_utc,
    overdue_commitment,
    stop_all,
    wait_for,
)
from tests.helpers.smtp import SmtpTestServer

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's /proc"),
]

BURST = 2000
EVERY_COMMITMENT = {str(n) for n in range(BURST)}
KILL_AFTER = 400  # emails received before the busiest worker is killed
# A killed worker's jobs come back after their timeout + 10 s (arq) and the claim's lease.
JOB_TIMEOUT_S = 5
RECOVERY_S = 90.0
SETTLE_S = 3.0  # after the last expected email, time for a duplicate to show up


def received_per_commitment(smtp: SmtpTestServer) -> Counter[str]:
    return Counter(m.rcpt_tos[0].split("@")[0].removeprefix("client") for m in smtp.messages)


def kill_mid_send(process: CoachdProcess, smtp: SmtpTestServer) -> bool:
    """SIGKILL `process` while the SMTP server holds an unfinished message of its own.

    Frozen (SIGSTOP) while it is looked at, so what is seen is what it dies with: a step
    claimed in the ledger, perhaps with its final dot already out.
    """
    deadline = time.monotonic() + RECOVERY_S
    while time.monotonic() < deadline:
        process.send_signal(signal.SIGSTOP)
        if ports_connected_to(smtp.port, process.pid) & smtp.ports_mid_transaction():
            process.kill()
            return True
        process.send_signal(signal.SIGCONT)
        time.sleep(0.005)
    return False


def ports_connected_to(remote_port: int, pid: int) -> set[int]:
    """The local ports of `pid`'s TCP connections to `remote_port` (from Linux's /proc)."""
    fds = Path(f"/proc/{pid}/fd")
    links = (os.readlink(fd) for fd in fds.iterdir())
    inodes = {link[len("socket:[") : -1] for link in links if link.startswith("socket:[")}
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()  # local and remote address:port (hex), ..., inode
            if fields[9] in inodes and int(fields[2].rsplit(":", 1)[1], 16) == remote_port:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def emails_sent_by(worker: CoachdProcess) -> int:
    """Counted from raw lines: the worker may be halfway through writing the last one."""
    return sum('"email_sent"' in line for line in worker.log_text().splitlines())


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
    running = [CoachdProcess(env, tmp_path / f"worker{i}.log").start() for i in range(workers)]
    try:
        assert wait_for(lambda: len(smtp_server.messages) >= KILL_AFTER, RECOVERY_S)
        # Workers start side by side and one may still be starting: the one that has sent
        # the most goes, at a moment it has an email in flight.
        victim = max(running, key=emails_sent_by)
        assert kill_mid_send(victim, smtp_server)
        victim.start()  # the operator's supervisor restarts it
        assert wait_for(lambda: len(smtp_server.messages) >= BURST, RECOVERY_S), (
            f"missing: {sorted(EVERY_COMMITMENT - set(received_per_commitment(smtp_server)))}"
        )
        wait_for(lambda: len(smtp_server.messages) > BURST, SETTLE_S)
    finally:
        stop_all(running)

    counts = received_per_commitment(smtp_server)
    assert len(counts) == BURST  # none lost
    assert [c for c, n in counts.items() if n > 1] == []  # none doubled
    assert all(p.returncode == 0 for p in running)
    recovered = [
        e
        for worker in running
        for e in worker.events()
        if e["event"] in ("step_recovered", "send_taken_over")
    ]
    assert recovered, "the kill should have left sends in flight for the restart to settle"
