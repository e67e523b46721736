"""When a coach's pre-session brief goes out: a set time before the session, never at night.

The coach's night is outside the send window of their default profile (08:00-20:00 unless
their file says otherwise). A brief whose moment falls there moves *earlier*, never later
(the coach must have it before the session): to the coach's digest time (`digest_at`) that
evening, or, when the moment is before that (early morning), the evening before. So a 09:00
session's brief comes at 17:00 the day before, a 22:00 session's at 17:00 that day.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from jobs.cadence import SendWindow

ONE_DAY = timedelta(days=1)


def brief_moment(
    starts_at: datetime,
    hours_before: int,
    window: SendWindow,
    evening: time,
    zone: ZoneInfo,
) -> datetime:
    """The moment (UTC) the brief for a session at `starts_at` is due, in the coach's `zone`."""
    moment = (starts_at - timedelta(hours=hours_before)).astimezone(zone)
    if window.contains(moment.time()):
        return moment.astimezone(UTC)
    day = moment.date() if moment.time() >= evening else moment.date() - ONE_DAY
    return datetime.combine(day, evening, tzinfo=zone).astimezone(UTC)
