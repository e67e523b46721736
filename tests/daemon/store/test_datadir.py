"""Tests for the data directory's lock and its private, all-at-once file writes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from daemon.errors import DataDirInUseError
from daemon.store.datadir import DataDirLock, write_private

HOLD_LOCK = """
import sys, time
from pathlib import Path
from daemon.store.datadir import DataDirLock
with DataDirLock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(30)
"""


def test_a_second_lock_on_the_directory_names_the_holders_pid(tmp_path: Path) -> None:
    with DataDirLock(tmp_path), pytest.raises(DataDirInUseError) as caught:
        DataDirLock(tmp_path).acquire()
    assert str(caught.value) == f"data directory {tmp_path} is in use by pid {os.getpid()}"
    assert caught.value.pid == os.getpid()


def test_the_lock_is_free_again_once_released(tmp_path: Path) -> None:
    with DataDirLock(tmp_path):
        pass
    with DataDirLock(tmp_path) as again:
        assert again.path.read_text() == f"{os.getpid()}\n"


def test_a_killed_holder_leaves_the_directory_free(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(DataDirInUseError, match=f"in use by pid {holder.pid}$"):
            DataDirLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait(timeout=10)
    with DataDirLock(tmp_path):
        pass


def test_write_private_replaces_a_world_readable_file_with_a_0600_one(tmp_path: Path) -> None:
    target = tmp_path / "redis.url"
    target.write_text("old\n")
    target.chmod(0o644)
    write_private(target, "redis://:secret@127.0.0.1:1/0\n")
    assert target.read_text() == "redis://:secret@127.0.0.1:1/0\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["redis.url"]
