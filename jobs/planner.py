"""Planning: when each step of a commitment's timeline fires, in the client's send window."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from jobs.cadence import CadenceProfile
from jobs.step import PlannedStep, StepKind

# A week plus a day covers any weekend and any day whose window a DST gap swallows whole.
SEARCH_DAYS = 8
# date.weekday(): Monday is 0, so 5 and 6 are Saturday and Sunday.
FIRST_WEEKEND_DAY = 5
# Both occurrences of an ambiguous autumn wall time, the first one preferred.
FOLDS = (0, 1)

HOURS_PER_DAY = 24
HOUR = timedelta(hours=1)

# Distinct (profile, due date, zone) ladders kept planned; each is a few hundred bytes.
TIMELINE_CACHE_SIZE = 4096

REFLECTION_NAME = "reflection"
COACH_QUIET_NAME = "coach-quiet"


def next_allowed_moment(profile: CadenceProfile, moment: datetime, zone: ZoneInfo) -> datetime:
    """Return the earliest moment >= `moment`, in `zone`, inside the profile's send window."""
    _require_aware(moment, "moment")
    local = _normalise(moment, zone)
    if _is_allowed(profile, local):
        return local
    day = local.date()
    for offset in range(SEARCH_DAYS):
        start = _window_start(profile, day + timedelta(days=offset), zone, not_before=moment)
        if start is not None:
            return start
    raise RuntimeError(f"no allowed moment within {SEARCH_DAYS} days of {moment.isoformat()}")


def plan_commitment(
    profile: CadenceProfile,
    due: date,
    zone: ZoneInfo,
    now: datetime,
    last_sent: str | None = None,
) -> list[PlannedStep]:
    """Return the steps still to send for a commitment due on local date `due`, in order.

    Steps after `last_sent` only; passed reminders are dropped and passed overdue
    steps collapse into the latest one, sent at the next allowed moment.
    """
    _require_aware(now, "now")
    timeline = _timeline(profile, due, zone)
    return _collapse_passed(profile, _after_last_sent(timeline, last_sent), now, zone)


@functools.lru_cache(maxsize=TIMELINE_CACHE_SIZE)
def _timeline(profile: CadenceProfile, due: date, zone: ZoneInfo) -> tuple[PlannedStep, ...]:
    """Every step of the ladder, in order. Commitments are planned at every event and send,
    and a million of them share a few thousand (profile, due date, zone) triples."""
    steps = [*_reminder_steps(profile, due, zone), *_overdue_steps(profile, due, zone)]
    return tuple(sorted(steps, key=_timeline_key))


def passed_steps(
    profile: CadenceProfile, due: date, zone: ZoneInfo, now: datetime
) -> list[PlannedStep]:
    """The ladder's steps `plan_commitment` leaves out at `now`, at their planned times:
    reminders whose time has passed, and missed prompts but the latest (`coachd plan`)."""
    kept = {step.name for step in plan_commitment(profile, due, zone, now)}
    return [step for step in _timeline(profile, due, zone) if step.name not in kept]


def plan_reflection(profile: CadenceProfile, completed_at: datetime, zone: ZoneInfo) -> PlannedStep:
    """Return the reflection step that follows a completion, moved into the send window."""
    _require_aware(completed_at, "completed_at")
    # Elapsed hours, not wall-clock hours: "4 hours later" stays 4 hours across a DST change.
    after = completed_at.astimezone(UTC) + timedelta(hours=profile.reflection_after_hours)
    return _step(REFLECTION_NAME, StepKind.REFLECTION, next_allowed_moment(profile, after, zone))


def coach_notice_step(profile: CadenceProfile, now: datetime, zone: ZoneInfo) -> PlannedStep:
    """Return the step telling the coach a client went quiet; it fires at once."""
    # The profile's window protects the client's evenings, not the coach's inbox.
    _require_aware(now, "now")
    return _step(COACH_QUIET_NAME, StepKind.COACH_QUIET, _normalise(now, zone))


def prompt_at(profile: CadenceProfile) -> time:
    """The local time an overdue prompt is planned at: `send_at`; with the hour learned, the
    window's start, so that every hour of the window is still open when it fires and its
    hour is drawn (daemon.outbound.sendhour)."""
    return profile.send_window.start if profile.learn_send_hour else profile.send_at


def open_hours(profile: CadenceProfile, now: datetime, zone: ZoneInfo) -> dict[int, datetime]:
    """The local hours of `now`'s day at which a prompt may still go, each with the moment it
    would: the hour's start (the window's start in its first hour), `now` in the current hour.
    Only hours inside the send window on an allowed day; an hour a DST gap skips is none."""
    _require_aware(now, "now")
    local = _normalise(now, zone)
    window, day = profile.send_window, local.date()
    found: dict[int, datetime] = {}
    for hour in range(window.start.hour, HOURS_PER_DAY):
        wall = datetime.combine(day, max(time(hour), window.start), tzinfo=zone)
        moment = _normalise(wall, zone)
        if moment.hour != hour or not _is_allowed(profile, moment):
            continue  # skipped by a DST gap, or past the window's end
        ends = _normalise(datetime.combine(day, time(hour), tzinfo=zone) + HOUR, zone)
        if ends.astimezone(UTC) > local.astimezone(UTC):
            found[hour] = max(moment, local, key=lambda m: m.astimezone(UTC))
    return found


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")


