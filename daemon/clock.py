"""Clocks: the system's, and a fast one for the demo; tests inject their own or move time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class SystemClock:
    """Real time; domain time and wall-clock time are the same."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def real(self, moment: datetime) -> datetime:
        return moment


class ScaledClock:
    """Domain time that runs `speed` times faster than the wall clock from `start` on.

    The demo uses it to show days of a commitment's life in seconds; `real` maps a domain
    moment back to the wall-clock moment at which arq must run the job.
    """

    def __init__(self, start: datetime, speed: float) -> None:
        self._start = start
        self._speed = speed
        self._wall_start = time.time()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.time() - self._wall_start) * self._speed)

    def real(self, moment: datetime) -> datetime:
        elapsed = (moment - self._start).total_seconds() / self._speed
        return datetime.fromtimestamp(self._wall_start + elapsed, UTC)
