"""Helpers for tests that run `coachd` as real processes (and kill them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.helpers.firm import FIRM_TOML

WAIT_S = 20.0
COACHD = [sys.executable, "-m", "daemon.cli"]
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


def wait_for(condition: Callable[[], bool], timeout: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def daemon_env(
    tmp_path: Path, redis_url: str, smtp_host: str, smtp_port: int, **extra: str
) -> dict[str, str]:
    """The environment of a `coachd run` with the test firm's config."""
    config = tmp_path / "coachd.toml"
    config.write_text(CONFIG)
    return {
        **os.environ,
        "COACHD_REDIS_URL": redis_url,
        "COACHD_CONFIG_PATH": str(config),
        "COACHD_DATA_DIR": str(tmp_path / "data"),
        "COACHD_SMTP_HOST": smtp_host,
        "COACHD_SMTP_PORT": str(smtp_port),
        "COACHD_SMTP_TLS": "none",
        "COACHD_SIGNING_KEY": "k" * 40,
        "COACHD_LOG_FORMAT": "json",
        **{f"COACHD_{name.upper()}": value for name, value in extra.items()},
    }


def overdue_commitment(n: int, now: datetime) -> dict[str, Any]:
    """A commitment created 3 days overdue: its one prompt is due at once."""
    return {
        "version": 1,
        "event_id": f"e{n}",
        "occurred_at": now.isoformat(),
        "type": "commitment.created",
        "commitment_id": f"c{n}",
        "coach_id": "maria",
        "client": {
            "client_id": f"client{n}",
            "name": f"Client {n}",
            "email": f"client{n}@example.org",
            "timezone": midday_zone(now),
        },
        "action": "write the first page",
        "profile": "anytime",
        "due_date": (now - timedelta(days=3)).date().isoformat(),
    }


def emit(env: dict[str, str], events: list[dict[str, Any]]) -> None:
    lines = "\n".join(json.dumps(e) for e in events)
    done = subprocess.run(
        [*COACHD, "emit", "-"],
        env=env,
        input=lines,
        capture_output=True,
        text=True,
        timeout=WAIT_S * 3,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`coachd run`, logging to `log` (a file: a pipe nobody reads would block it)."""
    with log.open("ab") as out:
        return subprocess.Popen([*COACHD, "run"], env=env, stderr=out, stdout=out)


def log_events(log: Path) -> list[dict[str, Any]]:
    lines = log.read_text(errors="replace").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def now_utc() -> datetime:
    return datetime.now(UTC)
