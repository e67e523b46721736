"""Tests for jobs.planner: send windows, weekends, DST, and the collapse-never-flood policy."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.cadence import CadenceProfile, SendWindow
from jobs.planner import (
    coach_notice_step,
    next_allowed_moment,
    plan_commitment,
    plan_reflection,
)
from jobs.step import PlannedStep, StepKind

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def profile(**fields: object) -> CadenceProfile:
    return CadenceProfile.model_validate(fields)


def window(start: time, end: time) -> SendWindow:
    return SendWindow(start=start, end=end)


def local(zone: ZoneInfo, day: str, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour, minute), tzinfo=zone).replace(
        fold=fold
    )


def utc(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour, minute), tzinfo=UTC)


def timeline(steps: list[PlannedStep]) -> list[tuple[str, datetime]]:
    return [(step.name, step.fire_at) for step in steps]


# --- DST ---------------------------------------------------------------------------------

# (zone, day the clocks change, UTC offset in hours before, after); all changes fall on a Sunday.
DST_CHANGES = [
    pytest.param(BERLIN, "2024-03-31", 1, 2, id="berlin-spring"),
    pytest.param(BERLIN, "2024-10-27", 2, 1, id="berlin-autumn"),
    pytest.param(NEW_YORK, "2024-03-10", -5, -4, id="new-york-spring"),
    pytest.param(NEW_YORK, "2024-11-03", -4, -5, id="new-york-autumn"),
    pytest.param(SYDNEY, "2024-10-06", 10, 11, id="sydney-spring"),
    pytest.param(SYDNEY, "2024-04-07", 11, 10, id="sydney-autumn"),
]


@pytest.mark.parametrize(("zone", "change_day", "before", "after"), DST_CHANGES)
def test_send_at_keeps_its_local_time_across_a_dst_change(
    zone: ZoneInfo, change_day: str, before: int, after: int
) -> None:
    changed = date.fromisoformat(change_day)
    cadence = profile(
        reminders_before_due_days=(), overdue_prompt_days=(1, 2, 3), weekdays_only=False
    )

    steps = plan_commitment(cadence, changed - timedelta(days=2), zone, LONG_AGO)

    send_at = time(9, 0)
    days = [changed - timedelta(days=1), changed, changed + timedelta(days=1)]
    offsets = [before, after, after]
    assert [s.fire_at_local.replace(tzinfo=None) for s in steps] == [
        datetime.combine(day, send_at) for day in days
    ]
    assert [s.fire_at for s in steps] == [
        datetime.combine(day, send_at, tzinfo=UTC) - timedelta(hours=offset)
        for day, offset in zip(days, offsets, strict=True)
    ]


GAP_DAYS = [
    pytest.param(BERLIN, "2024-03-31", utc("2024-03-31", 1, 30), id="berlin"),
    pytest.param(NEW_YORK, "2024-03-10", utc("2024-03-10", 7, 30), id="new-york"),
    pytest.param(SYDNEY, "2024-10-06", utc("2024-10-05", 16, 30), id="sydney"),
]


@pytest.mark.parametrize(("zone", "day", "expected_utc"), GAP_DAYS)
def test_send_at_inside_spring_gap_moves_forward_by_the_gap(
    zone: ZoneInfo, day: str, expected_utc: datetime
) -> None:
    cadence = profile(
        send_window=window(time(2, 0), time(20, 0)),
        send_at=time(2, 30),
        weekdays_only=False,
        reminders_before_due_days=(),
        overdue_prompt_days=(1,),
    )
    due = date.fromisoformat(day) - timedelta(days=1)

    [step] = plan_commitment(cadence, due, zone, LONG_AGO)

    assert step.fire_at == expected_utc
    assert step.fire_at_local.replace(tzinfo=None) == datetime.combine(
        date.fromisoformat(day), time(3, 30)
    )


def test_window_start_inside_spring_gap_opens_when_the_clock_resumes() -> None:
    cadence = profile(send_window=window(time(2, 0), time(20, 0)), weekdays_only=False)

    moved = next_allowed_moment(cadence, local(BERLIN, "2024-03-31", 1, 0), BERLIN)

    assert moved == utc("2024-03-31", 1, 0)
    assert moved.replace(tzinfo=None) == datetime(2024, 3, 31, 3, 0)


def test_window_swallowed_by_spring_gap_moves_to_the_next_day() -> None:
    # 02:00-02:45 does not exist on the change day; normalising 02:00 gives 03:00, past the end.
    cadence = profile(send_window=window(time(2, 0), time(2, 45)), weekdays_only=False)

    moved = next_allowed_moment(cadence, local(BERLIN, "2024-03-31", 1, 0), BERLIN)

    assert moved == local(BERLIN, "2024-04-01", 2, 0)
    assert moved == utc("2024-04-01", 0, 0)


AMBIGUOUS = [
    pytest.param(BERLIN, "2024-10-27", 2, utc("2024-10-27", 0, 30), id="berlin"),
    pytest.param(NEW_YORK, "2024-11-03", 1, utc("2024-11-03", 5, 30), id="new-york"),
    pytest.param(SYDNEY, "2024-04-07", 2, utc("2024-04-06", 15, 30), id="sydney"),
]


@pytest.mark.parametrize(("zone", "day", "hour", "expected_utc"), AMBIGUOUS)
def test_ambiguous_autumn_send_at_takes_its_first_occurrence(
    zone: ZoneInfo, day: str, hour: int, expected_utc: datetime
) -> None:
    cadence = profile(
        send_window=window(time(0, 0), time(23, 0)),
        send_at=time(hour, 30),
        weekdays_only=False,
        reminders_before_due_days=(),
        overdue_prompt_days=(1,),
    )

    [step] = plan_commitment(cadence, date.fromisoformat(day) - timedelta(days=1), zone, LONG_AGO)

    assert step.fire_at == expected_utc
    assert step.fire_at_local.fold == 0


def test_second_occurrence_of_an_ambiguous_time_inside_the_window_is_kept() -> None:
    cadence = profile(send_window=window(time(0, 0), time(23, 0)), weekdays_only=False)
    second = local(BERLIN, "2024-10-27", 2, 30, fold=1)

    moved = next_allowed_moment(cadence, second, BERLIN)

    assert moved.astimezone(UTC) == utc("2024-10-27", 1, 30)
    assert moved.fold == 1


def test_window_that_reopens_in_the_repeated_hour_uses_its_second_start() -> None:
    # The window 02:10-02:20 occurs twice on the autumn day; 02:25 (first) is between them.
    cadence = profile(send_window=window(time(2, 10), time(2, 20)), weekdays_only=False)

    moved = next_allowed_moment(cadence, local(BERLIN, "2024-10-27", 2, 25), BERLIN)

    assert moved.astimezone(UTC) == utc("2024-10-27", 1, 10)
    assert (moved.time(), moved.fold) == (time(2, 10), 1)


# --- send window edges and weekends ------------------------------------------------------

WINDOW_EDGES = [
    pytest.param(local(BERLIN, "2024-06-12", 7, 59), local(BERLIN, "2024-06-12", 8), id="before"),
    pytest.param(local(BERLIN, "2024-06-12", 8), local(BERLIN, "2024-06-12", 8), id="at-start"),
    pytest.param(
        local(BERLIN, "2024-06-12", 19, 59), local(BERLIN, "2024-06-12", 19, 59), id="inside"
    ),
    pytest.param(local(BERLIN, "2024-06-12", 20), local(BERLIN, "2024-06-13", 8), id="at-end"),
    pytest.param(local(BERLIN, "2024-06-12", 23), local(BERLIN, "2024-06-13", 8), id="after-end"),
    pytest.param(local(BERLIN, "2024-06-14", 20), local(BERLIN, "2024-06-17", 8), id="friday-end"),
    pytest.param(local(BERLIN, "2024-06-15", 10), local(BERLIN, "2024-06-17", 8), id="saturday"),
]


@pytest.mark.parametrize(("moment", "expected"), WINDOW_EDGES)
def test_next_allowed_moment_at_window_edges(moment: datetime, expected: datetime) -> None:
    moved = next_allowed_moment(profile(), moment, BERLIN)

    assert moved.replace(tzinfo=None) == expected.replace(tzinfo=None)
    assert moved.tzinfo is BERLIN


def test_next_allowed_moment_answers_in_the_client_zone_for_a_utc_moment() -> None:
    # 05:30 UTC is 07:30 in Berlin in summer: before the window, so the window start.
    moved = next_allowed_moment(profile(), utc("2024-06-12", 5, 30), BERLIN)

    assert moved == utc("2024-06-12", 6, 0)
    assert (moved.tzinfo, moved.time()) == (BERLIN, time(8, 0))


def test_weekend_is_allowed_when_not_weekdays_only() -> None:
    cadence = profile(weekdays_only=False)

    moved = next_allowed_moment(cadence, local(BERLIN, "2024-06-14", 20), BERLIN)

    assert moved == local(BERLIN, "2024-06-15", 8)


def test_saturday_reminder_comes_on_the_friday_before_at_send_at() -> None:
    # A reminder is meant to come ahead of time: a weekend one moves earlier, not later.
    cadence = profile(reminders_before_due_days=(4,), overdue_prompt_days=())

    [step] = plan_commitment(cadence, date(2024, 6, 12), BERLIN, LONG_AGO)

    assert (step.name, step.kind, step.offset_days) == ("reminder-4d", StepKind.REMINDER, -4)
    assert step.fire_at_local == local(BERLIN, "2024-06-07", 9)


def test_saturday_reminder_stays_on_saturday_when_weekends_are_allowed() -> None:
    cadence = profile(reminders_before_due_days=(4,), overdue_prompt_days=(), weekdays_only=False)

    [step] = plan_commitment(cadence, date(2024, 6, 12), BERLIN, LONG_AGO)

    assert step.fire_at_local == local(BERLIN, "2024-06-08", 9)


def test_reminder_pushed_onto_the_due_day_is_dropped() -> None:
    # Due Monday: the Sunday and Saturday reminders would move to Monday itself.
    cadence = profile(reminders_before_due_days=(1, 2, 3), overdue_prompt_days=())

    steps = plan_commitment(cadence, date(2024, 6, 10), BERLIN, LONG_AGO)

    assert [(s.name, s.fire_at_local) for s in steps] == [
        ("reminder-3d", local(BERLIN, "2024-06-07", 9))
    ]


def test_reminder_pushed_past_the_window_end_onto_the_due_day_is_dropped() -> None:
    cadence = profile(reminders_before_due_days=(1, 2), overdue_prompt_days=(), send_at=time(21, 0))

    steps = plan_commitment(cadence, date(2024, 6, 12), BERLIN, LONG_AGO)

    assert timeline(steps) == [("reminder-2d", local(BERLIN, "2024-06-11", 8).astimezone(UTC))]


def test_overdue_steps_moved_onto_one_monday_become_the_deepest_one() -> None:
    # Due Thursday: +2 (Sat) and +3 (Sun) wait for Monday, where +4 already is: one prompt.
    cadence = profile(reminders_before_due_days=(), overdue_prompt_days=(4, 3, 2, 5))

    steps = plan_commitment(cadence, date(2024, 6, 13), BERLIN, LONG_AGO)

    assert timeline(steps) == [
        ("overdue-4d", local(BERLIN, "2024-06-17", 9).astimezone(UTC)),
        ("overdue-5d", local(BERLIN, "2024-06-18", 9).astimezone(UTC)),
    ]


def test_full_timeline_is_ordered_reminders_then_overdue() -> None:
    cadence = profile(reminders_before_due_days=(1, 3), overdue_prompt_days=(1, 4, 9))

    steps = plan_commitment(cadence, date(2024, 6, 12), BERLIN, LONG_AGO)

    assert [(s.name, s.kind, s.offset_days, s.fire_at_local) for s in steps] == [
        ("reminder-3d", StepKind.REMINDER, -3, local(BERLIN, "2024-06-07", 9)),
        ("reminder-1d", StepKind.REMINDER, -1, local(BERLIN, "2024-06-11", 9)),
        ("overdue-1d", StepKind.OVERDUE, 1, local(BERLIN, "2024-06-13", 9)),
        ("overdue-4d", StepKind.OVERDUE, 4, local(BERLIN, "2024-06-17", 9)),
        ("overdue-9d", StepKind.OVERDUE, 9, local(BERLIN, "2024-06-21", 9)),
    ]
    assert all(s.fire_at.tzinfo is UTC and s.fire_at_local.tzinfo is BERLIN for s in steps)


# --- passed steps, now and last_sent ------------------------------------------------------


def test_created_already_overdue_keeps_only_the_latest_missed_step_and_future_ones() -> None:
    # Due Mon 3 June; +1 (Tue 4th) and +4 (Fri 7th) have passed by Saturday, +9 (Wed 12th) not.
    cadence = profile(reminders_before_due_days=(2,), overdue_prompt_days=(1, 4, 9))
    now = local(BERLIN, "2024-06-08", 10)

    steps = plan_commitment(cadence, date(2024, 6, 3), BERLIN, now)

    assert timeline(steps) == [
        ("overdue-4d", local(BERLIN, "2024-06-10", 8).astimezone(UTC)),
        ("overdue-9d", local(BERLIN, "2024-06-12", 9).astimezone(UTC)),
    ]
    assert steps[0].offset_days == 4


def test_missed_step_fires_at_now_when_now_is_inside_the_window() -> None:
    cadence = profile(reminders_before_due_days=(2,), overdue_prompt_days=(1, 4, 9))
    now = local(BERLIN, "2024-06-07", 14, 15)

    steps = plan_commitment(cadence, date(2024, 6, 3), BERLIN, now.astimezone(UTC))

    assert timeline(steps) == [
        ("overdue-4d", now.astimezone(UTC)),
        ("overdue-9d", local(BERLIN, "2024-06-12", 9).astimezone(UTC)),
    ]


def test_all_steps_passed_leaves_only_the_last_overdue_step() -> None:
    cadence = profile(reminders_before_due_days=(3, 1), overdue_prompt_days=(1, 4, 9))
    now = local(BERLIN, "2024-09-02", 9, 30)

    steps = plan_commitment(cadence, date(2024, 6, 3), BERLIN, now)

    assert timeline(steps) == [("overdue-9d", now.astimezone(UTC))]


def test_step_exactly_at_now_is_not_passed() -> None:
    cadence = profile(reminders_before_due_days=(2,), overdue_prompt_days=(1,))
    now = local(BERLIN, "2024-06-10", 9)

    steps = plan_commitment(cadence, date(2024, 6, 12), BERLIN, now)

    assert timeline(steps) == [
        ("reminder-2d", now.astimezone(UTC)),
        ("overdue-1d", local(BERLIN, "2024-06-13", 9).astimezone(UTC)),
    ]


def test_passed_reminders_alone_are_dropped() -> None:
    cadence = profile(reminders_before_due_days=(3, 1), overdue_prompt_days=(1,))
    now = local(BERLIN, "2024-06-11", 12)

    steps = plan_commitment(cadence, date(2024, 6, 12), BERLIN, now)

    assert timeline(steps) == [("overdue-1d", local(BERLIN, "2024-06-13", 9).astimezone(UTC))]


@pytest.mark.parametrize(
    ("last_sent", "expected"),
    [
        (None, ["reminder-3d", "reminder-1d", "overdue-1d", "overdue-4d", "overdue-9d"]),
        ("reminder-3d", ["reminder-1d", "overdue-1d", "overdue-4d", "overdue-9d"]),
        ("reminder-1d", ["overdue-1d", "overdue-4d", "overdue-9d"]),
        ("overdue-4d", ["overdue-9d"]),
        ("overdue-9d", []),
        ("overdue-2d", ["reminder-3d", "reminder-1d", "overdue-1d", "overdue-4d", "overdue-9d"]),
    ],
)
def test_last_sent_returns_only_later_steps(last_sent: str | None, expected: list[str]) -> None:
    cadence = profile(reminders_before_due_days=(3, 1), overdue_prompt_days=(1, 4, 9))

    steps = plan_commitment(cadence, date(2024, 6, 12), BERLIN, LONG_AGO, last_sent=last_sent)

    assert [s.name for s in steps] == expected


def test_last_sent_then_downtime_sends_only_the_latest_missed_step() -> None:
    cadence = profile(reminders_before_due_days=(3, 1), overdue_prompt_days=(1, 4, 9, 20))
    now = local(BERLIN, "2024-06-25", 11)

    steps = plan_commitment(cadence, date(2024, 6, 12), BERLIN, now, last_sent="overdue-1d")

    assert timeline(steps) == [
        ("overdue-9d", now.astimezone(UTC)),
        ("overdue-20d", local(BERLIN, "2024-07-02", 9).astimezone(UTC)),
    ]


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2024, 6, 12, 9, 0)
    cadence = profile()

    with pytest.raises(ValueError, match="now must be timezone-aware"):
        plan_commitment(cadence, date(2024, 6, 12), BERLIN, naive)
    with pytest.raises(ValueError, match="moment must be timezone-aware"):
        next_allowed_moment(cadence, naive, BERLIN)
    with pytest.raises(ValueError, match="completed_at must be timezone-aware"):
        plan_reflection(cadence, naive, BERLIN)
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        coach_notice_step(cadence, naive, BERLIN)


# --- reflection and coach notice ----------------------------------------------------------

REFLECTIONS = [
    pytest.param(local(BERLIN, "2024-06-12", 10), local(BERLIN, "2024-06-12", 14), id="inside"),
    pytest.param(local(BERLIN, "2024-06-12", 18), local(BERLIN, "2024-06-13", 8), id="evening"),
    pytest.param(local(BERLIN, "2024-06-14", 17), local(BERLIN, "2024-06-17", 8), id="friday"),
    pytest.param(local(BERLIN, "2024-06-12", 2), local(BERLIN, "2024-06-12", 8), id="night"),
]


@pytest.mark.parametrize(("completed_at", "expected"), REFLECTIONS)
def test_reflection_follows_completion_inside_the_window(
    completed_at: datetime, expected: datetime
) -> None:
    step = plan_reflection(profile(), completed_at.astimezone(UTC), BERLIN)

    assert (step.name, step.kind, step.offset_days) == ("reflection", StepKind.REFLECTION, 0)
    assert step.fire_at_local == expected
    assert step.fire_at == expected.astimezone(UTC)


def test_reflection_delay_counts_elapsed_hours_across_dst() -> None:
    # 23:00 CET + 4 elapsed hours is 04:00 CEST (wall-clock arithmetic would say 03:00).
    cadence = profile(send_window=window(time(0, 0), time(23, 0)), weekdays_only=False)

    step = plan_reflection(cadence, local(BERLIN, "2024-03-30", 23), BERLIN)

    assert step.fire_at == utc("2024-03-31", 2, 0)
    assert step.fire_at_local.time() == time(4, 0)


def test_reflection_with_no_delay_fires_at_completion() -> None:
    cadence = profile(reflection_after_hours=0)
    completed_at = local(NEW_YORK, "2024-06-12", 15, 45)

    step = plan_reflection(cadence, completed_at, NEW_YORK)

    assert step.fire_at == completed_at.astimezone(UTC)


def test_coach_notice_fires_now_even_outside_the_client_window() -> None:
    now = utc("2024-06-15", 22, 30)  # Sunday 00:30 in Berlin: weekend and outside the window

    step = coach_notice_step(profile(), now, BERLIN)

    assert (step.name, step.kind, step.offset_days) == ("coach-quiet", StepKind.COACH_QUIET, 0)
    assert step.fire_at == now
    assert step.fire_at.tzinfo is UTC
    assert step.fire_at_local == local(BERLIN, "2024-06-16", 0, 30)
    assert step.fire_at_local.tzinfo is BERLIN


# --- properties ---------------------------------------------------------------------------

# Zones with odd rules on purpose: DST at midnight (Santiago), half-hour DST (Lord Howe),
# southern hemisphere, no DST at all.
PROPERTY_ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "UTC",
]
MINUTES_IN_DAY = 24 * 60
SATURDAY = 5  # date.weekday()


@st.composite
def profiles(draw: st.DrawFn) -> CadenceProfile:
    start, end = sorted(
        draw(st.lists(st.integers(0, MINUTES_IN_DAY - 1), min_size=2, max_size=2, unique=True))
    )
    return profile(
        reminders_before_due_days=draw(st.lists(st.integers(1, 10), max_size=4, unique=True)),
        overdue_prompt_days=draw(st.lists(st.integers(1, 30), max_size=5, unique=True)),
        send_at=draw(st.times()),
        send_window=window(time(*divmod(start, 60)), time(*divmod(end, 60))),
        weekdays_only=draw(st.booleans()),
    )


def is_allowed(cadence: CadenceProfile, moment: datetime) -> bool:
    weekday_ok = not cadence.weekdays_only or moment.weekday() < SATURDAY
    return weekday_ok and cadence.send_window.contains(moment.time())


@settings(max_examples=400, deadline=None)
@given(
    cadence=profiles(),
    zone_name=st.sampled_from(PROPERTY_ZONES),
    due=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    now_minutes=st.integers(-40 * MINUTES_IN_DAY, 60 * MINUTES_IN_DAY),
    last_sent=st.one_of(st.none(), st.sampled_from(["reminder-2d", "overdue-1d", "overdue-9d"])),
)
def test_every_planned_step_is_allowed_ordered_and_not_passed(
    cadence: CadenceProfile,
    zone_name: str,
    due: date,
    now_minutes: int,
    last_sent: str | None,
) -> None:
    zone = ZoneInfo(zone_name)
    now = datetime.combine(due, time(0), tzinfo=UTC) + timedelta(minutes=now_minutes)
    full = {s.name: s for s in plan_commitment(cadence, due, zone, LONG_AGO)}

    steps = plan_commitment(cadence, due, zone, now, last_sent=last_sent)

    for step in steps:
        assert is_allowed(cadence, step.fire_at_local)
        assert step.fire_at_local.tzinfo is zone
        assert step.fire_at.tzinfo is UTC
        assert step.fire_at == step.fire_at_local.astimezone(UTC)
        assert step.fire_at >= now
        if step.kind is StepKind.REMINDER:
            assert step.fire_at_local.date() < due
    assert [s.fire_at for s in steps] == sorted(s.fire_at for s in steps)
    assert len({s.name for s in steps}) == len(steps)
    retimed = [s for s in steps if s.fire_at != full[s.name].fire_at]
    assert len(retimed) <= 1
    for step in retimed:
        assert step.kind is StepKind.OVERDUE
        assert full[step.name].fire_at < now
        assert step.fire_at == next_allowed_moment(cadence, now, zone)


@settings(max_examples=300, deadline=None)
@given(
    cadence=profiles(),
    zone_name=st.sampled_from(PROPERTY_ZONES),
    moment=st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC)),
)
def test_next_allowed_moment_is_allowed_and_not_earlier(
    cadence: CadenceProfile, zone_name: str, moment: datetime
) -> None:
    zone = ZoneInfo(zone_name)

    moved = next_allowed_moment(cadence, moment, zone)

    assert is_allowed(cadence, moved)
    assert moved.tzinfo is zone
    assert moved.astimezone(UTC) >= moment
    if is_allowed(cadence, moment.astimezone(zone)):
        assert moved.astimezone(UTC) == moment
