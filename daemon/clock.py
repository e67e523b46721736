"""Clocks: the system's, and a fast one for the demo; tests inject their own or move time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

# A job that runs within this much wall-clock time of its due moment acts at that moment.
ON_TIME = timedelta(seconds=5)


class Clock(Protocol):
    """Injected time: `now` is the domain's time, `real` converts it to wall-clock time."""

    def now(self) -> datetime: ...

    def real(self, moment: datetime) -> datetime: ...


def acting_moment(clock: Clock, due: datetime) -> datetime:
    """The moment a job due at `due` acts at: `due` itself when it runs on time (within
    ON_TIME of it on the wall clock), else now (after downtime or retries).

    So a 17:00 digest is dated 17:00, a reply's notice the moment of the reply, and a step
    due inside its send window is inside it, though a poll or a busy loop made the job a
    little late. On the wall clock: on the demo's fast clock a 50 ms poll is 12 minutes.
    """
    now = clock.now()
    late = clock.real(now) - clock.real(due)
    return due if timedelta(0) <= late <= ON_TIME else now


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

    @property
    def speed(self) -> float:
        """How many seconds of domain time pass in one second of wall-clock time."""
        return self._speed

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.time() - self._wall_start) * self._speed)

    def real(self, moment: datetime) -> datetime:
        elapsed = (moment - self._start).total_seconds() / self._speed
        return datetime.fromtimestamp(self._wall_start + elapsed, UTC)
