"""Helpers for tests that run `coachd` as real processes (and kill them)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tests.helpers.firm import FIRM_TOML

WAIT_S = 20.0
# A clean stop finishes the jobs in hand first; a process still running after this is killed.
STOP_S = 60.0
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


def embedded_env(tmp_path: Path, smtp_host: str, smtp_port: int, **extra: str) -> dict[str, str]:
    """`daemon_env` without COACHD_REDIS_URL: `coachd run` starts its embedded Redis in
    `tmp_path / "data"` and the other commands find it through its redis.url there."""
    env = daemon_env(tmp_path, "", smtp_host, smtp_port, **extra)
    del env["COACHD_REDIS_URL"]
    return env


def coachd(
    env: dict[str, str], *args: str, timeout: float = WAIT_S
) -> subprocess.CompletedProcess[str]:
    """Run one `coachd` command to its end (killed after `timeout`); its exit code and output."""
    return subprocess.run(
        [*COACHD, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


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


def client_reply(prompt: EmailMessage, words: str, n: int = 1) -> EmailMessage:
    """Client `n`'s answer to `prompt` (one of `overdue_commitment(n, …)`'s emails)."""
    answer = EmailMessage()
    answer["From"] = f"Client {n} <client{n}@example.org>"
    answer["To"] = prompt["Reply-To"]
    answer["Subject"] = f"Re: {prompt['Subject']}"
    answer["Message-ID"] = f"<answer-{n}@example.org>"
    answer["In-Reply-To"] = prompt["Message-ID"]
    answer.set_content(words)
    return answer


def now_utc() -> datetime:
    return datetime.now(UTC)


class CoachdProcess:
    """`coachd run` as a child process with `env`, logging (JSON, stdout and stderr) to `log`.

    As a context manager it starts on the way in and stops on the way out (SIGTERM, then
    SIGKILL if it has not gone after STOP_S): no test leaves a daemon running behind it.
    """

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> CoachdProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> CoachdProcess:
        """Start it, or start it again once it has ended (as a supervisor would): the log
        is a file, not a pipe nobody reads (that would block it), and a restart appends."""
        assert not self.running, "coachd is already running"
        with self.log.open("ab") as out:
            self._process = subprocess.Popen([*COACHD, "run"], env=self.env, stdout=out, stderr=out)
        return self

    @property
    def process(self) -> subprocess.Popen[bytes]:
        assert self._process is not None, "coachd was never started"
        return self._process

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        """Its exit code once it has ended (negative: the signal that ended it)."""
        return self.process.returncode

    def send_signal(self, signum: signal.Signals) -> None:
        self.process.send_signal(signum)

    def kill(self) -> int:
        """SIGKILL, as when the machine dies (no clean-up at all); returns once it is gone."""
        self.process.kill()
        return self.process.wait()

    def stop(self, signum: signal.Signals = signal.SIGTERM, timeout: float = STOP_S) -> int:
        """Send `signum` (unless it has ended already) and wait for it; its exit code."""
        if self.running:
            self.send_signal(signum)
        return self.wait(timeout)

    def wait(self, timeout: float = STOP_S) -> int:
        """Its exit code once it has ended; if still running after `timeout`, it is killed
        and TimeoutExpired raised."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def log_text(self) -> str:
        """Its log as written so far, raw."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def events(self) -> list[dict[str, Any]]:
        """Every JSON event in its log so far (each start's, for a restarted process); a last
        line still being written is left for the next look."""
        text = self.log_text()
        complete = text[: text.rfind("\n") + 1]
        return [json.loads(line) for line in complete.splitlines() if line.startswith("{")]

    def logged(self, event: str) -> list[dict[str, Any]]:
        """The events named `event` in its log so far."""
        return [e for e in self.events() if e["event"] == event]

    def wait_for_event(self, event: str | Callable[[str], bool], timeout: float = WAIT_S) -> bool:
        """Whether, within `timeout`, it logs an event named `event` (or one `event` accepts)."""

        def matches(name: str) -> bool:
            return event(name) if callable(event) else name == event

        return wait_for(lambda: any(matches(e["event"]) for e in self.events()), timeout)


def stop_all(processes: list[CoachdProcess], timeout: float = STOP_S) -> None:
    """SIGTERM to every one first, so they shut down side by side, then wait for each."""
    for process in processes:
        if process.running:
            process.send_signal(signal.SIGTERM)
    expired: subprocess.TimeoutExpired | None = None
    for process in processes:
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired as error:  # killed; the others are still waited for
            expired = expired or error
    if expired:
        raise expired
