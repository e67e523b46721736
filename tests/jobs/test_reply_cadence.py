"""A reply asking for another rhythm sets the client's own cadence (jobs/replyeffect.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from jobs.cadence import CadenceProfile
from jobs.cadencewords import say_cadence
from jobs.clientcadence import CadenceRequest
from jobs.commitment import next_step
from jobs.composer import Composer
from jobs.events import ReplyReceived
from jobs.replyeffect import CADENCE_PARTLY, apply_reply
from jobs.step import StepKind
from tests.helpers.state import ANA, commitment

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
FRIDAY = 4
FRIDAY_MORNINGS = CadenceRequest(days=(FRIDAY,), part="morning")


def _reply(n: int, **fields: Any) -> ReplyReceived:
    fields.setdefault("intent", "note")
    return ReplyReceived(
        version=1, event_id=f"r{n}", occurred_at=NOW + timedelta(minutes=n),
        type="reply.received", commitment_id="c1", kind="reply", **fields,
    )  # fmt: skip


def test_a_cadence_request_is_stored_on_the_client_and_confirmed_with_an_undo() -> None:
    outcome = apply_reply(_reply(1, cadence=FRIDAY_MORNINGS), commitment(), ANA, CadenceProfile())
    assert CadenceRequest.from_text(outcome.client.cadence) == FRIDAY_MORNINGS
    assert (outcome.commitment.pending_ack, outcome.commitment.ack_for) == (True, "cadence")
    assert outcome.commitment.undo == "cadence:"
    assert outcome.notice is None  # the coach reads it in the digest, not as an alarm


def test_a_later_request_adds_to_the_earlier_one_and_undo_puts_the_earlier_back() -> None:
    profile = CadenceProfile()
    first = apply_reply(_reply(1, cadence=FRIDAY_MORNINGS), commitment(), ANA, profile)
    later = CadenceRequest(not_before=time(10))
    second = apply_reply(_reply(2, cadence=later), first.commitment, first.client, profile)
    assert CadenceRequest.from_text(second.client.cadence) == FRIDAY_MORNINGS.merged(later)
    undone = apply_reply(_reply(3, intent="undo"), second.commitment, second.client, profile)
    assert undone.client.cadence == first.client.cadence


def test_what_the_profile_does_not_allow_is_left_and_the_confirmation_says_partly() -> None:
    asked = CadenceRequest(days=(FRIDAY,), weekends=True)
    outcome = apply_reply(_reply(1, cadence=asked), commitment(), ANA, CadenceProfile())
    assert CadenceRequest.from_text(outcome.client.cadence) == CadenceRequest(days=(FRIDAY,))
    assert outcome.commitment.ack_for == CADENCE_PARTLY


def test_a_request_the_profile_allows_nothing_of_changes_nothing() -> None:
    fixed = CadenceProfile(client_may_change=())
    outcome = apply_reply(_reply(1, cadence=FRIDAY_MORNINGS), commitment(), ANA, fixed)
    assert (outcome.client.cadence, outcome.commitment.pending_ack) == ("", False)


def test_the_next_prompt_after_the_confirmation_is_on_a_friday_morning() -> None:
    client = replace(ANA, cadence=FRIDAY_MORNINGS.to_text())
    step = next_step(commitment(), client, CadenceProfile(), NOW)
    assert step is not None and step.kind is not StepKind.ACK
    assert step.fire_at_local.weekday() == FRIDAY
    assert time(8) <= step.fire_at_local.time() < time(12)


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "on Fridays, in the morning, not before 10:00"),
        ("de", "freitags, vormittags, nicht vor 10:00"),
        ("fr", "le vendredi, le matin, pas avant 10:00"),
        ("es", "los viernes, por la mañana, no antes de las 10:00"),
        ("pt", "às sextas, de manhã, não antes das 10:00"),
    ],
)
def test_the_cadence_is_said_in_the_clients_language(lang: str, said: str) -> None:
    asked = FRIDAY_MORNINGS.merged(CadenceRequest(not_before=time(10)))
    assert say_cadence(asked, lang) == said


@pytest.mark.parametrize(
    ("understood", "line"),
    [
        ("cadence", "Got it: from now on I’ll write on Fridays, in the morning."),
        (CADENCE_PARTLY, "in the morning. The rest stays as your coach set it."),
    ],
)
def test_the_confirmation_says_the_cadence_in_one_line(understood: str, line: str) -> None:
    context = {
        "client_name": "Ana", "coach_name": "Maria", "firm_name": "Northstar", "action": "x",
        "due_date": "", "pause_until": "", "lang": "en", "understood": understood,
        "cadence": say_cadence(FRIDAY_MORNINGS, "en"),
    }  # fmt: skip
    rendered = Composer().render(StepKind.ACK, context)
    assert line in rendered.text
    assert line.replace("’", "&#8217;") in rendered.html or line in rendered.html