def _normalise(moment: datetime, zone: ZoneInfo) -> datetime:
    # Through UTC, because astimezone() to a datetime's own zone is a no-op and would keep
    # a wall time that does not exist (a spring-forward gap) instead of moving it forward.
    return moment.astimezone(UTC).astimezone(zone)


def _is_allowed(profile: CadenceProfile, local: datetime) -> bool:
    return _day_allowed(profile, local.date()) and profile.send_window.contains(local.time())


def _day_allowed(profile: CadenceProfile, day: date) -> bool:
    """Not a weekend day when weekends are off, and one of `send_days` when it names any."""
    if profile.weekdays_only and day.weekday() >= FIRST_WEEKEND_DAY:
        return False
    return not profile.send_days or day.weekday() in profile.send_days


def _window_start(
    profile: CadenceProfile, day: date, zone: ZoneInfo, not_before: datetime
) -> datetime | None:
    """Return the day's window start if it is allowed and not before `not_before`."""
    for fold in FOLDS:
        wall = datetime.combine(day, profile.send_window.start, tzinfo=zone).replace(fold=fold)
        start = _normalise(wall, zone)
        # Compared in UTC: same-zone comparisons ignore fold and misorder repeated hours.
        # A gap can push the start past the window's end (or, at midnight, out of the day):
        # then its wall time is outside the window and the day has no start.
        if start.astimezone(UTC) >= not_before.astimezone(UTC) and _is_allowed(profile, start):
            return start
    return None


def _step(name: str, kind: StepKind, local: datetime, offset_days: int = 0) -> PlannedStep:
    return PlannedStep(
        name=name,
        kind=kind,
        fire_at=local.astimezone(UTC),
        fire_at_local=local,
        offset_days=offset_days,
    )


def _send_at(profile: CadenceProfile, day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, profile.send_at, tzinfo=zone)


def _allowed_day(profile: CadenceProfile, day: date, direction: int) -> date:
    """`day`, or the nearest allowed day in `direction` (-1 earlier, +1 later): a weekday if
    weekends are off, one of the profile's `send_days` (a client's own choice) if it has any."""
    while not _day_allowed(profile, day):
        day += timedelta(days=direction)
    return day


def _one_per_day(steps: list[PlannedStep]) -> list[PlannedStep]:
    """Two steps moved onto one day become one: the further from the due date wins."""
    by_day: dict[date, PlannedStep] = {}
    for step in steps:
        day = step.fire_at_local.date()
        if day not in by_day or abs(step.offset_days) > abs(by_day[day].offset_days):
            by_day[day] = step
    return list(by_day.values())


def _reminder_steps(profile: CadenceProfile, due: date, zone: ZoneInfo) -> list[PlannedStep]:
    steps: list[PlannedStep] = []
    for days in profile.reminders_before_due_days:
        # A reminder that falls on a weekend comes on the Friday before: still ahead of time.
        day = _allowed_day(profile, due - timedelta(days=days), -1)
        local = next_allowed_moment(profile, _send_at(profile, day, zone), zone)
        # A reminder moved onto the due day (or later) is no longer "before due".
        if local.date() < due:
            steps.append(_step(f"reminder-{days}d", StepKind.REMINDER, local, -days))
    return _one_per_day(steps)


def _overdue_steps(profile: CadenceProfile, due: date, zone: ZoneInfo) -> list[PlannedStep]:
    steps: list[PlannedStep] = []
    at = prompt_at(profile)
    for days in profile.overdue_prompt_days:
        # A prompt that falls on a weekend waits for Monday at the usual time.
        day = _allowed_day(profile, due + timedelta(days=days), +1)
        local = next_allowed_moment(profile, datetime.combine(day, at, tzinfo=zone), zone)
        steps.append(_step(f"overdue-{days}d", StepKind.OVERDUE, local, days))
    return _one_per_day(steps)


def _timeline_key(step: PlannedStep) -> tuple[datetime, int]:
    # Ties (two steps moved onto the same moment) keep ladder order: earliest offset first.
    return (step.fire_at, step.offset_days)


def _after_last_sent(
    timeline: tuple[PlannedStep, ...], last_sent: str | None
) -> tuple[PlannedStep, ...]:
    names = [step.name for step in timeline]
    if last_sent is None or last_sent not in names:
        # An unknown name means the plan changed (new due date or profile): start afresh.
        return timeline
    return timeline[names.index(last_sent) + 1 :]


def _collapse_passed(
    profile: CadenceProfile, steps: tuple[PlannedStep, ...], now: datetime, zone: ZoneInfo
) -> list[PlannedStep]:
    """Drop passed reminders; keep only the latest passed overdue step, re-timed to now."""
    passed = [step for step in steps if step.fire_at < now]
    upcoming = [step for step in steps if step.fire_at >= now]
    missed = [step for step in passed if step.kind is StepKind.OVERDUE]
    if not missed:
        return upcoming
    # After downtime or when created already overdue, one prompt, never a flood of them.
    latest = missed[-1]
    retimed = _step(
        latest.name, latest.kind, next_allowed_moment(profile, now, zone), latest.offset_days
    )
    if upcoming and upcoming[0].fire_at <= retimed.fire_at:
        return upcoming  # a later prompt is due as soon: send that one, not both
    return [retimed, *upcoming]
