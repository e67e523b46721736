"""jobs.retrystep: when an operator's retry of a failed step is refused, and what it schedules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jobs.retrystep import UNKNOWN_NEEDS_FORCE, retried, retry_refusal
from jobs.state import Status
from jobs.step import StepKind
from tests.helpers.state import client, commitment

TUESDAY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # before C1's due date (Thursday 3 Dec)
FRIDAY = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
FAILED_REMINDER = commitment(last_sent="reminder-2d", next_step="overdue-1d", version=3)


def test_a_failed_step_nothing_has_overtaken_may_be_retried() -> None:
    found = (FAILED_REMINDER, client())
    assert retry_refusal("reminder-2d", 1, "failed", found, TUESDAY) is None


def test_an_unknown_outcome_is_refused_without_force_and_says_why() -> None:
    found = (FAILED_REMINDER, client())
    assert retry_refusal("reminder-2d", 1, "unknown", found, TUESDAY) == UNKNOWN_NEEDS_FORCE
    assert "may have it" in UNKNOWN_NEEDS_FORCE
    assert retry_refusal("reminder-2d", 1, "unknown", found, TUESDAY, force=True) is None


@pytest.mark.parametrize(
    ("ledger", "refusal"),
    [
        (None, "the send ledger no longer holds it (it keeps an outcome 14 days)"),
        ("sent", "it has been sent since"),
        ("claimed", "it is being sent right now"),
        ("committing", "it is being sent right now"),
    ],
)
def test_what_the_ledger_holds_can_refuse_a_retry(ledger: str | None, refusal: str) -> None:
    found = (FAILED_REMINDER, client())
    assert retry_refusal("reminder-2d", 1, ledger, found, TUESDAY, force=True) == refusal


@pytest.mark.parametrize(
    ("changes", "client_changes", "now", "refusal"),
    [
        (
            {"plan_gen": 2},
            {},
            TUESDAY,
            "its commitment was planned again since (a new due date): that plan's emails follow",
        ),
        (
            {"last_sent": "overdue-1d"},
            {},
            FRIDAY,
            "a later step (overdue-1d) has been sent or tried since",
        ),
        (
            {},
            {"email_failing": True},
            TUESDAY,
            "emails to this client stopped after a hard bounce; a new address resumes them",
        ),
        ({}, {"opted_out": True}, TUESDAY, "the client has opted out"),
        ({"status": Status.COMPLETED}, {}, TUESDAY, "the commitment is completed now"),
        ({}, {}, FRIDAY, "its due date has passed: the overdue prompts follow as planned"),
    ],
)
def test_a_retry_that_would_be_wrong_for_the_client_is_refused_with_the_reason(
    changes: dict[str, object], client_changes: dict[str, object], now: datetime, refusal: str
) -> None:
    state = commitment(**{"last_sent": "reminder-2d", **changes})
    found = (state, client(**client_changes))
    assert retry_refusal("reminder-2d", 1, "failed", found, now) == refusal


def test_a_gone_commitment_and_an_unknown_step_name_are_refused() -> None:
    assert retry_refusal("reminder-2d", 1, "failed", None, TUESDAY) == (
        "its commitment or client is gone (erased?)"
    )
    found = (commitment(last_sent="nudge-3"), client())
    assert (
        retry_refusal("nudge-3", 1, "failed", found, TUESDAY) == "'nudge-3' is no step coachd knows"
    )


def test_the_confirmation_of_a_stop_may_be_retried_for_an_opted_out_client() -> None:
    found = (commitment(last_sent="ack", status=Status.ACTIVE), client(opted_out=True))
    assert retry_refusal("ack", 1, "failed", found, TUESDAY) is None


def test_a_retry_schedules_the_step_again_due_now_in_a_new_version() -> None:
    transition = retried(FAILED_REMINDER, client(), "reminder-2d", TUESDAY)

    assert transition.previous_version == 3
    assert transition.commitment.version == 4
    assert (transition.commitment.next_step, transition.commitment.next_at) == (
        "reminder-2d",
        TUESDAY,
    )
    assert transition.step is not None
    assert (transition.step.kind, transition.step.fire_at) == (StepKind.REMINDER, TUESDAY)
    assert transition.step.fire_at_local.utcoffset() is not None
    assert str(transition.step.fire_at_local.tzinfo) == "Europe/Madrid"
