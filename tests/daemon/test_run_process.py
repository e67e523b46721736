"""`coachd run` as a real process: it sends what is due and exits 0 on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import smtplib
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import redis as redis_sync

from daemon import keys
from daemon.embedded_redis import pick_free_port
from tests.daemon.conftest import FIRM_TOML

if TYPE_CHECKING:
    from conftest import SmtpTestServer

pytestmark = pytest.mark.integration

WAIT_S = 20.0
# The loop tests' firm, plus a profile whose window is open whatever the hour in UTC.
CONFIG = (
    FIRM_TOML
    + """
[profiles.anytime]
reminders_before_due_days = [1]
overdue_prompt_days = [1]
send_window = { start = "06:00", end = "18:00" }
weekdays_only = false
"""
)


def midday_zone(now: datetime) -> str:
    """A fixed-offset zone where it is around noon now, so the send window is open."""
    offset = 12 - now.hour  # Etc/GMT-N is UTC+N (POSIX signs are inverted)
    offset = max(min(offset, 14), -12)
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/UTC"


def wait_for(condition: object, timeout: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.05)
    return False


def reply_done(prompt: EmailMessage) -> EmailMessage:
    answer = EmailMessage()
    answer["From"] = "Ana <ana@example.org>"
    answer["To"] = prompt["Reply-To"]
    answer["Subject"] = f"Re: {prompt['Subject']}"
    answer["Message-ID"] = "<answer-1@example.org>"
    answer["In-Reply-To"] = prompt["Message-ID"]
    answer.set_content("Done, finally!\n\nSent from my iPhone\n")
    return answer


def test_run_sends_a_prompt_reads_the_reply_and_stops_cleanly_on_sigterm(
    redis_url: str, smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    receiver_port, http_port = pick_free_port(), pick_free_port()
    config = tmp_path / "coachd.toml"
    config.write_text(CONFIG)
    env = {
        **os.environ,
        "COACHD_REDIS_URL": redis_url,
        "COACHD_CONFIG_PATH": str(config),
        "COACHD_DATA_DIR": str(tmp_path / "data"),
        "COACHD_SMTP_HOST": smtp_server.host,
        "COACHD_SMTP_PORT": str(smtp_server.port),
        "COACHD_SMTP_TLS": "none",
        "COACHD_SIGNING_KEY": "k" * 40,
        "COACHD_LOG_FORMAT": "json",
        "COACHD_RECEIVER_PORT": str(receiver_port),
        "COACHD_HTTP_PORT": str(http_port),
    }
    now = datetime.now(UTC)
    event = {
        "version": 1,
        "event_id": "e1",
        "occurred_at": now.isoformat(),
        "type": "commitment.created",
        "commitment_id": "c1",
        "coach_id": "maria",
        "client": {
            "client_id": "ana",
            "name": "Ana",
            "email": "ana@example.org",
            "timezone": midday_zone(now),
        },
        "action": "write the first page",
        "profile": "anytime",
        "due_date": (now - timedelta(days=3)).date().isoformat(),
    }
    coachd = [sys.executable, "-m", "daemon.cli"]
    daemon = subprocess.Popen([*coachd, "run"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        emitted = subprocess.run(
            [*coachd, "emit", "-"],
            env=env,
            input=json.dumps(event),
            capture_output=True,
            text=True,
            timeout=WAIT_S,
            check=False,
        )
        assert emitted.returncode == 0, emitted.stderr
        assert wait_for(lambda: len(smtp_server.messages) == 1), "the overdue prompt never came"
        with smtplib.SMTP("127.0.0.1", receiver_port) as smtp:
            smtp.send_message(reply_done(smtp_server.messages[0].message))
        with redis_sync.Redis.from_url(redis_url) as state:
            assert wait_for(lambda: state.hget(keys.commitment("c1"), "status") == b"completed")
        url = f"http://127.0.0.1:{http_port}/healthz"
        with urllib.request.urlopen(url, timeout=5) as health:
            assert health.status == 200
        daemon.send_signal(signal.SIGTERM)
        _, logs = daemon.communicate(timeout=WAIT_S)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()

    assert daemon.returncode == 0
    assert smtp_server.messages[0].rcpt_tos == ["ana@example.org"]
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    sent = [line for line in lines if line["event"] == "email_sent"]
    assert [(s["commitment_id"], s["step"]) for s in sent] == [("c1", "overdue-1d")]
    assert "ana@example.org" not in logs  # ids in logs, never addresses
    assert any(line["event"] == "worker_stopped" for line in lines)
