"""Metric labels stay a small fixed set: dead-letter reasons map to classes; registries are
per app, so several apps in one process do not collide."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import generate_latest

from daemon.config.models import ConfigLookupError
from daemon.inbound.intake import ReplyRejected
from daemon.metrics import REASON_CLASS_NAMES, Metrics, reason_class
from daemon.store.privacy import ERASED_REASON
from daemon.store.records import require_existing
from jobs.cadence import CadenceProfile
from jobs.commitment import change_commitment, update_client
from jobs.events import MAX_EVENT_BYTES, EventRejected, parse_event
from jobs.state import Status
from tests.helpers.events import changed, created
from tests.helpers.firm import START
from tests.helpers.state import client, commitment

EARLIER = START - timedelta(days=1)
NEW_CLIENT = {
    "version": 1,
    "event_id": "e3",
    "occurred_at": START.isoformat(),
    "type": "client.updated",
    "client_id": "x",
}


def rejected(call: Callable[..., Any], *args: Any) -> str:
    """The reason of the EventRejected that `call(*args)` raises."""
    with pytest.raises(EventRejected) as caught:
        call(*args)
    return caught.value.reason


def event(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


def change(data: dict[str, Any], **current: Any) -> str:
    """Why the event is refused against C1 (with `current` changes) for client Ana."""
    parsed = parse_event(event(data))
    now = START + timedelta(hours=1)
    return rejected(
        change_commitment, parsed, commitment(**current), client(), CadenceProfile(), now
    )


# Each reason as the code that refuses an event (or a reply) words it.
REASONS: dict[str, Callable[[], str]] = {
    "too_large": lambda: rejected(parse_event, b" " * (MAX_EVENT_BYTES + 1)),
    "not_json": lambda: rejected(parse_event, b"{not json"),
    "not_json_array": lambda: rejected(parse_event, b"[1]"),
    "unsupported_version": lambda: rejected(parse_event, event(created() | {"version": 2})),
    "invalid": lambda: rejected(parse_event, event(created() | {"due_date": "soon"})),
    "invalid_type": lambda: rejected(parse_event, event(created() | {"type": "nope"})),
    "past_due": lambda: rejected(parse_event, event(created(due="2025-11-30"))),
    "stale": lambda: change(changed("commitment.completed", "e2", EARLIER)),
    "conflict_done": lambda: change(
        changed("commitment.completed", "e2", START), status=Status.COMPLETED
    ),
    "conflict_exists": lambda: change(created("e2")),
    "unknown_commitment": lambda: rejected(require_existing, "c9", None, None),
    "client_gone": lambda: rejected(require_existing, "c1", commitment(), None),
    "unknown_client": lambda: rejected(update_client, parse_event(event(NEW_CLIENT)), None),
    "unknown_profile": lambda: str(ConfigLookupError("profile", "gentle")),
    "unknown_bank": lambda: str(ConfigLookupError("question bank", "deep")),
    "erased": lambda: ERASED_REASON,
    # Worded where they are raised (daemon.inbox.stream, daemon.inbound.intake).
    "internal_error": lambda: "internal error while applying: KeyError",
    "reply_rejected": lambda: f"reply rejected: {ReplyRejected('no reply token').reason}",
}
EXPECTED = {
    "not_json_array": "not_json",
    "invalid_type": "invalid",
    "conflict_done": "conflict",
    "conflict_exists": "conflict",
    "unknown_commitment": "unknown_reference",
    "client_gone": "unknown_reference",
    "unknown_client": "unknown_reference",
    "unknown_profile": "unknown_reference",
    "unknown_bank": "unknown_reference",
}


@pytest.mark.parametrize("case", sorted(REASONS))
def test_each_dead_letter_reason_maps_to_its_class(case: str) -> None:
    reason = REASONS[case]()
    assert (reason, reason_class(reason)) == (reason, EXPECTED.get(case, case))


def test_every_class_but_other_is_reached_by_a_real_reason() -> None:
    reached = {reason_class(make()) for make in REASONS.values()}
    assert reached == set(REASON_CLASS_NAMES) - {"other"}


@pytest.mark.parametrize("reason", ["", "not a commitment event", "something new: went wrong"])
def test_a_reason_no_class_knows_is_other_never_its_text(reason: str) -> None:
    assert reason_class(reason) == "other"


def test_two_apps_in_one_process_each_count_in_their_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.dead_lettered("client erased")
    erased = ("coachd_dead_letters_total", {"reason": "erased"})
    assert first.registry.get_sample_value(*erased) == 1
    assert second.registry.get_sample_value(*erased) == 0
    assert b'coachd_dead_letters_total{reason="erased"} 1.0' in generate_latest(first.registry)
