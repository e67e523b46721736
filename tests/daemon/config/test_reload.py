"""SIGHUP reloads the coach files; a broken file keeps the last good config running."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.helpers.procs import (
    CONFIG,
    daemon_env,
    emit,
    log_events,
    now_utc,
    overdue_commitment,
    start,
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


def logged(log: Path, event: str) -> list[dict[str, object]]:
    return [e for e in log_events(log) if e["event"] == event]


def test_a_broken_coach_file_on_reload_keeps_the_last_good_config_and_says_why(
    redis_url: str, smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    env = daemon_env(tmp_path, redis_url, smtp_server.host, smtp_server.port)
    config, log = Path(env["COACHD_CONFIG_PATH"]), tmp_path / "daemon.log"
    daemon = start(env, log)
    try:
        assert wait_for(lambda: bool(logged(log, "worker_started")))
        config.write_text(CONFIG.replace("[firm]", "[firm", 1))
        daemon.send_signal(signal.SIGHUP)
        assert wait_for(lambda: bool(logged(log, "config_reload_failed")))
        [failure] = logged(log, "config_reload_failed")
        assert any("coachd.toml" in str(p) and "TOML" in str(p) for p in failure["problems"])  # type: ignore[attr-defined]

        now = now_utc()
        emit(env, [overdue_commitment(1, now)])
        assert wait_for(lambda: len(smtp_server.messages) == 1)  # still running, old config

        config.write_text(CONFIG + NEW_COACH)
        daemon.send_signal(signal.SIGHUP)
        assert wait_for(lambda: bool(logged(log, "config_reloaded")))
        event = overdue_commitment(2, now) | {"coach_id": "lee"}
        emit(env, [event])
        assert wait_for(lambda: len(smtp_server.messages) == 2)  # the new coach is known
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
    assert daemon.returncode == 0
