"""'undo' puts back what the last consequential reply changed (jobs/replyeffect.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from jobs.cadence import CadenceProfile
from jobs.events import ReplyReceived
from jobs.replyeffect import NOTICE_UNDO, NOTICE_UNDONE, ReplyOutcome, apply_reply
from jobs.state import Client, Status
from tests.helpers.state import ANA, C1, commitment

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
DUE = C1.due_date


def _reply(n: int, **fields: Any) -> ReplyReceived:
    return ReplyReceived(
        version=1,
        event_id=f"r{n}",
        occurred_at=NOW + timedelta(minutes=n),
        type="reply.received",
        commitment_id="c1",
        kind="reply",
        **fields,
    )


def _then_undo(first: ReplyReceived, client: Client | None = None) -> ReplyOutcome:
    profile = CadenceProfile()
    client = client or ANA
    after = apply_reply(first, commitment(), client, profile)
    return apply_reply(_reply(9, intent="undo"), after.commitment, after.client, profile)


def test_undo_after_done_makes_the_commitment_active_again() -> None:
    undone = _then_undo(_reply(1, intent="done"))
    assert (undone.commitment.status, undone.commitment.completed_at) == (Status.ACTIVE, None)
    assert undone.notice == NOTICE_UNDONE


def test_undo_after_a_new_date_restores_the_old_one() -> None:
    undone = _then_undo(_reply(1, intent="reschedule", new_due=date(2026, 12, 18)))
    assert undone.commitment.due_date == DUE
    assert undone.commitment.renegotiations == 0
    # The confirmation now says the change was put back, not the misread date.
    assert (undone.commitment.pending_ack, undone.commitment.ack_for) == (True, "undo")


def test_undo_after_stop_opts_the_client_back_in() -> None:
    undone = _then_undo(_reply(1, intent="stop"))
    assert undone.client.opted_out is False


def test_undo_after_a_pause_restores_the_earlier_pause() -> None:
    client = replace(ANA, paused_until=date(2026, 12, 3))
    undone = _then_undo(_reply(1, intent="note", pause_until=date(2027, 1, 14)), client)
    assert undone.client.paused_until == date(2026, 12, 3)


def test_undo_with_nothing_to_undo_asks_the_coach() -> None:
    undone = _then_undo(_reply(1, intent="note"))
    assert undone.notice == NOTICE_UNDO
    assert undone.commitment.due_date == DUE


def test_a_second_undo_does_not_undo_twice() -> None:
    profile = CadenceProfile()
    once = _then_undo(_reply(1, intent="reschedule", new_due=date(2026, 12, 18)))
    again = apply_reply(_reply(10, intent="undo"), once.commitment, once.client, profile)
    assert (again.commitment.due_date, again.notice) == (DUE, NOTICE_UNDO)
