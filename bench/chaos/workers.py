"""`coachd run` workers as child processes: their environment, restarts and deaths.

A kill "mid-send" freezes the worker (SIGSTOP) and looks, through Linux's /proc, for one
of its connections to the sink that has a transaction open; only then is it SIGKILLed, so
what it dies with is a claimed step, perhaps with its final dot already out.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

COACHD = [sys.executable, "-m", "daemon.cli"]
MID_SEND_TRIES_S = 10.0
FREEZE_POLL_S = 0.005
STOP_TIMEOUT_S = 60.0
# The firm's coach file: one coach, and a profile whose window is open at any hour in UTC.
CONFIG = """
[firm]
name = "Chaos Coaching"
from_address = "coach@chaos.example"
reply_domain = "reply.chaos.example"

[coaches.maria]
name = "Maria Lopez"
email = "maria@chaos.example"
timezone = "Europe/Madrid"

[profiles.anytime]
reminders_before_due_days = [1]
overdue_prompt_days = [1]
send_window = { start = "00:00", end = "23:59" }
weekdays_only = false
"""


def worker_env(
    workdir: Path, redis_url: str, smtp_port: int, extra: dict[str, str]
) -> dict[str, str]:
    """The environment of a `coachd run` on the chaos Redis and sink."""
    config = workdir / "coachd.toml"
    config.write_text(CONFIG)
    return {
        **os.environ,
        "COACHD_REDIS_URL": redis_url,
        "COACHD_CONFIG_PATH": str(config),
        "COACHD_DATA_DIR": str(workdir / "data"),
        "COACHD_SMTP_HOST": "127.0.0.1",
        "COACHD_SMTP_PORT": str(smtp_port),
        "COACHD_SMTP_TLS": "none",
        "COACHD_SIGNING_KEY": "k" * 40,
        "COACHD_LOG_FORMAT": "json",
        **{f"COACHD_{name.upper()}": value for name, value in extra.items()},
    }


class Worker:
    """One `coachd run`, started again after each death; it logs (appending) to `log`."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter
                [*COACHD, "run"], env=self.env, stdout=out, stderr=out
            )

    @property
    def process(self) -> subprocess.Popen[bytes]:
        assert self._process is not None, "never started"
        return self._process

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def kill_mid_send(self, smtp_port: int, open_ports: Callable[[], set[int]]) -> bool:
        """SIGKILL it while the sink has a transaction of its open; False: none came (killed
        anyway)."""
        deadline = time.monotonic() + MID_SEND_TRIES_S
        while time.monotonic() < deadline and self.running:
            self.process.send_signal(signal.SIGSTOP)
            if ports_connected_to(smtp_port, self.process.pid) & open_ports():
                self.kill()
                return True
            self.process.send_signal(signal.SIGCONT)
            time.sleep(FREEZE_POLL_S)
        self.kill()
        return False

    def terminate(self) -> None:
        if self.running:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = STOP_TIMEOUT_S) -> int:
        """Its exit code; still running after `timeout`: killed, and reported as such."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.process.wait()


def ports_connected_to(remote_port: int, pid: int) -> set[int]:
    """The local ports of `pid`'s TCP connections to `remote_port` (from Linux's /proc)."""
    try:
        links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
    except OSError:  # gone, or a descriptor closed while we looked
        return set()
    inodes = {link[len("socket:[") : -1] for link in links if link.startswith("socket:[")}
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()  # local and remote address:port (hex), ..., inode
            if fields[9] in inodes and int(fields[2].rsplit(":", 1)[1], 16) == remote_port:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports
