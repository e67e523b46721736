"""A client's cadence request within the coach's limits, and the timeline it gives (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from jobs.cadence import CadenceProfile
from jobs.clientcadence import CadenceRequest, clamp, describe, effective_profile
from jobs.planner import plan_commitment

FRIDAY, SATURDAY = 4, 5
BERLIN = ZoneInfo("Europe/Berlin")
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def profile(**fields: object) -> CadenceProfile:
    return CadenceProfile.model_validate(fields)


def test_by_default_a_client_may_change_days_hours_and_frequency_only() -> None:
    asked = CadenceRequest(days=(FRIDAY,), part="morning", per_week=1, weekends=True, lead_days=3)
    clamped = clamp(asked, CadenceProfile())
    assert clamped.request == CadenceRequest(days=(FRIDAY,), part="morning", per_week=1)
    assert clamped.notes == (
        "weekends: the profile does not let clients change weekends",
        "lead_days: the profile does not let clients change reminder_lead",
    )


def test_bounds_raise_the_prompts_a_week_and_lower_the_reminder_lead() -> None:
    bounds = {"min_prompts_per_week": 2, "max_lead_days": 3}
    allowed = profile(client_may_change=["frequency", "reminder_lead"], client_bounds=bounds)
    clamped = clamp(CadenceRequest(per_week=1, lead_days=5), allowed)
    assert clamped.request == CadenceRequest(per_week=2, lead_days=3)
    assert clamped.notes == (
        "per_week: raised to the profile's minimum 2",
        "lead_days: lowered to the profile's maximum 3",
    )


def test_hours_outside_the_bounds_are_moved_or_dropped() -> None:
    early = profile(client_bounds={"earliest": "09:00", "latest": "16:00"})
    moved = clamp(CadenceRequest(not_before=time(8, 30)), early)
    assert moved.request == CadenceRequest(not_before=time(9))
    assert moved.notes == ("not_before: moved to the profile's earliest 09:00",)
    evening = clamp(CadenceRequest(part="evening"), early)
    assert evening.request == CadenceRequest()
    assert evening.notes == ("hours: nothing is left of them inside 09:00-16:00",)


def test_a_weekend_day_is_not_kept_when_the_profile_sends_on_weekdays_only() -> None:
    clamped = clamp(CadenceRequest(days=(FRIDAY, SATURDAY)), CadenceProfile())
    assert clamped.request == CadenceRequest(days=(FRIDAY,))
    assert clamped.notes == ("days: only days the profile sends on are kept",)


def test_friday_mornings_move_every_step_onto_a_friday_morning() -> None:
    mine = effective_profile(CadenceProfile(), CadenceRequest(days=(FRIDAY,), part="morning"))
    due = date(2026, 12, 15)  # a Tuesday
    steps = plan_commitment(mine, due, BERLIN, LONG_AGO)
    assert steps, "the ladder has steps"
    for step in steps:
        assert step.fire_at_local.weekday() == FRIDAY
        assert time(8) <= step.fire_at_local.time() < time(12)
    assert [s.fire_at_local.date() for s in steps] == [
        date(2026, 12, 11),
        date(2026, 12, 18),
        date(2026, 12, 25),
    ]  # the reminder the Friday before; +1 the next Friday; +4 and +9 share the one after


def test_not_before_moves_the_send_time_into_the_clients_hours() -> None:
    mine = effective_profile(CadenceProfile(), CadenceRequest(not_before=time(10, 30)))
    assert (mine.send_at, mine.send_window.start) == (time(10, 30), time(10, 30))
    steps = plan_commitment(mine, date(2026, 12, 15), BERLIN, LONG_AGO)
    assert {s.fire_at_local.time() for s in steps} == {time(10, 30)}


def test_once_a_week_spaces_the_ladder_a_week_apart_and_less_often_at_most_twice() -> None:
    base = profile(reminders_before_due_days=[3, 1], overdue_prompt_days=[1, 4, 9, 16])
    weekly = effective_profile(base, CadenceRequest(per_week=1))
    assert (weekly.reminders_before_due_days, weekly.overdue_prompt_days) == ((3,), (1, 9, 16))
    rarer = effective_profile(base, CadenceRequest(less_often=True))
    assert (rarer.reminders_before_due_days, rarer.overdue_prompt_days) == ((3,), (1, 9, 16))
    assert effective_profile(base, CadenceRequest(per_week=3)).overdue_prompt_days == (1, 4, 9, 16)


@pytest.mark.parametrize(
    "asked",
    [
        CadenceRequest(days=(FRIDAY,), part="morning", not_before=time(10)),
        CadenceRequest(less_often=True, per_week=1, lead_days=2, weekends=True),
    ],
)
def test_applying_an_override_twice_is_applying_it_once(asked: CadenceRequest) -> None:
    """The planner and the send path both apply it: a second time must change nothing."""
    base = profile(reminders_before_due_days=[3, 1], overdue_prompt_days=[1, 4, 9, 16])
    once = effective_profile(base, asked)
    assert effective_profile(once, asked) == once


def test_weekends_and_the_reminder_lead_when_the_profile_allows_them() -> None:
    mine = effective_profile(CadenceProfile(), CadenceRequest(weekends=True, lead_days=4))
    assert (mine.weekdays_only, mine.reminders_before_due_days) == (False, (4,))
    assert effective_profile(CadenceProfile(), CadenceRequest()) == CadenceProfile()


def test_the_override_reads_in_a_few_words_for_the_coach() -> None:
    asked = CadenceRequest(days=(FRIDAY,), part="morning", not_before=time(10), per_week=1)
    assert describe(asked) == "Fridays; mornings; not before 10:00; at most 1 a week"
    assert describe(CadenceRequest()) == "the coach's cadence"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"client_bounds": {"earliest": "07:00"}},
            "client_bounds.earliest 07:00 is outside send_window 08:00-20:00",
        ),
        (
            {"client_bounds": {"earliest": "12:00", "latest": "10:00"}},
            "client_bounds.earliest must be earlier than client_bounds.latest",
        ),
        ({"send_days": [5, 6]}, "send_days names only weekend days, but weekdays_only is true"),
        ({"client_may_change": ["days", "tone"]}, "Input should be 'days', 'hours'"),
    ],
)
def test_a_profile_with_impossible_client_bounds_is_refused(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        profile(**fields)
