"""The SMTP server down for a while, then back: every email is delivered, each once."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from daemon.demo.smtpsink import LocalSmtpServer
from daemon.store.embedded import pick_free_port
from tests.helpers.procs import (
    CoachdProcess,
    daemon_env,
    emit,
    now_utc,
    overdue_commitment,
    wait_for,
)
from tests.helpers.smtp import RecordingHandler

pytestmark = pytest.mark.integration

EMAILS = 20
# Retries after 0.5 s, 1, 2, 4, 8 ...: the outage below spans four of them (the production
# base is 10 s, so the same schedule covers about 35 minutes of outage).
RETRY_BASE_S = "0.5"
OUTAGE_S = 6.0
WAIT_S = 60.0


class _ServerOnPort(LocalSmtpServer):
    """The test's SMTP server, started on a port chosen before (the daemon already uses it)."""

    def __init__(self, handler: RecordingHandler, port: int) -> None:
        super().__init__(handler)
        self.port = port

    def _trigger_server(self) -> None:  # the port is known: skip the port-0 discovery
        super(LocalSmtpServer, self)._trigger_server()


def test_an_smtp_server_down_for_a_while_gets_every_email_once_when_it_returns(
    redis_url: str, tmp_path: Path
) -> None:
    port = pick_free_port()
    env = daemon_env(tmp_path, redis_url, "127.0.0.1", port, smtp_retry_base_s=RETRY_BASE_S)
    handler = RecordingHandler()
    server = _ServerOnPort(handler, port)
    try:
        with CoachdProcess(env, tmp_path / "daemon.log") as daemon:
            emit(env, [overdue_commitment(n, now_utc()) for n in range(EMAILS)])
            assert daemon.wait_for_event("email_send_retry")
            time.sleep(OUTAGE_S)  # the relay stays down: retries back off, nothing is given up
            server.start()
            assert wait_for(lambda: len(handler.messages) >= EMAILS, WAIT_S)
            wait_for(lambda: len(handler.messages) > EMAILS, 2.0)
    finally:
        server.stop()

    counts = Counter(m.rcpt_tos[0] for m in handler.messages)
    assert len(counts) == EMAILS
    assert [address for address, n in counts.items() if n > 1] == []
    retries = daemon.logged("email_send_retry")
    assert len(retries) >= EMAILS  # every one of them failed at least once, and came back
