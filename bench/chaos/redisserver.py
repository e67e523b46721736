"""The chaos run's own redis-server on a fixed loopback port, stopped with SIGTERM or SIGKILL.

Started as coachd's embedded Redis starts its own (AOF, fsync every second, no eviction),
so a restart replays the AOF exactly as it would under the daemon.
"""

from __future__ import annotations

import secrets
import signal
import subprocess
import time
from pathlib import Path

from daemon.store.embedded import (
    HASH_MAX_LISTPACK_VALUE,
    LOOPBACK,
    answering_pid,
    find_redis_server,
    pick_free_port,
)

READY_TIMEOUT_S = 30.0
READY_POLL_S = 0.02
STOP_TIMEOUT_S = 15.0


class RedisServer:
    """One redis-server child at a time on `port`, persisting to `data_dir`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = pick_free_port()
        # Loopback is reachable by every local user: the chaos Redis asks for a password too.
        self.password = secrets.token_urlsafe(24)
        self._binary = find_redis_server()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@{LOOPBACK}:{self.port}/0"

    def start(self) -> None:
        """Start it and wait until it answers (after replaying its AOF)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            str(self._binary),
            "--bind", LOOPBACK,
            "--port", str(self.port),
            "--requirepass", self.password,
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--maxmemory-policy", "noeviction",
            "--hash-max-ziplist-value", str(HASH_MAX_LISTPACK_VALUE),
            "--daemonize", "no",
            "--logfile", str(self.data_dir / "redis.log"),
        ]  # fmt: skip
        self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited at start: see {self.data_dir}/redis.log")
            if answering_pid(self.port, self.password) == self._process.pid:
                return
            time.sleep(READY_POLL_S)
        raise RuntimeError(f"redis-server did not answer within {READY_TIMEOUT_S}s")

    def stop(self, signum: signal.Signals = signal.SIGTERM) -> None:
        """SIGTERM (a clean shutdown: the AOF is fsynced) or SIGKILL (none at all)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signum)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self, signum: signal.Signals) -> None:
        self.stop(signum)
        self.start()
