"""The Redis the suite runs against when it is pointed at one instead of starting its own."""

from __future__ import annotations

from dataclasses import dataclass

EXTERNAL_REDIS_ENV = "COACHD_TEST_REDIS_URL"


@dataclass(frozen=True)
class ExternalRedis:
    """A Redis the test runner was pointed at with COACHD_TEST_REDIS_URL (must be disposable)."""

    url: str
