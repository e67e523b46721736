"""jobs.commitment: how events and sent steps move a commitment and its client, and which one
step is scheduled next.

The ladder under test is CadenceProfile()'s for C1 (due Thursday 3 December 2026, Madrid,
UTC+1): reminder-2d Tue 1 Dec, overdue-1d Fri 4, overdue-4d Mon 7, overdue-9d Mon 14 (Sat 12
moved to Monday), each at 09:00 local, 08:00 UTC.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jobs.cadence import CadenceProfile
from jobs.commitment import (
    change_commitment,
    create_commitment,
    next_step,
    record_sent,
    replan,
    scheduled_step,
    update_client,
)
from jobs.events import (
    ClientUpdated,
    CommitmentCancelled,
    CommitmentCompleted,
    CommitmentCreated,
    CommitmentUpdated,
    EventRejected,
)
from jobs.state import Client, Commitment, Status
from jobs.step import PlannedStep, StepKind, step_from_name
from tests.helpers.events import changed, created
from tests.helpers.firm import START
from tests.helpers.state import ANA, client, commitment

PROFILE = CadenceProfile()
MADRID = ZoneInfo("Europe/Madrid")
REMINDER_AT = datetime(2026, 12, 1, 8, tzinfo=UTC)
OVERDUE_1_AT = datetime(2026, 12, 4, 8, tzinfo=UTC)
OVERDUE_4_AT = datetime(2026, 12, 7, 8, tzinfo=UTC)
OVERDUE_9_AT = datetime(2026, 12, 14, 8, tzinfo=UTC)
# Tuesday 1 December, 10:00 in Madrid: inside the send window, after the reminder.
TUESDAY_10 = datetime(2026, 12, 1, 9, tzinfo=UTC)
# Thursday 10 December, 23:00 in Madrid: outside the send window.
THURSDAY_NIGHT = datetime(2026, 12, 10, 22, tzinfo=UTC)
# Friday 11 December, 08:00 in Madrid: the window's start after THURSDAY_NIGHT.
FRIDAY_WINDOW_START = datetime(2026, 12, 11, 7, tzinfo=UTC)


def step(name: str, kind: StepKind, fire_at: datetime, offset_days: int = 0) -> PlannedStep:
    return PlannedStep(name, kind, fire_at, fire_at.astimezone(MADRID), offset_days)


def new_commitment(at: datetime = START, **fields: Any) -> CommitmentCreated:
    return CommitmentCreated.model_validate(created(at=at, **fields))


def update(at: datetime, **fields: Any) -> CommitmentUpdated:
    return CommitmentUpdated.model_validate(changed("commitment.updated", "e2", at, **fields))


def completion(at: datetime) -> CommitmentCompleted:
    return CommitmentCompleted.model_validate(changed("commitment.completed", "e2", at))


def cancellation(at: datetime) -> CommitmentCancelled:
    return CommitmentCancelled.model_validate(changed("commitment.cancelled", "e2", at))


def client_updated(at: datetime, **fields: Any) -> ClientUpdated:
    return ClientUpdated.model_validate(
        {
            "version": 1,
            "event_id": "u1",
            "occurred_at": at.isoformat(),
            "type": "client.updated",
            "client_id": "ana",
            **fields,
        }
    )


def scheduled(c: Commitment) -> tuple[str, datetime | None]:
    return (c.next_step, c.next_at)


# --- create_commitment -------------------------------------------------------------------


def test_a_new_commitment_keeps_the_events_words_and_schedules_its_first_reminder() -> None:
    transition = create_commitment(new_commitment(), ANA, "default", PROFILE, "t1")

    assert transition.commitment == commitment(
        version=1, next_step="reminder-2d", next_at=REMINDER_AT
    )
    assert transition.previous_version is None  # nothing was scheduled before
    assert transition.step == step("reminder-2d", StepKind.REMINDER, REMINDER_AT, -2)


def test_a_commitment_created_long_overdue_gets_one_prompt_now_not_every_missed_one() -> None:
    now = datetime(2026, 12, 10, 9, tzinfo=UTC)  # Thursday 10:00 Madrid: overdue-1d and -4d passed

    transition = create_commitment(new_commitment(at=now), ANA, "default", PROFILE, "t1")

    assert transition.step == step("overdue-4d", StepKind.OVERDUE, now, 4)


@pytest.mark.parametrize(
    "unreachable",
    [client(opted_out=True), client(email_failing=True)],
    ids=["opted-out", "email-failing"],
)
def test_a_new_commitment_for_an_opted_out_or_bouncing_client_schedules_nothing(
    unreachable: Client,
) -> None:
    transition = create_commitment(new_commitment(), unreachable, "default", PROFILE, "t1")

    assert transition.step is None
    assert scheduled(transition.commitment) == ("", None)
    assert transition.commitment.status is Status.ACTIVE  # kept, just not emailed


# --- replan and scheduled_step ------------------------------------------------------------


def test_replan_bumps_the_version_and_names_the_version_it_supersedes() -> None:
    current = commitment(version=7, next_step="reminder-2d", next_at=REMINDER_AT)

    transition = replan(current, ANA, PROFILE, START)

    assert (transition.previous_version, transition.commitment.version) == (7, 8)
    assert scheduled(transition.commitment) == ("reminder-2d", REMINDER_AT)


def test_replanning_twice_gives_two_versions_so_the_first_job_never_fires() -> None:
    first = replan(commitment(version=3), ANA, PROFILE, START)
    second = replan(first.commitment, ANA, PROFILE, START)

    assert [first.commitment.version, second.previous_version, second.commitment.version] == [
        4,
        4,
        5,
    ]


def test_scheduled_step_rebuilds_the_recorded_step_in_the_clients_zone() -> None:
    current = commitment(next_step="overdue-4d", next_at=OVERDUE_4_AT)

    assert scheduled_step(current, MADRID) == step("overdue-4d", StepKind.OVERDUE, OVERDUE_4_AT, 4)


@pytest.mark.parametrize(
    "fields", [{"next_step": "", "next_at": OVERDUE_4_AT}, {"next_step": "overdue-4d"}]
)
def test_scheduled_step_is_none_without_both_a_step_and_a_time(fields: dict[str, Any]) -> None:
    assert scheduled_step(commitment(**fields), MADRID) is None


# --- next_step ----------------------------------------------------------------------------


def test_after_the_reminder_the_next_step_is_the_first_overdue_prompt() -> None:
    sent = commitment(last_sent="reminder-2d")

    assert next_step(sent, ANA, PROFILE, TUESDAY_10) == step(
        "overdue-1d", StepKind.OVERDUE, OVERDUE_1_AT, 1
    )


def test_after_the_last_prompt_nothing_more_is_scheduled() -> None:
    assert next_step(commitment(last_sent="overdue-9d"), ANA, PROFILE, OVERDUE_9_AT) is None


@pytest.mark.parametrize("status", [Status.CANCELLED, Status.QUIET])
def test_a_cancelled_or_quiet_commitment_gets_no_step(status: Status) -> None:
    assert next_step(commitment(status=status), ANA, PROFILE, START) is None


def test_a_completed_commitment_gets_a_reflection_after_the_profiles_hours() -> None:
    done = commitment(status=Status.COMPLETED, completed_at=TUESDAY_10)

    reflection = next_step(done, ANA, PROFILE, TUESDAY_10)

    assert reflection == step("reflection", StepKind.REFLECTION, TUESDAY_10 + timedelta(hours=4))


def test_a_reflection_late_in_the_day_waits_for_the_next_send_window() -> None:
    done = commitment(status=Status.COMPLETED, completed_at=THURSDAY_NIGHT - timedelta(hours=4))

    reflection = next_step(done, ANA, PROFILE, THURSDAY_NIGHT)

    assert reflection is not None
    assert reflection.fire_at == FRIDAY_WINDOW_START


def test_the_reflection_is_sent_once() -> None:
    reflected = commitment(status=Status.COMPLETED, completed_at=TUESDAY_10, last_sent="reflection")

    assert next_step(reflected, ANA, PROFILE, TUESDAY_10) is None


def test_a_completed_commitment_without_a_completion_time_gets_no_reflection() -> None:
    assert next_step(commitment(status=Status.COMPLETED), ANA, PROFILE, TUESDAY_10) is None


def test_no_reflection_goes_to_a_client_who_opted_out() -> None:
    done = commitment(status=Status.COMPLETED, completed_at=TUESDAY_10)

    assert next_step(done, client(opted_out=True), PROFILE, TUESDAY_10) is None


def test_a_new_date_to_confirm_is_acknowledged_at_the_next_allowed_moment() -> None:
    moved = commitment(pending_ack=True, due_date=date(2026, 12, 18))

    ack = next_step(moved, ANA, PROFILE, THURSDAY_NIGHT)

    assert ack == step("ack-0", StepKind.ACK, FRIDAY_WINDOW_START)  # named by the reply count


def test_a_blocked_client_gets_one_answer_named_for_their_reply() -> None:
    blocked = commitment(blocked=True, replies=2, last_sent="reminder-2d")

    answer = next_step(blocked, ANA, PROFILE, TUESDAY_10)

    assert answer == step("blocked-2", StepKind.BLOCKED, TUESDAY_10)


def test_once_a_blocked_client_was_answered_the_ladder_waits_for_them() -> None:
    answered = commitment(blocked=True, replies=2, last_sent="blocked-2")

    assert next_step(answered, ANA, PROFILE, OVERDUE_4_AT) is None


def test_a_new_date_is_acknowledged_before_a_block_is_answered() -> None:
    both = commitment(pending_ack=True, blocked=True, replies=1)

    answer = next_step(both, ANA, PROFILE, TUESDAY_10)

    assert answer is not None
    assert answer.name == "ack-1"


def test_a_client_quiet_for_too_many_prompts_is_handed_to_the_coach_at_once() -> None:
    silent = commitment(unanswered=PROFILE.stop_after_unanswered, last_sent="overdue-9d")

    notice = next_step(silent, ANA, PROFILE, THURSDAY_NIGHT)

    # The send window protects the client's evenings, not the coach's inbox.
    assert notice == step("coach-quiet", StepKind.COACH_QUIET, THURSDAY_NIGHT)


def test_one_prompt_short_of_the_limit_the_ladder_goes_on() -> None:
    almost = commitment(unanswered=PROFILE.stop_after_unanswered - 1, last_sent="overdue-4d")

    assert next_step(almost, ANA, PROFILE, OVERDUE_4_AT) == step(
        "overdue-9d", StepKind.OVERDUE, OVERDUE_9_AT, 9
    )


def test_steps_missed_during_a_pause_collapse_into_one_when_it_ends() -> None:
    away = client(paused_until=date(2026, 12, 10))  # back on Thursday

    first = next_step(commitment(), away, PROFILE, START)

    back = datetime(2026, 12, 10, 8, tzinfo=UTC)  # Thursday 09:00 Madrid, the profile's send_at
    assert first == step("overdue-4d", StepKind.OVERDUE, back, 4)


def test_a_pause_already_over_changes_nothing() -> None:
    back_long_ago = client(paused_until=date(2026, 11, 2))

    assert next_step(commitment(), back_long_ago, PROFILE, START) == next_step(
        commitment(), ANA, PROFILE, START
    )


def test_a_reflection_due_during_a_pause_waits_for_the_first_window_after_it() -> None:
    done = commitment(status=Status.COMPLETED, completed_at=TUESDAY_10)
    away = client(paused_until=date(2026, 12, 5))  # a Saturday: weekdays only, so Monday

    reflection = next_step(done, away, PROFILE, TUESDAY_10)

    monday_window_start = datetime(2026, 12, 7, 7, tzinfo=UTC)  # 08:00 Madrid
    assert reflection == step("reflection", StepKind.REFLECTION, monday_window_start)


# --- change_commitment --------------------------------------------------------------------


def test_a_new_due_date_is_a_new_plan_whose_steps_start_afresh() -> None:
    current = commitment(version=4, last_sent="overdue-1d", unanswered=1, plan_gen=2)

    transition = change_commitment(
        update(OVERDUE_1_AT, due_date="2026-12-18"), current, ANA, PROFILE, OVERDUE_1_AT
    )

    assert transition.commitment == replace(
        current,
        due_date=date(2026, 12, 18),
        plan_gen=3,
        last_sent="",
        unanswered=0,
        updated_at=OVERDUE_1_AT,
        version=5,
        next_step="reminder-2d",
        next_at=datetime(2026, 12, 16, 8, tzinfo=UTC),
    )
    assert transition.previous_version == 4


def test_an_update_that_keeps_the_due_date_keeps_the_plan_and_its_progress() -> None:
    current = commitment(last_sent="overdue-1d", unanswered=1)

    transition = change_commitment(
        update(OVERDUE_1_AT, due_date="2026-12-03", action="draft two pages"),
        current,
        ANA,
        PROFILE,
        OVERDUE_1_AT,
    )

    changed_ = transition.commitment
    assert (changed_.action, changed_.why) == ("draft two pages", current.why)
    assert (changed_.plan_gen, changed_.last_sent, changed_.unanswered) == (1, "overdue-1d", 1)
    assert scheduled(changed_) == ("overdue-4d", OVERDUE_4_AT)


def test_an_update_of_the_why_alone_keeps_the_action() -> None:
    transition = change_commitment(
        update(TUESDAY_10, why="for the kids"), commitment(), ANA, PROFILE, TUESDAY_10
    )

    assert (transition.commitment.action, transition.commitment.why) == (
        commitment().action,
        "for the kids",
    )


def test_a_completion_closes_the_commitment_and_schedules_its_reflection() -> None:
    transition = change_commitment(completion(TUESDAY_10), commitment(), ANA, PROFILE, TUESDAY_10)

    done = transition.commitment
    assert (done.status, done.completed_at, done.updated_at) == (
        Status.COMPLETED,
        TUESDAY_10,
        TUESDAY_10,
    )
    assert scheduled(done) == ("reflection", TUESDAY_10 + timedelta(hours=4))


def test_a_cancellation_closes_the_commitment_and_schedules_nothing() -> None:
    current = commitment(version=2, next_step="reminder-2d", next_at=REMINDER_AT)

    transition = change_commitment(cancellation(START), current, ANA, PROFILE, START)

    assert transition.commitment.status is Status.CANCELLED
    assert transition.step is None
    assert scheduled(transition.commitment) == ("", None)
    assert transition.previous_version == 2  # the reminder's job is superseded


def test_an_event_older_than_the_last_change_is_rejected_as_stale() -> None:
    current = commitment(updated_at=TUESDAY_10)

    with pytest.raises(EventRejected, match="stale event for c1"):
        change_commitment(completion(START), current, ANA, PROFILE, TUESDAY_10)


def test_an_event_as_old_as_the_last_change_is_applied() -> None:
    current = commitment(updated_at=TUESDAY_10)

    transition = change_commitment(completion(TUESDAY_10), current, ANA, PROFILE, TUESDAY_10)

    assert transition.commitment.status is Status.COMPLETED


@pytest.mark.parametrize("status", [Status.COMPLETED, Status.CANCELLED])
def test_a_closed_commitment_takes_no_more_changes(status: Status) -> None:
    closed = commitment(status=status, completed_at=START)

    with pytest.raises(EventRejected, match=f"c1 is already {status}"):
        change_commitment(update(TUESDAY_10, action="more"), closed, ANA, PROFILE, TUESDAY_10)


def test_a_quiet_commitment_can_still_be_completed() -> None:
    quiet = commitment(status=Status.QUIET)

    transition = change_commitment(completion(TUESDAY_10), quiet, ANA, PROFILE, TUESDAY_10)

    assert transition.commitment.status is Status.COMPLETED


def test_a_second_creation_of_the_same_commitment_is_rejected() -> None:
    with pytest.raises(EventRejected, match="c1 already exists"):
        change_commitment(new_commitment(at=TUESDAY_10), commitment(), ANA, PROFILE, TUESDAY_10)


# --- update_client ------------------------------------------------------------------------


def test_a_client_met_first_in_a_client_updated_needs_name_email_and_zone() -> None:
    partial = client_updated(START, name="Ana", email="ana@example.org")

    with pytest.raises(EventRejected, match="unknown client ana"):
        update_client(partial, None)


def test_a_client_met_first_in_a_complete_client_updated_is_created() -> None:
    event = client_updated(
        START, name="Ana Ruiz", email="ana@example.org", timezone="Europe/Madrid"
    )

    assert update_client(event, None) == ANA


def test_a_client_update_changes_what_it_names_and_keeps_the_rest() -> None:
    current = client(last_question="q7", paused_until=date(2026, 12, 9), commitment_ids=("c1",))

    updated = update_client(client_updated(TUESDAY_10, timezone="Atlantic/Canary"), current)

    assert updated == client(
        timezone="Atlantic/Canary",
        last_question="q7",
        paused_until=date(2026, 12, 9),
        commitment_ids=("c1",),
        updated_at=TUESDAY_10,
    )


@pytest.mark.parametrize(
    ("before", "given", "after"), [(False, True, True), (True, False, False), (True, None, True)]
)
def test_opted_out_is_what_the_event_says_and_is_kept_when_it_says_nothing(
    before: bool, given: bool | None, after: bool
) -> None:
    fields = {} if given is None else {"opted_out": given}

    updated = update_client(client_updated(TUESDAY_10, **fields), client(opted_out=before))

    assert updated.opted_out is after


def test_a_new_address_is_tried_again_after_a_hard_bounce() -> None:
    bouncing = client(email_failing=True)

    updated = update_client(client_updated(TUESDAY_10, email="ana@new.example"), bouncing)

    assert (updated.email, updated.email_failing) == ("ana@new.example", False)


@pytest.mark.parametrize("fields", [{}, {"email": "ana@example.org"}], ids=["no-email", "same"])
def test_the_same_address_stays_failing_after_a_hard_bounce(fields: dict[str, str]) -> None:
    updated = update_client(client_updated(TUESDAY_10, **fields), client(email_failing=True))

    assert updated.email_failing is True


def test_a_client_update_older_than_the_last_change_is_rejected_as_stale() -> None:
    with pytest.raises(EventRejected, match="stale event for ana"):
        update_client(client_updated(START, name="Ann"), client(updated_at=TUESDAY_10))


def test_the_same_client_update_applied_twice_gives_the_same_client() -> None:
    event = client_updated(TUESDAY_10, name="Ann", opted_out=True)

    once = update_client(event, ANA)

    assert update_client(event, once) == once


# --- record_sent --------------------------------------------------------------------------


def test_a_sent_reminder_is_counted_and_the_first_prompt_comes_next() -> None:
    current = commitment(version=1, next_step="reminder-2d", next_at=REMINDER_AT)
    reminder = step("reminder-2d", StepKind.REMINDER, REMINDER_AT, -2)

    transition = record_sent(current, ANA, PROFILE, reminder, now=REMINDER_AT)

    sent = transition.commitment
    assert (sent.last_sent, sent.sent_count, sent.unanswered) == ("reminder-2d", 1, 0)
    assert (transition.previous_version, sent.version) == (1, 2)
    assert transition.step == step("overdue-1d", StepKind.OVERDUE, OVERDUE_1_AT, 1)


def test_a_sent_prompt_counts_as_unanswered_until_the_client_replies() -> None:
    current = commitment(last_sent="overdue-1d", sent_count=2, unanswered=1)
    prompt = step("overdue-4d", StepKind.OVERDUE, OVERDUE_4_AT, 4)

    sent = record_sent(current, ANA, PROFILE, prompt, now=OVERDUE_4_AT).commitment

    assert (sent.last_sent, sent.sent_count, sent.unanswered) == ("overdue-4d", 3, 2)


def test_the_prompt_that_reaches_the_limit_hands_the_client_to_the_coach() -> None:
    current = commitment(last_sent="overdue-4d", unanswered=PROFILE.stop_after_unanswered - 1)
    prompt = step("overdue-9d", StepKind.OVERDUE, OVERDUE_9_AT, 9)

    transition = record_sent(current, ANA, PROFILE, prompt, now=OVERDUE_9_AT)

    assert transition.step == step("coach-quiet", StepKind.COACH_QUIET, OVERDUE_9_AT)


def test_once_the_coach_is_told_the_commitment_goes_quiet_and_nothing_follows() -> None:
    current = commitment(last_sent="overdue-9d", sent_count=4, unanswered=3)
    notice = step("coach-quiet", StepKind.COACH_QUIET, OVERDUE_9_AT)

    transition = record_sent(current, ANA, PROFILE, notice, now=OVERDUE_9_AT)

    quiet = transition.commitment
    assert (quiet.status, quiet.sent_count, quiet.last_sent) == (Status.QUIET, 4, "coach-quiet")
    assert transition.step is None


def test_a_sent_ack_clears_the_pending_date_and_the_new_ladder_resumes() -> None:
    moved = commitment(pending_ack=True, due_date=date(2026, 12, 18), plan_gen=2)
    ack = step("ack", StepKind.ACK, TUESDAY_10)

    transition = record_sent(moved, ANA, PROFILE, ack, now=TUESDAY_10)

    assert transition.commitment.pending_ack is False
    assert transition.step == step(
        "reminder-2d", StepKind.REMINDER, datetime(2026, 12, 16, 8, tzinfo=UTC), -2
    )


def test_a_step_other_than_the_ack_leaves_the_new_date_still_to_confirm() -> None:
    moved = commitment(pending_ack=True)
    reminder = step("reminder-2d", StepKind.REMINDER, REMINDER_AT, -2)

    transition = record_sent(moved, ANA, PROFILE, reminder, now=REMINDER_AT)

    assert transition.commitment.pending_ack is True
    assert transition.step is not None
    assert transition.step.name == "ack-0"


def test_a_sent_blocked_answer_leaves_the_ladder_waiting_for_the_client() -> None:
    blocked = commitment(blocked=True, replies=1, last_sent="reminder-2d")
    answer = step("blocked-1", StepKind.BLOCKED, TUESDAY_10)

    transition = record_sent(blocked, ANA, PROFILE, answer, now=TUESDAY_10)

    assert transition.commitment.last_sent == "blocked-1"
    assert transition.step is None


def test_a_sent_reflection_ends_the_commitments_steps() -> None:
    done = commitment(status=Status.COMPLETED, completed_at=TUESDAY_10)
    reflection = step("reflection", StepKind.REFLECTION, TUESDAY_10 + timedelta(hours=4))

    transition = record_sent(done, ANA, PROFILE, reflection, now=reflection.fire_at)

    assert transition.step is None
    assert scheduled(transition.commitment) == ("", None)


def test_a_step_that_failed_for_good_keeps_its_error() -> None:
    reminder = step("reminder-2d", StepKind.REMINDER, REMINDER_AT, -2)

    failed = record_sent(commitment(), ANA, PROFILE, reminder, now=REMINDER_AT, error="550")

    assert failed.commitment.last_error == "550"


def test_a_later_success_keeps_the_last_error_on_record() -> None:
    reminder = step("reminder-2d", StepKind.REMINDER, REMINDER_AT, -2)

    sent = record_sent(commitment(last_error="550"), ANA, PROFILE, reminder, now=REMINDER_AT)

    assert sent.commitment.last_error == "550"


def test_each_reply_gets_a_confirmation_of_its_own_name() -> None:
    first = next_step(commitment(pending_ack=True, replies=1), ANA, PROFILE, TUESDAY_10)
    second = next_step(commitment(pending_ack=True, replies=2), ANA, PROFILE, TUESDAY_10)

    assert first is not None and second is not None
    assert (first.name, second.name) == ("ack-1", "ack-2")


def test_an_earlier_release_s_plain_ack_step_is_still_read() -> None:
    assert step_from_name("ack", TUESDAY_10, TUESDAY_10).kind is StepKind.ACK
    assert step_from_name("ack-12", TUESDAY_10, TUESDAY_10).kind is StepKind.ACK
