"""jobs.replyeffect: what a reply, an auto-reply or a bounce does to a commitment, its client,
and what the coach hears at once.

C1 is due Thursday 3 December 2026 (Madrid); CadenceProfile()'s ladder for it fires
reminder-2d Tue 1 Dec, overdue-1d Fri 4, overdue-4d Mon 7 and overdue-9d Mon 14, at 08:00 UTC.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from jobs.cadence import CadenceProfile
from jobs.events import ReplyReceived
from jobs.replyeffect import (
    NOTICE_BLOCKED,
    NOTICE_BOUNCE,
    NOTICE_STOP,
    ReplyOutcome,
    apply_reply,
)
from jobs.state import Commitment, Status
from tests.helpers.events import changed
from tests.helpers.state import ANA, client, commitment

PROFILE = CadenceProfile()
# Tuesday 8 December, 10:00 in Madrid: overdue-1d and overdue-4d have gone out.
AFTER_TWO_PROMPTS = datetime(2026, 12, 8, 9, tzinfo=UTC)
# A coach notice is counted on the client (at most replyeffect.NOTICES_PER_DAY a day).
NOTICED = {"notice_day": "2026-12-08", "notices": 1}
# Monday 30 November, 10:00 in Madrid: nothing of the ladder is due yet.
BEFORE_ANY_STEP = datetime(2026, 11, 30, 9, tzinfo=UTC)
# Ana after two unanswered overdue prompts, the second one a few hours old.
PROMPTED = commitment(last_sent="overdue-4d", sent_count=3, unanswered=2, version=5)
NEW_DUE = date(2026, 12, 18)


def reply(intent: str, at: datetime = AFTER_TWO_PROMPTS, **fields: Any) -> ReplyReceived:
    return ReplyReceived.model_validate(
        changed("reply.received", "r1", at, kind="reply", intent=intent, text="...", **fields)
    )


def auto_reply(**fields: Any) -> ReplyReceived:
    return ReplyReceived.model_validate(
        changed("reply.received", "r1", AFTER_TWO_PROMPTS, kind="auto_reply", **fields)
    )


def bounce(*, permanent: bool) -> ReplyReceived:
    return ReplyReceived.model_validate(
        changed(
            "reply.received", "r1", AFTER_TWO_PROMPTS, kind="bounce", bounce_permanent=permanent
        )
    )


def answered(current: Commitment = PROMPTED, **changes: Any) -> Commitment:
    """`current` as any reply leaves it: one more reply, nothing unanswered, caught up."""
    fields = {"replies": current.replies + 1, "unanswered": 0, "last_sent": "overdue-4d"}
    return replace(current, **(fields | changes))


# --- bounces and auto-replies -------------------------------------------------------------


def test_a_permanent_bounce_marks_the_address_failing_and_tells_the_coach() -> None:
    outcome = apply_reply(bounce(permanent=True), PROMPTED, ANA, PROFILE)

    assert outcome == ReplyOutcome(PROMPTED, client(email_failing=True, **NOTICED), NOTICE_BOUNCE)


def test_a_temporary_bounce_only_counts_a_refusal_and_tells_no_one() -> None:
    outcome = apply_reply(bounce(permanent=False), PROMPTED, ANA, PROFILE)

    assert outcome == ReplyOutcome(PROMPTED, client(refusals=1), None)


def test_an_auto_reply_is_no_answer_and_changes_nothing() -> None:
    outcome = apply_reply(auto_reply(), PROMPTED, ANA, PROFILE)

    assert outcome == ReplyOutcome(PROMPTED, ANA, None)


def test_an_out_of_office_with_a_return_date_pauses_the_client_and_only_that() -> None:
    outcome = apply_reply(auto_reply(pause_until="2026-12-14"), PROMPTED, ANA, PROFILE)

    assert outcome == ReplyOutcome(PROMPTED, client(paused_until=date(2026, 12, 14)), None)


# --- what every reply does ----------------------------------------------------------------


def test_a_reply_counts_and_clears_the_unanswered_prompts() -> None:
    outcome = apply_reply(reply("note"), PROMPTED, ANA, PROFILE)

    assert (outcome.commitment.replies, outcome.commitment.unanswered) == (1, 0)


def test_after_a_reply_prompts_resume_after_the_latest_step_already_due() -> None:
    behind = replace(PROMPTED, last_sent="overdue-1d")  # overdue-4d is due but not yet sent

    outcome = apply_reply(reply("note"), behind, ANA, PROFILE)

    assert outcome.commitment.last_sent == "overdue-4d"  # no catch-up of what was answered


def test_a_step_due_at_the_very_moment_of_the_reply_counts_as_caught_up() -> None:
    behind = replace(PROMPTED, last_sent="overdue-1d")
    overdue_4_at = datetime(2026, 12, 7, 8, tzinfo=UTC)

    outcome = apply_reply(reply("note", at=overdue_4_at), behind, ANA, PROFILE)

    assert outcome.commitment.last_sent == "overdue-4d"


def test_a_reply_before_any_step_is_due_leaves_the_ladder_where_it_was() -> None:
    early = commitment(last_sent="")

    outcome = apply_reply(reply("note", at=BEFORE_ANY_STEP), early, ANA, PROFILE)

    assert outcome.commitment.last_sent == ""


def test_a_reply_wakes_a_quiet_commitment() -> None:
    quiet = replace(PROMPTED, status=Status.QUIET, unanswered=3)

    outcome = apply_reply(reply("note"), quiet, ANA, PROFILE)

    assert outcome.commitment == answered(quiet, status=Status.ACTIVE)


@pytest.mark.parametrize("status", [Status.COMPLETED, Status.CANCELLED])
@pytest.mark.parametrize("intent", ["blocked", "stop", "note"])
def test_a_reply_on_a_closed_commitment_is_kept_and_changes_nothing_else(
    status: Status, intent: str
) -> None:
    closed = replace(PROMPTED, status=status)

    outcome = apply_reply(reply(intent), closed, ANA, PROFILE)

    assert outcome == ReplyOutcome(answered(closed), ANA, None)


def test_a_reply_asking_for_a_pause_pauses_the_client_and_still_acts_on_its_intent() -> None:
    outcome = apply_reply(reply("blocked", pause_until="2026-12-14"), PROMPTED, ANA, PROFILE)

    paused = answered(blocked=True, pending_ack=True, ack_for="pause", undo="pause:")
    paused_client = client(paused_until=date(2026, 12, 14), **NOTICED)
    assert outcome == ReplyOutcome(paused, paused_client, NOTICE_BLOCKED)


# --- intents ------------------------------------------------------------------------------


def test_done_completes_the_commitment_and_lifts_a_block() -> None:
    blocked = replace(PROMPTED, blocked=True)

    outcome = apply_reply(reply("done"), blocked, ANA, PROFILE)

    done = answered(blocked, status=Status.COMPLETED, completed_at=AFTER_TWO_PROMPTS, blocked=False)
    confirming = replace(done, pending_ack=True, ack_for="done", undo="done")
    assert outcome == ReplyOutcome(confirming, ANA, None)


def test_reschedule_moves_the_date_starts_a_new_plan_and_asks_for_an_ack() -> None:
    blocked = replace(PROMPTED, blocked=True, renegotiations=1, plan_gen=2)

    outcome = apply_reply(reply("reschedule", new_due=NEW_DUE.isoformat()), blocked, ANA, PROFILE)

    moved = answered(
        blocked,
        due_date=NEW_DUE,
        plan_gen=3,
        last_sent="",
        renegotiations=2,
        pending_ack=True,
        blocked=False,
        ack_for="due",
        undo=f"due:{PROMPTED.due_date.isoformat()}",
    )
    assert outcome == ReplyOutcome(moved, ANA, None)


def test_blocked_pauses_the_prompts_and_tells_the_coach_at_once() -> None:
    outcome = apply_reply(reply("blocked"), PROMPTED, ANA, PROFILE)

    assert outcome == ReplyOutcome(answered(blocked=True), client(**NOTICED), NOTICE_BLOCKED)


def test_stop_opts_the_client_out_and_tells_the_coach_at_once() -> None:
    outcome = apply_reply(reply("stop"), PROMPTED, ANA, PROFILE)

    confirming = answered(pending_ack=True, ack_for="stop", undo="stop")
    assert outcome == ReplyOutcome(confirming, client(opted_out=True, **NOTICED), NOTICE_STOP)


def test_a_note_lifts_a_block_and_waits_for_the_digest() -> None:
    blocked = replace(PROMPTED, blocked=True)

    outcome = apply_reply(reply("note"), blocked, ANA, PROFILE)

    assert outcome == ReplyOutcome(answered(blocked, blocked=False), ANA, None)


def test_a_second_blocked_reply_counts_again_so_it_gets_its_own_answer() -> None:
    once = apply_reply(reply("blocked"), PROMPTED, ANA, PROFILE).commitment

    twice = apply_reply(reply("blocked"), replace(once, last_sent="blocked-1"), ANA, PROFILE)

    assert (once.replies, twice.commitment.replies) == (1, 2)
    assert twice.commitment.blocked is True
