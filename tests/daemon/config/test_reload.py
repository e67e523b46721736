"""SIGHUP reloads the coach files; a broken file keeps the last good config running."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.helpers.procs import (
    CONFIG,
    CoachdProcess,
    daemon_env,
    emit,
    now_utc,
    overdue_commitment,
    wait_for,
)
from tests.helpers.smtp import SmtpTestServer

pytestmark = pytest.mark.integration

NEW_COACH = """
[coaches.lee]
name = "Lee Chen"
email = "lee@northstar.example"
timezone = "Asia/Singapore"
"""


def test_a_broken_coach_file_on_reload_keeps_the_last_good_config_and_says_why(
    redis_url: str, smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    env = daemon_env(tmp_path, redis_url, smtp_server.host, smtp_server.port)
    config = Path(env["COACHD_CONFIG_PATH"])
    with CoachdProcess(env, tmp_path / "daemon.log") as daemon:
        assert daemon.wait_for_event("worker_started")
        config.write_text(CONFIG.replace("[firm]", "[firm", 1))
        daemon.send_signal(signal.SIGHUP)
        assert daemon.wait_for_event("config_reload_failed")
        [failure] = daemon.logged("config_reload_failed")
        assert any("coachd.toml" in str(p) and "TOML" in str(p) for p in failure["problems"])

        now = now_utc()
        emit(env, [overdue_commitment(1, now)])
        assert wait_for(lambda: len(smtp_server.messages) == 1)  # still running, old config

        config.write_text(CONFIG + NEW_COACH)
        daemon.send_signal(signal.SIGHUP)
        assert daemon.wait_for_event("config_reloaded")
        event = overdue_commitment(2, now) | {"coach_id": "lee"}
        emit(env, [event])
        assert wait_for(lambda: len(smtp_server.messages) == 2)  # the new coach is known
    assert daemon.returncode == 0
