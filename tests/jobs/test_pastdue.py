"""Tests for due dates in the past (issue 15 item 10): refused when long past unless
deliberate, a light first contact however overdue, and the year shown when it is not now's."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.daynames import LANGUAGES, day_name, due_name
from jobs.events import CommitmentCreated, CommitmentUpdated, EventRejected, parse_event
from jobs.pastdue import MAX_PAST_DUE_DAYS
from jobs.questions import DEFAULT_BANK, choose_questions

# 08:00 in Madrid on Monday 30 November 2026.
OCCURRED = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


def created(due: str, **extra: Any) -> bytes:
    event = {
        "version": 1,
        "event_id": "e1",
        "occurred_at": OCCURRED.isoformat(),
        "type": "commitment.created",
        "commitment_id": "c1",
        "coach_id": "maria",
        "client": {
            "client_id": "ana",
            "name": "Ana Ruiz",
            "email": "ana@example.org",
            "timezone": "Europe/Madrid",
        },
        "action": "draft the first page",
        "due_date": due,
        **extra,
    }
    return json.dumps(event).encode()


def updated(due: str, **extra: Any) -> bytes:
    event = {
        "version": 1,
        "event_id": "e2",
        "occurred_at": OCCURRED.isoformat(),
        "type": "commitment.updated",
        "commitment_id": "c1",
        "due_date": due,
        **extra,
    }
    return json.dumps(event).encode()


def test_a_due_date_the_limit_in_the_past_is_accepted() -> None:
    event = parse_event(created("2026-10-31"))  # 30 days before 30 November
    assert isinstance(event, CommitmentCreated)
    assert (OCCURRED.date() - event.due_date).days == MAX_PAST_DUE_DAYS


def test_a_due_date_further_in_the_past_is_refused_with_a_clear_reason() -> None:
    with pytest.raises(EventRejected) as caught:
        parse_event(created("2025-12-03"))  # the year typo'd
    assert "due_date 2025-12-03 is 362 days before the event (more than 30" in caught.value.reason
    assert "past_due_ok: true if it is deliberate" in caught.value.reason


def test_a_deliberate_past_due_date_is_accepted() -> None:
    event = parse_event(created("2025-12-03", past_due_ok=True))
    assert isinstance(event, CommitmentCreated)
    assert event.past_due_ok is True


def test_an_update_to_a_long_past_date_is_refused_unless_deliberate() -> None:
    with pytest.raises(EventRejected, match="due_date 2026-09-01 is 90 days before"):
        parse_event(updated("2026-09-01"))
    assert isinstance(parse_event(updated("2026-09-01", past_due_ok=True)), CommitmentUpdated)


def test_past_due_ok_must_be_a_boolean() -> None:
    with pytest.raises(EventRejected, match="past_due_ok"):
        parse_event(created("2026-12-03", past_due_ok="yes please"))


def test_the_past_is_counted_in_the_clients_zone() -> None:
    """23:30 UTC on 30 November is already 1 December in Madrid: 31 days past, refused."""
    late = created("2026-10-31").replace(
        OCCURRED.isoformat().encode(),
        datetime(2026, 11, 30, 23, 30, tzinfo=UTC).isoformat().encode(),
    )
    with pytest.raises(EventRejected, match="is 31 days before the event"):
        parse_event(late)


@given(
    overdue_days=st.integers(min_value=1, max_value=400),
    count=st.sampled_from([1, 2]),
    seed=st.text(max_size=20),
)
def test_first_contact_asks_only_light_questions_a_partnering_one_first(
    overdue_days: int, count: int, seed: str
) -> None:
    chosen = choose_questions(DEFAULT_BANK, overdue_days, None, count, seed, first_contact=True)
    assert [q.depth for q in chosen] == [1] * count
    assert chosen[0].reason == "partnering"


def test_later_contact_still_deepens_with_the_days_overdue() -> None:
    [question] = choose_questions(DEFAULT_BANK, 30, None, 1, "seed")
    assert question.depth == 3


def test_a_due_date_in_another_year_shows_its_year() -> None:
    today = date(2026, 11, 30)
    assert due_name(date(2025, 12, 3), today) == "Wednesday 3 December 2025"
    assert due_name(date(2027, 1, 4), today) == "Monday 4 January 2027"
    assert due_name(date(2026, 12, 3), today) == "Thursday 3 December"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "Wednesday 3 December 2025"),
        ("de", "Mittwoch, 3. Dezember 2025"),
        ("fr", "mercredi 3 décembre 2025"),
        ("es", "miércoles 3 de diciembre de 2025"),
        ("pt", "quarta-feira, 3 de dezembro de 2025"),
    ],
)
def test_the_year_is_written_the_way_each_language_writes_it(lang: str, expected: str) -> None:
    assert day_name(date(2025, 12, 3), lang, with_year=True) == expected


def test_every_language_has_a_way_to_write_the_year() -> None:
    for lang in LANGUAGES:
        assert day_name(date(2025, 12, 3), lang, with_year=True).endswith("2025")
