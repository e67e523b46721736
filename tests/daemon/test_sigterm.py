"""SIGTERM in the middle of a batch on a slow SMTP server: nothing new starts, nothing is lost,
nothing doubles, nothing is recorded sent that the server did not take, and the exit is clean."""

from __future__ import annotations

import signal
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis as redis_sync

from daemon.store import keys
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

STEPS = 12
SLOW_S = 3.0  # the 8 s per message, scaled down
SIGNAL_AFTER_S = 0.5  # after the first MAIL FROM: the pool's transactions are all under way
# A MAIL FROM the server reads this long after the signal was already on the wire before it.
TOLERANCE_S = 0.3
SETTLE_S = 1.5  # after the restart's last expected email, time for a duplicate to show up


def recipient(n: int) -> str:
    return f"client{n}@example.org"


def ledger_outcomes(redis_url: str) -> dict[int, str]:
    """Each step's ledger value after the stop ("" where there is none)."""
    outcomes = {}
    with redis_sync.Redis.from_url(redis_url) as state:
        for n in range(STEPS):
            found = [state.get(key) for key in state.scan_iter(keys.ledger_pattern(f"c{n}"))]
            assert len(found) <= 1, f"c{n} has {len(found)} ledger entries"
            outcomes[n] = found[0].decode() if found and found[0] else ""
    return outcomes


def stop_mid_batch(daemon: CoachdProcess, smtp: SmtpTestServer) -> float:
    """SIGTERM once the first transactions are under way; returns when it was sent."""
    assert wait_for(lambda: len(smtp.mail_times) > 0), "no SMTP transaction ever started"
    time.sleep(SIGNAL_AFTER_S)
    signalled = time.time()
    daemon.send_signal(signal.SIGTERM)
    return signalled


def check_ledger_against_server(outcomes: dict[int, str], smtp: SmtpTestServer) -> set[int]:
    """Every entry is sent (the server has it), unknown (its dot reached the server) or
    gone (the server does not have it); returns the unknown ones."""
    accepted = Counter(m.rcpt_tos[0] for m in smtp.messages)
    dotted = set(smtp.dots)
    for n, outcome in outcomes.items():
        if outcome == "sent":
            assert accepted[recipient(n)] == 1, f"c{n} recorded sent, the server has none"
        elif outcome == "unknown":
            assert recipient(n) in dotted, f"c{n} recorded unknown, its dot never came"
        else:
            assert outcome == "", f"c{n} left as {outcome!r}"
            assert accepted[recipient(n)] == 0, f"c{n} was delivered but not recorded"
    return {n for n, outcome in outcomes.items() if outcome == "unknown"}


@dataclass(frozen=True)
class Case:
    slow_phase: str  # where the server is slow: "data_end" (after the dot) or "mail"
    grace_s: int
    expected: frozenset[str]  # the ledger outcomes left behind besides "given back"


CASES = {
    # In-flight sends finish within the grace period.
    "finish-within-grace": Case("data_end", 6, frozenset({"sent"})),
    # Cut off after the final dot: the server may have them.
    "cut-after-dot": Case("data_end", 1, frozenset({"unknown"})),
    # Cut off before DATA: released, sent by the next worker.
    "cut-before-dot": Case("mail", 1, frozenset()),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_sigterm_mid_batch_starts_nothing_new_and_leaves_every_step_accounted_for(
    case: Case, redis_url: str, smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    """12 due steps, SMTP at 3 s a message, SIGTERM just after the first ones start: exit 0
    with no traceback; no MAIL FROM after the signal; every ledger entry matches what the
    server has; the restart sends each given-back step once and no unknown one again."""
    slow = smtp_server.delay_data if case.slow_phase == "data_end" else smtp_server.delay_mail
    slow(SLOW_S)
    env = daemon_env(
        tmp_path, redis_url, smtp_server.host, smtp_server.port, shutdown_grace_s=str(case.grace_s)
    )
    emit(env, [overdue_commitment(n, now_utc()) for n in range(STEPS)])
    daemon = CoachdProcess(env, tmp_path / "daemon.log").start()
    try:
        signalled = stop_mid_batch(daemon, smtp_server)
        assert daemon.wait(timeout=case.grace_s + WAIT_S) == 0
    finally:
        daemon.stop()

    log = daemon.log_text()
    assert "Traceback" not in log
    assert daemon.logged("worker_stopped")
    late = [t - signalled for t in smtp_server.mail_times if t > signalled + TOLERANCE_S]
    assert late == [], "SMTP transactions started after SIGTERM"
    outcomes = ledger_outcomes(redis_url)
    unknown = check_ledger_against_server(outcomes, smtp_server)
    assert {o for o in outcomes.values() if o} == case.expected
    assert "" in outcomes.values(), "the steps not yet started should have been given back"

    # The next worker sends what was given back, at once, and never what may have gone.
    smtp_server.delay_data(0)
    smtp_server.delay_mail(0)
    before_restart = len(smtp_server.messages)
    with CoachdProcess(env, tmp_path / "daemon.log") as restarted:
        owed = STEPS - len(unknown)
        assert wait_for(lambda: len(smtp_server.messages) >= owed), "given-back steps not sent"
        wait_for(lambda: len(smtp_server.messages) > owed, SETTLE_S)
    assert restarted.returncode == 0
    received = Counter(m.rcpt_tos[0] for m in smtp_server.messages)
    resent = Counter(m.rcpt_tos[0] for m in smtp_server.messages[before_restart:])
    assert {n: received[recipient(n)] for n in range(STEPS) if n not in unknown} == {
        n: 1 for n in range(STEPS) if n not in unknown
    }
    assert [n for n in unknown if resent[recipient(n)]] == []
