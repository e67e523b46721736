"""When the pre-session brief goes: hours before the session, moved earlier out of the night."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from jobs.briefmoment import brief_moment
from jobs.cadence import SendWindow

MADRID = ZoneInfo("Europe/Madrid")
WINDOW = SendWindow()  # 08:00-20:00
EVENING = time(17, 0)  # the coach's digest time


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=MADRID)


@pytest.mark.parametrize(
    ("session", "hours", "expected"),
    [
        ("2026-12-04 11:00", 2, "2026-12-04 09:00"),  # inside the window: as set
        ("2026-12-04 10:00", 2, "2026-12-04 08:00"),  # the window's first minute
        ("2026-12-07 09:00", 2, "2026-12-06 17:00"),  # 07:00 is night: the evening before
        ("2026-12-04 22:00", 2, "2026-12-04 17:00"),  # 20:00 is night: that evening
        ("2026-12-04 23:30", 3, "2026-12-04 17:00"),
        ("2026-12-04 20:00", 2, "2026-12-04 18:00"),
        ("2026-12-04 19:00", 24, "2026-12-03 19:00"),
    ],
)
def test_the_brief_comes_hours_before_and_never_at_night(
    session: str, hours: int, expected: str
) -> None:
    at = brief_moment(local(session), hours, WINDOW, EVENING, MADRID)

    assert at == local(expected).astimezone(UTC)


def test_a_night_moment_before_the_evening_time_moves_to_the_evening_before() -> None:
    """The brief never moves later: past 20:00 but before a 22:00 evening, the day before."""
    late_evening = time(22, 0)
    at = brief_moment(local("2026-12-04 23:00"), 2, WINDOW, late_evening, MADRID)

    assert at == local("2026-12-03 22:00").astimezone(UTC)


def test_the_session_time_is_read_with_its_own_offset() -> None:
    """A session given in New York time is briefed by the Madrid coach's clock."""
    session = datetime.fromisoformat("2026-12-04T05:00:00-05:00")  # 11:00 in Madrid

    assert brief_moment(session, 2, WINDOW, EVENING, MADRID) == local("2026-12-04 09:00")
