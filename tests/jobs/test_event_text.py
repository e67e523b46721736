"""Event text fields (names, actions, why) refuse controls and bidi overrides, naming the field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.events import ClientUpdated, CommitmentCreated, EventRejected, parse_event
from tests.helpers.events import changed, created
from tests.helpers.firm import START

FORBIDDEN = [
    *map(chr, range(0x00, 0x09)),
    *map(chr, range(0x0A, 0x20)),
    *map(chr, range(0x7F, 0xA0)),
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
    "\u2028",
    "\u2029",
]
FORBIDDEN_SET = frozenset(FORBIDDEN)
ALLOWED = ["\t", "é", "名前", "ä ö", "\u200d", "🙂", "O'Brien-Núñez"]


def created_with(field: str, value: str) -> dict[str, Any]:
    event = created()
    if field == "client.name":
        event["client"]["name"] = value
    else:
        event[field] = value
    return event


def rejection(event: dict[str, Any]) -> str:
    with pytest.raises(EventRejected) as caught:
        parse_event(json.dumps(event))
    return caught.value.reason


@pytest.mark.parametrize("char", FORBIDDEN, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("field", ["client.name", "action", "why"])
def test_created_event_with_control_or_bidi_char_is_rejected_naming_field(
    field: str, char: str
) -> None:
    """Each forbidden character in each text field: the reason names the field and the code."""
    reason = rejection(created_with(field, f"Ana{char}Ruiz"))
    assert reason.startswith(f"commitment.created.{field}: ")
    assert f"U+{ord(char):04X}" in reason
    assert reason.splitlines() == [reason]


@pytest.mark.parametrize("field", ["action", "why"])
def test_updated_event_with_line_break_is_rejected_naming_field(field: str) -> None:
    """commitment.updated's action and why hold the same rule as at creation."""
    event = changed("commitment.updated", "e2", START, **{field: "call\nBcc: them"})
    assert rejection(event).startswith(f"commitment.updated.{field}: ")


def test_client_renamed_with_bidi_override_is_rejected_naming_field() -> None:
    """client.updated's name: a right-to-left override would disguise it in the digest."""
    event = changed("client.updated", "e2", START, client_id="ana", name="Ana \u202egnp.exe")
    del event["commitment_id"]
    assert rejection(event).startswith("client.updated.name: ")


@pytest.mark.parametrize("text", ALLOWED)
def test_tab_accents_and_other_scripts_are_kept(text: str) -> None:
    """Tab, accents, other scripts, joiners and emoji are ordinary text and pass unchanged."""
    event = parse_event(json.dumps(created_with("action", f"plan {text}")))
    assert isinstance(event, CommitmentCreated)
    assert event.action == f"plan {text}"


@given(st.text(min_size=1, max_size=40))
def test_any_name_is_accepted_iff_it_has_no_forbidden_character(name: str) -> None:
    """The model accepts exactly the names free of the forbidden characters."""
    fields = {"version": 1, "event_id": "e1", "occurred_at": START.isoformat()}
    clean = not FORBIDDEN_SET.intersection(name)
    try:
        ClientUpdated.model_validate(
            fields | {"type": "client.updated", "client_id": "a", "name": name}
        )
    except ValueError:
        assert not clean
    else:
        assert clean
