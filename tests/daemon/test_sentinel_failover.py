"""Redis Sentinel for real: the primary is killed under a running daemon and a replica takes over.

A primary, its replica and three sentinels run as processes (tests/helpers/sentinel.py);
`coachd run` and `coachd emit` reach the primary only through the sentinels. The primary
is SIGKILLed while the daemon sends steps and applies a burst of events. What Redis's
asynchronous replication lost is measured by a probe writing about every millisecond.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from daemon.store import keys
from tests.helpers import procs
from tests.helpers.procs import CoachdProcess, now_utc, overdue_commitment
from tests.helpers.sentinel import SentinelSetup, WriteProbe, sentinel_setup
from tests.helpers.smtp import SmtpTestServer

pytestmark = pytest.mark.integration

DUE_NOW = 300  # commitments whose one email is due at once, before the failover
AFTER = 100  # more, emitted through the sentinels once the replica has taken over
LATER = 1500  # commitments due in a month (no email yet): applied while the primary dies
SMTP_DELAY_S = 0.02  # the SMTP server takes this per message: sends are in flight at the kill
# Steps leased to the worker when the primary died come due again after the job timeout and
# a 5 s margin; an outcome is retried for 80% of the job timeout, which covers the failover.
JOB_TIMEOUT_S = 10
WAIT_S = 40.0
SETTLE_S = 2.0
# Acknowledged writes a SIGKILL of the primary may lose: those it had not yet sent to its
# replica. On loopback that is well under a millisecond; this bound only catches a lost
# second (the documented window of `appendfsync everysec` on one server).
LOST_WINDOW_BOUND_S = 0.1


def _burst_of_later_commitments(setup: SentinelSetup) -> list[str]:
    """XADD LATER commitment events in one pipeline, as a producer would; their ids."""
    now = now_utc()
    events = []
    for n in range(DUE_NOW + AFTER, DUE_NOW + AFTER + LATER):
        event = overdue_commitment(n, now)
        event["due_date"] = (now + timedelta(days=30)).date().isoformat()
        events.append(event)
    with setup.primary() as primary, primary.pipeline(transaction=False) as pipe:
        for event in events:
            pipe.xadd(keys.INBOX_STREAM, {"event": json.dumps(event)})
        pipe.execute()
    return [e["commitment_id"] for e in events]


def test_a_primary_killed_mid_run_fails_over_and_no_email_is_lost_or_doubled(
    smtp_server: SmtpTestServer, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    smtp_server.delay_data(SMTP_DELAY_S)
    now = now_utc()
    with sentinel_setup(tmp_path / "redis") as setup, WriteProbe(setup) as probe:
        env = procs.daemon_env(tmp_path, setup.node_url, smtp_server.host, smtp_server.port)
        env |= setup.coachd_env() | {"COACHD_JOB_TIMEOUT_S": str(JOB_TIMEOUT_S)}
        with CoachdProcess(env, tmp_path / "daemon.log") as daemon:
            procs.emit(env, [overdue_commitment(n, now) for n in range(DUE_NOW)])
            assert procs.wait_for(lambda: len(smtp_server.messages) >= DUE_NOW // 5, WAIT_S)
            later = _burst_of_later_commitments(setup)
            old = setup.primary_port()
            sent_before = len(smtp_server.messages)
            killed_at = time.monotonic()
            setup.server(old).kill()
            new = setup.wait_for_new_primary(old)
            failover_s = time.monotonic() - killed_at
            procs.emit(env, [overdue_commitment(n, now) for n in range(DUE_NOW, DUE_NOW + AFTER)])
            assert procs.wait_for(lambda: len(smtp_server.messages) >= DUE_NOW + AFTER, WAIT_S), (
                f"only {len(smtp_server.messages)} of {DUE_NOW + AFTER} arrived"
            )
            procs.wait_for(lambda: len(smtp_server.messages) > DUE_NOW + AFTER, SETTLE_S)
        with setup.node(new) as primary:
            applied = sum(primary.exists(keys.commitment(c)) for c in later)
            outcomes = Counter(primary.get(k) for k in primary.scan_iter(keys.PREFIX + "sent:*"))
    lost = probe.lost()
    window_s = lost[-1][0] - lost[0][0] if lost else 0.0
    measured = {
        "failover_s": round(failover_s, 2),
        "emails_sent_before_the_kill": sent_before,
        "probe_writes_acknowledged": len(probe.acked),
        "probe_writes_lost": len(lost),
        "lost_window_s": round(window_s, 4),
        "ledger_outcomes": {(k or b"").decode(): n for k, n in outcomes.items()},
    }
    record_property("sentinel_failover", measured)
    print("sentinel failover:", json.dumps(measured))

    counts = Counter(m.rcpt_tos[0] for m in smtp_server.messages)
    assert [address for address, n in counts.items() if n > 1] == []
    assert len(counts) == DUE_NOW + AFTER
    assert applied == LATER
    assert measured["ledger_outcomes"] == {"sent": DUE_NOW + AFTER}  # none left `unknown`
    assert window_s <= LOST_WINDOW_BOUND_S
    assert daemon.returncode == 0
