"""Chaos, short: workers SIGKILLed (half of them mid-send), Redis restarted, SMTP faults.

The same run and checks as `python -m bench.chaos`, small enough for the normal suite: every
step reaches the sink once or is recorded unknown (and then reaches it at most once), no
email twice, no Message-ID twice, no ledger entry left in flight, every worker exits 0.
"""

from __future__ import annotations

import sys

import pytest

from bench.chaos.run import Options, Report, run
from daemon.errors import EmbeddedRedisError
from daemon.store.embedded import find_redis_server

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's /proc"),
]

SHORT = Options(
    commitments=40,
    workers=2,
    minutes=0.4,  # 24 s of chaos: ~4 kills
    seed=7,
    redis_restarts=1,
    drain_s=25.0,
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    try:
        find_redis_server()
    except EmbeddedRedisError as error:
        pytest.skip(str(error))
    return run(SHORT, tmp_path_factory.mktemp("chaos"))


def where(report: Report) -> str:
    return f"seed {report.options.seed}; logs and timeline in {report.workdir}"


@pytest.mark.timeout(100)
def test_the_chaos_happened(report: Report) -> None:
    assert report.kills >= 3, where(report)
    assert sum(report.redis_restarts.values()) == 1
    assert sum(report.faults.values()) > 0
    assert report.drained, f"not settled within {SHORT.drain_s}s: {where(report)}"


def test_no_step_is_lost_unless_recorded_unknown(report: Report) -> None:
    assert report.verdict.lost == [], (report.verdict.ledger, where(report))
    assert report.verdict.expected == SHORT.commitments


def test_no_step_reaches_the_sink_twice(report: Report) -> None:
    assert report.verdict.doubled == [], (report.verdict.ledger, where(report))


def test_every_message_id_is_unique(report: Report) -> None:
    assert report.verdict.duplicate_ids == [], where(report)


def test_no_ledger_entry_is_left_claimed_or_committing(report: Report) -> None:
    assert report.verdict.stuck == [], where(report)


def test_every_worker_exits_0_on_sigterm(report: Report) -> None:
    assert report.exit_codes == [0] * SHORT.workers, where(report)


def test_every_email_belongs_to_a_commitment_and_its_client(report: Report) -> None:
    assert report.verdict.unmatched == [], where(report)
