"""`coachd run` workers as child processes: their environment, restarts and deaths.

A kill "mid-send" looks, through Linux's /proc, for a worker with a connection to the sink
that has a transaction open, freezes it (SIGSTOP) and looks again; only then is it
SIGKILLed, so what it dies with is a claimed step, perhaps with its final dot already out.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

COACHD = [sys.executable, "-m", "daemon.cli"]
MID_SEND_TRIES_S = 10.0
SINK_POLL_S = 0.005
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


def kill_one_mid_send(
    workers: list[Worker], smtp_port: int, open_ports: Callable[[], set[int]]
) -> Worker | None:
    """SIGKILL whichever worker first has a transaction open at the sink; None if none had
    one within MID_SEND_TRIES_S. The sink is asked first (cheap); /proc is read only then."""
    deadline = time.monotonic() + MID_SEND_TRIES_S
    while time.monotonic() < deadline:
        busy = open_ports()
        if not busy:
            time.sleep(SINK_POLL_S)
            continue
        for worker in workers:
            if not worker.running or not ports_connected_to(smtp_port, worker.process.pid) & busy:
                continue
            if worker.kill_if_sending(smtp_port, open_ports):
                return worker
    return None


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

    def kill_if_sending(self, smtp_port: int, open_ports: Callable[[], set[int]]) -> bool:
        """Freeze it; if the sink has one of its transactions open, SIGKILL it, else let it go."""
        if not self.running:
            return False
        self.process.send_signal(signal.SIGSTOP)
        if ports_connected_to(smtp_port, self.process.pid) & open_ports():
            self.kill()
            return True
        self.process.send_signal(signal.SIGCONT)
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
    inodes = set()
    with contextlib.suppress(OSError):  # gone
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):  # closed while we looked
                link = os.readlink(fd)
                if link.startswith("socket:["):
                    inodes.add(link[len("socket:[") : -1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()  # local and remote address:port (hex), ..., inode
            if fields[9] in inodes and int(fields[2].rsplit(":", 1)[1], 16) == remote_port:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports
