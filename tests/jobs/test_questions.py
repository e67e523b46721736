"""Tests for the default question bank and choosing discovery questions for an overdue prompt."""

from __future__ import annotations

from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.questions import (
    DEFAULT_BANK,
    MAX_DEPTH,
    Question,
    QuestionBank,
    Reason,
    asked_before,
    choose_help_question,
    choose_questions,
    remember_questions,
    target_depth,
)

DEFAULT_IDS = [q.id for q in DEFAULT_BANK.questions]
# Words COACHING.md rules out: guilt, urgency, or "reminding" past the due date.
GUILT_OR_URGENCY = (
    "remind",
    "overdue",
    "late",
    "fail",
    "urgent",
    "final",
    "asap",
    "should",
    "must",
)


def _bank(*rows: tuple[str, Reason, int]) -> QuestionBank:
    return QuestionBank(
        questions=tuple(
            Question(id=id_, reason=reason, depth=depth, text=f"Question {id_}?")
            for id_, reason, depth in rows
        )
    )


@pytest.mark.parametrize(
    ("overdue_days", "expected"),
    [(-2, 1), (0, 1), (1, 1), (3, 1), (4, 2), (9, 2), (10, 3), (60, 3)],
)
def test_target_depth_deepens_with_overdue_days(overdue_days: int, expected: int) -> None:
    assert target_depth(overdue_days) == expected


def test_default_bank_covers_every_reason_at_every_depth_range() -> None:
    questions = DEFAULT_BANK.questions
    assert 20 <= len(questions) <= 24
    assert {q.reason for q in questions} == set(get_args(Reason))
    assert {q.depth for q in questions} == set(range(1, MAX_DEPTH + 1))
    # Depth 1 stays light; the deepest questions explore self-trust, risk and old stories.
    assert {"partnering", "why"} <= {q.reason for q in questions if q.depth == 1}
    assert {"self_trust", "risk", "story"} <= {q.reason for q in questions if q.depth == 3}


def test_default_bank_is_open_second_person_questions_without_guilt() -> None:
    for question in DEFAULT_BANK.questions:
        text = question.text.lower()
        assert question.text.endswith("?"), question.id
        assert "you" in text, question.id
        assert [word for word in GUILT_OR_URGENCY if word in text] == [], question.id


@pytest.mark.parametrize(("overdue_days", "depth"), [(1, 1), (3, 1), (4, 2), (9, 2), (10, 3)])
def test_chosen_questions_come_from_the_target_depth(overdue_days: int, depth: int) -> None:
    for n in range(30):
        chosen = choose_questions(DEFAULT_BANK, overdue_days, None, 2, f"seed-{n}")
        assert [q.depth for q in chosen] == [depth, depth]


@pytest.mark.parametrize(
    ("overdue_days", "expected_depth"),
    [(1, 1), (5, 1), (12, 3)],  # target 2 is missing: the shallower neighbour wins the tie
)
def test_missing_depth_falls_back_to_the_nearest(overdue_days: int, expected_depth: int) -> None:
    bank = _bank(("a", "why", 1), ("b", "risk", 1), ("c", "story", 3), ("d", "risk", 3))
    chosen = choose_questions(bank, overdue_days, None, 1, "seed")
    assert [q.depth for q in chosen] == [expected_depth]


def test_bank_with_one_depth_serves_every_overdue_day() -> None:
    bank = _bank(("a", "why", 1), ("b", "risk", 1))
    chosen = choose_questions(bank, 30, None, 2, "seed")
    assert sorted(q.id for q in chosen) == ["a", "b"]


@given(
    overdue_days=st.integers(min_value=1, max_value=60),
    previous_id=st.sampled_from(DEFAULT_IDS),
    count=st.sampled_from([1, 2]),
    seed=st.text(max_size=20),
)
def test_previous_question_is_never_asked_again(
    overdue_days: int, previous_id: str, count: int, seed: str
) -> None:
    chosen = choose_questions(DEFAULT_BANK, overdue_days, previous_id, count, seed)
    assert len(chosen) == count
    assert previous_id not in [q.id for q in chosen]


@given(
    overdue_days=st.integers(min_value=1, max_value=60),
    seeds=st.tuples(st.text(max_size=20), st.text(max_size=20)),
)
def test_back_to_back_two_question_prompts_share_no_question(
    overdue_days: int, seeds: tuple[str, str]
) -> None:
    """Issue 15 item 12: both questions of an email are remembered, and neither comes next."""
    first = choose_questions(DEFAULT_BANK, overdue_days, None, 2, seeds[0])
    remembered = remember_questions(first)
    second = choose_questions(DEFAULT_BANK, overdue_days + 3, remembered, 2, seeds[1])

    assert len(second) == 2
    assert {q.id for q in first} & {q.id for q in second} == set()


def test_every_question_of_the_last_email_is_remembered() -> None:
    first, second = choose_questions(DEFAULT_BANK, 4, None, 2, "seed")

    assert remember_questions((first, second)) == f"{first.id} {second.id}"
    assert asked_before(remember_questions((first, second))) == {first.id, second.id}


def test_a_single_remembered_id_from_before_still_reads_as_one_question() -> None:
    """Records written when only one question was remembered keep working."""
    assert asked_before("why-gives") == {"why-gives"}
    assert asked_before("") == frozenset()
    assert asked_before(None) == frozenset()


def test_two_remembered_questions_leave_a_four_question_bank_with_two() -> None:
    bank = _bank(("a", "why", 1), ("b", "risk", 1), ("c", "story", 1), ("d", "why", 2))
    for seed in ("one", "two", "three"):
        assert sorted(q.id for q in choose_questions(bank, 1, "a b", 2, seed)) == ["c", "d"]


def test_a_bank_the_last_email_emptied_is_asked_again_rather_than_nothing() -> None:
    bank = _bank(("a", "why", 1), ("b", "risk", 1))
    assert sorted(q.id for q in choose_questions(bank, 1, "a b", 2, "seed")) == ["a", "b"]


def test_help_question_repeats_neither_question_of_the_last_email() -> None:
    bank = _bank(("help-a", "resources", 1), ("help-b", "resources", 2), ("why", "why", 1))
    assert choose_help_question(bank, "help-a why", "seed").id == "help-b"


def test_previous_question_is_dropped_when_nothing_else_is_left() -> None:
    bank = _bank(("a", "why", 1), ("b", "risk", 1))
    for seed in ("one", "two", "three"):
        assert [q.id for q in choose_questions(bank, 1, "a", 2, seed)] == ["b"]


def test_previous_question_at_the_only_target_depth_moves_to_the_next_depth() -> None:
    bank = _bank(("deep", "story", 3), ("mid", "risk", 2), ("light", "why", 1))
    assert [q.id for q in choose_questions(bank, 12, "deep", 1, "seed")] == ["mid"]


@given(
    overdue_days=st.integers(min_value=1, max_value=60),
    previous_id=st.none() | st.sampled_from(DEFAULT_IDS),
    seed=st.text(max_size=20),
)
def test_same_seed_gives_the_same_questions(
    overdue_days: int, previous_id: str | None, seed: str
) -> None:
    first = choose_questions(DEFAULT_BANK, overdue_days, previous_id, 2, seed)
    again = choose_questions(DEFAULT_BANK, overdue_days, previous_id, 2, seed)
    assert again == first


def test_choice_does_not_depend_on_the_order_of_the_bank() -> None:
    reversed_bank = QuestionBank(questions=tuple(reversed(DEFAULT_BANK.questions)))
    for n in range(20):
        seed = f"commitment-{n}:overdue-4d"
        expected = choose_questions(DEFAULT_BANK, 4, None, 2, seed)
        assert choose_questions(reversed_bank, 4, None, 2, seed) == expected


def test_different_seeds_spread_over_the_questions_of_a_depth() -> None:
    firsts = {choose_questions(DEFAULT_BANK, 10, None, 1, f"seed-{n}")[0].id for n in range(80)}
    depth_3 = {q.id for q in DEFAULT_BANK.questions if q.depth == 3}
    assert firsts == depth_3


@given(
    overdue_days=st.integers(min_value=1, max_value=60),
    previous_id=st.none() | st.sampled_from(DEFAULT_IDS),
    seed=st.text(max_size=20),
)
def test_two_questions_come_from_different_reasons(
    overdue_days: int, previous_id: str | None, seed: str
) -> None:
    first, second = choose_questions(DEFAULT_BANK, overdue_days, previous_id, 2, seed)
    assert first.reason != second.reason
    assert first.id != second.id


def test_same_reason_only_when_the_target_depth_has_no_other() -> None:
    bank = _bank(("why-a", "why", 1), ("why-b", "why", 1), ("risk", "risk", 3))
    chosen = choose_questions(bank, 1, None, 2, "seed")
    assert sorted(q.id for q in chosen) == ["why-a", "why-b"]


@pytest.mark.parametrize("count", [0, 3])
def test_count_outside_one_or_two_is_rejected(count: int) -> None:
    with pytest.raises(ValueError, match=r"count must be 1\.\.2"):
        choose_questions(DEFAULT_BANK, 1, None, count, "seed")
