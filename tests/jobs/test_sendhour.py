"""The learned send hour (pure): the hours still open in the send window (jobs.planner), the
Thompson draw among them (jobs.choosing.sampled_hour), the plan with `learn_send_hour`, and
the hour the learning records keep (jobs.learning)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from jobs.cadence import CadenceProfile, SendWindow
from jobs.choosing import Counts, sampled_hour
from jobs.learning import LastSent, send_record
from jobs.planner import open_hours, plan_commitment
from jobs.step import StepKind
from tests.helpers.state import ANA, commitment

MADRID = ZoneInfo("Europe/Madrid")
LEARNING = CadenceProfile(learn_send_hour=True)
WINDOW_HOURS = list(range(8, 20))  # the built-in window, 08:00-20:00
NONE = Counts({}, {})
SEEDS = [f"ana:2026-12-{n:02}" for n in range(1, 29)] + [f"c{n}" for n in range(172)]


def madrid(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=MADRID)


def by_hour(asked_answered: dict[int, tuple[int, int]]) -> Counts:
    return Counts(
        {str(h): s for h, (s, _) in asked_answered.items()},
        {str(h): a for h, (_, a) in asked_answered.items()},
    )


MONDAY = date(2026, 12, 7)


def test_at_the_windows_start_every_hour_of_the_window_is_open_at_its_start() -> None:
    hours = open_hours(LEARNING, madrid(MONDAY, 8), MADRID)
    assert list(hours) == WINDOW_HOURS
    assert hours[15] == madrid(MONDAY, 15)


def test_later_the_current_hour_is_open_now_and_the_passed_ones_are_not() -> None:
    hours = open_hours(LEARNING, madrid(MONDAY, 14, 20), MADRID)
    assert (min(hours), hours[14], hours[16]) == (14, madrid(MONDAY, 14, 20), madrid(MONDAY, 16))


def test_a_window_starting_at_half_past_opens_its_first_hour_at_half_past() -> None:
    profile = CadenceProfile(send_window=SendWindow(start=time(8, 30), end=time(11, 0)))
    hours = open_hours(profile, madrid(MONDAY, 6), MADRID)
    assert hours == {8: madrid(MONDAY, 8, 30), 9: madrid(MONDAY, 9), 10: madrid(MONDAY, 10)}


def test_no_hour_is_open_after_the_window_or_on_a_day_the_profile_does_not_send() -> None:
    assert open_hours(LEARNING, madrid(MONDAY, 20), MADRID) == {}
    assert open_hours(LEARNING, madrid(date(2026, 12, 5), 9), MADRID) == {}  # a Saturday


def test_an_hour_a_dst_gap_skips_is_not_open() -> None:
    night = CadenceProfile(weekdays_only=False, send_window=SendWindow(start=time(0), end=time(5)))
    spring = date(2026, 3, 29)  # 02:00 becomes 03:00 in Madrid
    assert list(open_hours(night, madrid(spring, 0), MADRID)) == [0, 1, 3, 4]


def test_with_the_hour_learned_prompts_are_planned_at_the_windows_start_reminders_at_send_at() -> (
    None
):
    due, now = date(2026, 12, 3), datetime(2026, 11, 30, 7, tzinfo=UTC)
    steps = plan_commitment(LEARNING, due, MADRID, now)
    hours = {s.kind: s.fire_at_local.time() for s in steps}
    assert hours == {StepKind.REMINDER: time(9), StepKind.OVERDUE: time(8)}
    fixed = plan_commitment(CadenceProfile(), due, MADRID, now)
    assert {s.fire_at_local.time() for s in fixed} == {time(9)}


def test_the_hour_the_client_answers_at_is_chosen_most_and_the_others_are_still_tried() -> None:
    client = by_hour({9: (6, 0), 13: (6, 0), 18: (6, 5)})
    chosen = Counter(sampled_hour(WINDOW_HOURS, client, NONE, seed) for seed in SEEDS)
    evening = chosen[17] + chosen[18] + chosen[19]  # 18 and the hours next to it (kin)
    assert (chosen.most_common(1)[0][0] in (17, 18, 19), evening > len(SEEDS) // 2) == (True, True)
    assert len(chosen) >= 6  # hours never tried draw from Beta(1, 1): nothing is starved
    assert chosen[9] + chosen[13] < chosen[18] // 4


def test_a_new_client_starts_from_the_hours_the_firm_answers_at() -> None:
    firm = by_hour({h: (100, 60 if h == 12 else 10) for h in WINDOW_HOURS})
    chosen = Counter(sampled_hour(WINDOW_HOURS, NONE, firm, seed) for seed in SEEDS)
    assert chosen.most_common(1)[0] == (12, chosen[12])
    assert chosen[12] > len(SEEDS) // 2


def test_answers_at_the_neighbouring_hours_count_for_an_hour() -> None:
    client = by_hour({7: (10, 9), 9: (10, 9), 12: (10, 1)})
    chosen = Counter(sampled_hour(WINDOW_HOURS, client, NONE, seed) for seed in SEEDS)
    assert chosen[8] > chosen[12]  # never tried itself, but between two answered hours


def test_the_same_seed_draws_the_same_hour_and_fewer_open_hours_keep_it() -> None:
    client = by_hour({10: (4, 2), 16: (4, 3)})
    for seed in SEEDS[:40]:
        first = sampled_hour(WINDOW_HOURS, client, NONE, seed)
        assert first is not None
        assert sampled_hour(WINDOW_HOURS, client, NONE, seed) == first
        # Fired again at that hour (deferred to it), the draw is the same: it goes.
        assert sampled_hour(range(first, 20), client, NONE, seed) == first
    assert sampled_hour([], client, NONE, "x") is None


def test_an_overdue_prompt_keeps_its_local_send_hour_and_other_emails_none() -> None:
    step = plan_commitment(LEARNING, date(2026, 12, 3), MADRID, datetime(2026, 12, 4, tzinfo=UTC))[
        0
    ]
    at = datetime(2026, 12, 4, 14, 5, tzinfo=UTC)  # 15:05 in Madrid
    sent = send_record(commitment(), ANA, step, question_ids=["why-gives"], bank=None, now=at)
    assert sent is not None
    assert (step.kind, sent[1].hour) == (StepKind.OVERDUE, 15)
    assert LastSent.decode(sent[1].encode()) == sent[1]
    # As an older coachd wrote it: no hour, nothing to learn about hours from its answer.
    assert LastSent.decode("c1:0|1700000000|why-gives") == LastSent(
        "c1:0", 1700000000, ("why-gives",)
    )
    ack = step.__class__("ack", StepKind.ACK, at, at)
    ack_sent = send_record(commitment(), ANA, ack, question_ids=[], bank=None, now=at)
    assert ack_sent is not None and ack_sent[1].hour is None


@pytest.mark.parametrize("text", ["c1:0|17|q|x", "c1:0|17|q|1|2", "nonsense"])
def test_a_last_email_field_not_written_by_coachd_is_read_as_none_or_without_hour(
    text: str,
) -> None:
    found = LastSent.decode(text)
    assert found is None or found.hour is None
