"""When a reading is unsure, or a bounce is only a refusal, the reply takes the path that
cannot hurt the client (jobs/replyeffect.py's CONFIDENT policy and bounce classes)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from jobs.cadence import CadenceProfile
from jobs.events import ReplyReceived
from jobs.replyeffect import (
    CONFIDENT,
    NOTICE_BLOCKED,
    NOTICE_BOUNCE,
    NOTICE_COMPLAINT,
    NOTICE_MAYBE_BLOCKED,
    NOTICE_MAYBE_STOP,
    NOTICE_REFUSED,
    NOTICE_STOP,
    NOTICE_UNDO,
    NOTICES_PER_DAY,
    REFUSALS_BEFORE_NOTICE,
    UNSURE_STOP_PAUSE_DAYS,
    apply_reply,
)
from jobs.state import Client, Commitment, Status
from tests.helpers.state import ANA, C1, client, commitment

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
UNSURE = CONFIDENT - 0.2
SURE = 0.95


def _reply(**fields: Any) -> ReplyReceived:
    return ReplyReceived(
        version=1,
        event_id="r1",
        occurred_at=NOW,
        type="reply.received",
        commitment_id="c1",
        **({"kind": "reply"} | fields),
    )


def _apply(event: ReplyReceived) -> tuple[Commitment, Client, str | None]:
    outcome = apply_reply(event, commitment(), client(), CadenceProfile())
    return outcome.commitment, outcome.client, outcome.notice


def test_a_sure_stop_opts_out_and_tells_the_coach() -> None:
    _, client, notice = _apply(_reply(intent="stop", confidence=SURE))
    assert (client.opted_out, notice) == (True, NOTICE_STOP)


def test_an_unsure_stop_pauses_every_email_and_asks_the_coach_to_confirm() -> None:
    _, client, notice = _apply(_reply(intent="stop", confidence=UNSURE))
    assert client.opted_out is False
    assert client.paused_until == date(2026, 12, 2 + UNSURE_STOP_PAUSE_DAYS)
    assert notice == NOTICE_MAYBE_STOP


def test_an_unsure_done_does_not_complete_thecommitment() -> None:
    commitment, _, notice = _apply(_reply(intent="done", confidence=UNSURE))
    assert (commitment.status, notice) == (Status.ACTIVE, None)
    assert commitment.replies == 1  # it still counts as an answer


def test_a_sure_done_completes_it() -> None:
    commitment, _, _ = _apply(_reply(intent="done", confidence=SURE))
    assert commitment.status is Status.COMPLETED


def test_an_unsure_new_date_leaves_the_due_date() -> None:
    event = _reply(intent="reschedule", new_due=date(2026, 12, 20), confidence=UNSURE)
    commitment, _, _ = _apply(event)
    assert commitment.due_date == C1.due_date


@pytest.mark.parametrize(
    ("confidence", "blocked", "notice"),
    [(SURE, True, NOTICE_BLOCKED), (UNSURE, False, NOTICE_MAYBE_BLOCKED)],
)
def test_blocked_always_reaches_the_coach_at_once(
    confidence: float, blocked: bool, notice: str
) -> None:
    commitment, _, told = _apply(_reply(intent="blocked", confidence=confidence))
    assert (commitment.blocked, told) == (blocked, notice)


def test_undo_tells_the_coach_and_changes_nothing() -> None:
    commitment, client, notice = _apply(_reply(intent="undo", confidence=SURE))
    assert (commitment.status, client.opted_out, notice) == (Status.ACTIVE, False, NOTICE_UNDO)


@pytest.mark.parametrize(
    ("bounce_class", "failing", "opted_out", "notice"),
    [
        ("gone", True, False, NOTICE_BOUNCE),
        ("refused", False, False, None),
        ("complaint", False, True, NOTICE_COMPLAINT),
    ],
)
def test_only_a_gone_address_marks_it_failing(
    bounce_class: str, failing: bool, opted_out: bool, notice: str | None
) -> None:
    event = _reply(kind="bounce", bounce_class=bounce_class, bounce_permanent=True)
    _, client, told = _apply(event)
    assert (client.email_failing, client.opted_out, told) == (failing, opted_out, notice)


def test_a_permanent_bounce_without_a_class_still_counts_as_gone() -> None:
    """Events from before bounce classes (bounce_permanent only) keep their meaning."""
    _, client, notice = _apply(_reply(kind="bounce", bounce_permanent=True))
    assert (client.email_failing, notice) == (True, NOTICE_BOUNCE)


def test_refusals_in_a_row_reach_the_coach_and_a_reply_resets_them() -> None:
    profile, current, who = CadenceProfile(), C1, ANA
    notices: list[str | None] = []
    for _ in range(REFUSALS_BEFORE_NOTICE):
        outcome = apply_reply(_reply(kind="bounce", bounce_class="refused"), current, who, profile)
        who, notices = outcome.client, [*notices, outcome.notice]
    assert notices == [None] * (REFUSALS_BEFORE_NOTICE - 1) + [NOTICE_REFUSED]
    assert who.email_failing is False  # the address still works
    answered = apply_reply(_reply(intent="note"), current, who, profile)
    assert answered.client.refusals == 0


def test_coach_notices_are_capped_per_client_day() -> None:
    profile, current, who = CadenceProfile(), C1, ANA
    notices: list[str | None] = []
    for _ in range(NOTICES_PER_DAY + 2):
        outcome = apply_reply(_reply(intent="blocked", confidence=SURE), current, who, profile)
        current, who, notices = outcome.commitment, outcome.client, [*notices, outcome.notice]
    assert notices == [NOTICE_BLOCKED] * NOTICES_PER_DAY + [None, None]
