"""When a job acts: at its due moment if it runs on time (by the wall clock), else now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from daemon.clock import ON_TIME, ScaledClock, acting_moment

DUE = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)


class FixedClock:
    """Domain time and wall time are one, frozen at `moment`."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def real(self, moment: datetime) -> datetime:
        return moment


def test_a_job_on_time_acts_at_its_due_moment() -> None:
    assert acting_moment(FixedClock(DUE + ON_TIME), DUE) == DUE
    assert acting_moment(FixedClock(DUE), DUE) == DUE


def test_a_late_job_acts_now() -> None:
    late = DUE + ON_TIME + timedelta(milliseconds=1)
    assert acting_moment(FixedClock(late), DUE) == late


def test_a_job_run_before_its_moment_acts_now() -> None:
    early = DUE - timedelta(seconds=1)
    assert acting_moment(FixedClock(early), DUE) == early


def test_on_a_fast_clock_lateness_is_measured_on_the_wall_clock() -> None:
    """The demo's clock runs 14,400 times fast: a 0.1 s poll is 24 minutes of it, on time."""
    clock = ScaledClock(DUE - timedelta(hours=1), 14_400.0)
    due = clock.now() - timedelta(minutes=24)  # 0.1 s ago on the wall clock
    assert acting_moment(clock, due) == due
    long_ago = clock.now() - timedelta(days=1)  # 6 s ago on the wall clock
    assert acting_moment(clock, long_ago) > long_ago
