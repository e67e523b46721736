"""Helpers for tests that run `coachd`'s CLI in process and read what it says."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest

from daemon.cli import main
from daemon.settings import OTHER_VARIABLES


def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No COACHD_ setting from the machine, a data directory of the test's own, and no
    stray .env read (the working directory is the test's)."""
    for name in os.environ:
        if name.upper().startswith("COACHD_") and name.upper() not in OTHER_VARIABLES:
            monkeypatch.delenv(name)
    monkeypatch.setenv("COACHD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)


def stored_state_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, redis_url: str, firm_config: Path
) -> None:
    """A one-off command (`brief`, `plan --client`) reading the test's Redis and coach files."""
    clean_environment(monkeypatch, tmp_path)
    monkeypatch.setenv("COACHD_REDIS_URL", redis_url)
    monkeypatch.setenv("COACHD_CONFIG_PATH", str(firm_config))


def closed_port() -> int:
    """A loopback port nothing listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def one_line(err: str) -> str:
    """The one line a command wrote to stderr (and no traceback)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


async def run_coachd(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the command as an operator would (in a thread: it runs its own event loop)."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err
