"""Owns the embedded Redis's data directory: one process at a time, private files written whole."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from daemon.errors import DataDirInUseError, EmbeddedRedisError

LOCK_FILE_NAME = "coachd.lock"
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
ORPHAN_STOP_TIMEOUT_SECONDS = 10.0
ORPHAN_POLL_SECONDS = 0.02


class DataDirLock:
    """An exclusive `flock` on `<data dir>/coachd.lock`, holding the owner's pid, for as long
    as the process runs the embedded Redis there.

    The kernel drops the lock when the process dies, however it dies, so a crash never leaves
    the directory locked; the descriptor is not inherited, so the redis-server child (which
    can outlive a SIGKILLed coachd) does not hold it either.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        return self.data_dir / LOCK_FILE_NAME

    def acquire(self) -> None:
        """Take the lock or raise DataDirInUseError naming the holder's pid (never waits)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise DataDirInUseError(self.data_dir, holder) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Drop the lock (the file stays: deleting it would race the next process's open)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    """The pid the lock's holder wrote, or None if it has not written it yet."""
    with contextlib.suppress(OSError, ValueError):
        return int(os.pread(fd, 32, 0).decode().strip())
    return None


def write_private(path: Path, text: str) -> None:
    """Replace `path` with `text`, readable by this user only, all at once.

    Written to a temporary file created with mode 0600 (never world-readable, not even for
    a moment), fsynced, then renamed over `path`: a reader sees the old file or the new one.
    """
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)  # O_CREAT keeps an existing file's mode
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)


def stop_orphan(pid_file: Path) -> None:
    """SIGTERM a redis-server left running on this data directory by a crashed coachd."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    if not is_redis_server(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + ORPHAN_STOP_TIMEOUT_SECONDS
    while time.monotonic() < deadline and is_redis_server(pid):
        time.sleep(ORPHAN_POLL_SECONDS)
    if is_redis_server(pid):
        raise EmbeddedRedisError(
            f"A redis-server (pid {pid}) still uses {pid_file.parent} and did not stop; "
            "stop it before starting coachd."
        )


def is_redis_server(pid: int) -> bool:
    """True if `pid` is alive and (where /proc tells us) is a redis-server, not a reused pid."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.parent.exists():
        return True
    with contextlib.suppress(OSError):
        return b"redis-server" in cmdline.read_bytes()
    return False
