"""Hostile events: each bad one dead-lettered with a precise reason, the good ones applied."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemon.inbox.stream import ensure_group
from daemon.store import keys
from jobs.events import (
    MAX_ACTION_CHARS,
    MAX_EVENT_BYTES,
    EventRejected,
    event_json_schema,
    parse_event,
)
from jobs.reasons import MAX_ECHO_CHARS, MAX_REASON_CHARS
from tests.helpers.events import changed, created
from tests.helpers.firm import START
from tests.helpers.loop import Loop

KNOWN_TYPES = tuple(event_json_schema()["discriminator"]["mapping"])
EVENT_KEYS = ("event_id", "occurred_at", "commitment_id", "client_id")
MINUTE = timedelta(minutes=1)
VALID = {
    "event_id": "e1",
    "occurred_at": START.isoformat(),
    "commitment_id": "c1",
    "client_id": "a",
}
Draw = Callable[..., Any]
BIDI_CONTROLS = "".join(map(chr, (*range(0x202A, 0x202F), *range(0x2066, 0x206A))))
# Text a producer may send: no controls (tab aside), line separators or bidi overrides.
PLAIN_CHARS = st.characters(
    exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters=BIDI_CONTROLS
)

# --- parse_event alone: pure, any input -----------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=300)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=60), inner, max_size=4)
    ),
    max_leaves=20,
)
event_like = st.fixed_dictionaries(
    {"version": st.just(1) | json_values, "type": st.sampled_from(KNOWN_TYPES) | st.text()},
    optional={k: st.just(VALID[k]) | json_values for k in EVENT_KEYS} | {"client": json_values},
).flatmap(
    lambda base: st.dictionaries(st.text(max_size=80), json_values, max_size=3).map(
        lambda extra: extra | base
    )
)


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings_in(k), *strings_in(v))]
    if isinstance(value, list):
        return [s for item in value for s in strings_in(item)]
    return []


def assert_parsed_or_rejected_cleanly(raw: str | bytes, strings: list[str]) -> None:
    """Either an event comes back or EventRejected with one bounded line that quotes little."""
    try:
        parse_event(raw)
    except EventRejected as rejected:
        reason = rejected.reason
        assert reason.splitlines() == [reason]  # one non-empty line
        assert len(reason) <= MAX_REASON_CHARS
        for text in strings:
            if len(text) > MAX_ECHO_CHARS:
                assert text[: MAX_ECHO_CHARS + 1] not in reason


PURE = settings(max_examples=300, deadline=None)


@PURE
@given(st.binary(max_size=2000))
def test_any_bytes_parse_to_an_event_or_a_one_line_rejection(raw: bytes) -> None:
    assert_parsed_or_rejected_cleanly(raw, [])


@PURE
@given(st.text(max_size=2000))
def test_any_text_parses_to_an_event_or_a_one_line_rejection(raw: str) -> None:
    assert_parsed_or_rejected_cleanly(raw, [])


@PURE
@given(json_values)
def test_any_json_value_is_rejected_with_a_bounded_reason_that_echoes_little(value: Any) -> None:
    assert_parsed_or_rejected_cleanly(json.dumps(value), strings_in(value))


@PURE
@given(event_like)
def test_event_shaped_objects_are_rejected_with_a_bounded_reason_that_echoes_little(
    value: dict[str, Any],
) -> None:
    assert_parsed_or_rejected_cleanly(json.dumps(value), strings_in(value))


@settings(max_examples=60, deadline=None)
@given(depth=st.integers(1, 50_000), opener=st.sampled_from(["[", '{"a":', '{"version":[']))
def test_json_nested_thousands_deep_is_rejected_not_a_recursion_error(
    depth: int, opener: str
) -> None:
    assert_parsed_or_rejected_cleanly(opener * depth, [])


def test_an_event_over_the_size_limit_is_rejected_before_it_is_parsed() -> None:
    padded = json.dumps(created()) + " " * MAX_EVENT_BYTES
    with pytest.raises(EventRejected) as rejected:
        parse_event(padded)
    size = len(padded)
    assert rejected.value.reason == f"event is {size} bytes; the limit is {MAX_EVENT_BYTES}"


@pytest.mark.parametrize(
    ("version", "shown"), [(True, "True"), (1.0, "1.0"), ("1", "'1'"), ([1], "an array")]
)
def test_a_version_equal_to_one_in_python_but_not_the_number_one_is_unsupported(
    version: object, shown: str
) -> None:
    with pytest.raises(EventRejected) as rejected:
        parse_event(json.dumps(created() | {"version": version}))
    assert rejected.value.reason == f"unsupported version {shown}; expected 1"


@pytest.mark.parametrize("zone", ["America", "Europe/" + "x" * 300, "Europe/Madrid\n"])
def test_a_directory_or_overlong_time_zone_is_a_field_error(zone: str) -> None:
    event = created()
    event["client"]["timezone"] = zone
    with pytest.raises(EventRejected) as rejected:
        parse_event(json.dumps(event))
    assert rejected.value.reason.startswith("commitment.created.client.timezone: ")


# --- the inbox under fire: the real consumer on real Redis ---------------------------------


@dataclass
class Model:
    """What coachd's state must be after the good events; what each bad one must be told."""

    commitments: dict[str, dict[str, Any]] = field(default_factory=dict)
    clients: dict[str, dict[str, Any]] = field(default_factory=dict)
    applied: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # regexes, in dead-letter order
    ghosts: list[str] = field(default_factory=list)  # commitments that must not exist
    minutes: int = 0
    serial: int = 0

    def tick(self) -> Any:
        self.minutes += 1
        return START + self.minutes * MINUTE

    def new_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial}"

    def active(self) -> list[str]:
        return sorted(c for c, s in self.commitments.items() if s["status"] == "active")


def good_created(model: Model, draw: Draw) -> dict[str, Any]:
    cid, day = model.new_id("c"), draw(st.integers(3, 20))
    at = model.tick()
    event = created(model.new_id("e"), cid, due=f"2026-12-{day:02}", at=at, client_id=f"cl-{cid}")
    model.commitments[cid] = {"due_date": event["due_date"], "status": "active", "at": at}
    model.clients[f"cl-{cid}"] = {"name": "Ana Ruiz", "at": at}
    model.applied.append(event)
    return event


def good(kind: str, model: Model, draw: Draw) -> dict[str, Any]:
    """A valid event of `kind`; `model` takes its effect."""
    active = model.active()
    if kind == "create" or not active:
        return good_created(model, draw)
    cid, at = draw(st.sampled_from(active)), model.tick()
    if kind == "complete":
        model.commitments[cid] |= {"status": "completed", "at": at}
        event = changed("commitment.completed", model.new_id("e"), at, cid)
    elif kind == "update":
        due = f"2026-12-{draw(st.integers(3, 20)):02}"
        model.commitments[cid] |= {"due_date": due, "at": at}
        event = changed("commitment.updated", model.new_id("e"), at, cid, due_date=due)
    else:  # rename
        name = draw(st.text(PLAIN_CHARS, min_size=1, max_size=30))
        model.clients[f"cl-{cid}"] = {"name": name, "at": at}
        event = client_updated(model.new_id("e"), at, f"cl-{cid}", name)
    model.applied.append(event)
    return event


def client_updated(event_id: str, at: Any, client_id: str, name: str) -> dict[str, Any]:
    event = changed("client.updated", event_id, at, client_id=client_id, name=name)
    del event["commitment_id"]
    return event


def stranger(model: Model, **fields: Any) -> dict[str, Any]:
    """A created event for a commitment that must never come to exist."""
    cid = model.new_id("ghost")
    model.ghosts.append(cid)
    return created(model.new_id("e"), cid, at=model.tick(), client_id=f"cl-{cid}") | fields


Made = tuple[dict[str, Any] | bytes, str | None]  # an event, and the reason it must get


def malformed(model: Model, draw: Draw) -> Made:
    whole = json.dumps(stranger(model)).encode()
    cut = draw(st.integers(1, len(whole) - 1))
    return whole[:cut] + draw(st.sampled_from([b"", b"\xff\xfe", b"\x00"])), "not valid JSON: "


def wrong_type(model: Model, draw: Draw) -> Made:
    name = draw(st.sampled_from(["due_date", "commitment_id", "action", "coach_id", "client"]))
    value = draw(st.sampled_from([[], {}, ["x"], {"x": 1}] if name != "client" else ["x", 3]))
    return stranger(model, **{name: value}), rf"commitment\.created\.{name}: "


def huge(model: Model, draw: Draw) -> Made:
    name = draw(st.sampled_from(["action", "why"]))
    text = "x" * draw(st.integers(MAX_ACTION_CHARS + 1, 100_000))
    reason = rf"commitment\.created\.{name}: String should have at most {MAX_ACTION_CHARS} char"
    return stranger(model, **{name: text}), reason


def control_text(model: Model, draw: Draw) -> Made:
    """A line break, C1 control or bidi override in a text field: it would reach the emails."""
    name = draw(st.sampled_from(["action", "why"]))
    char = draw(st.sampled_from(["\n", "\r", "\x00", "\x1b", "\x85", *BIDI_CONTROLS]))
    reason = rf"commitment\.created\.{name}: Value error, contains .*U\+{ord(char):04X}"
    return stranger(model, **{name: f"call Maria{char}now"}), reason


def oversize(model: Model, draw: Draw) -> Made:
    padded = json.dumps(stranger(model)).encode() + b" " * MAX_EVENT_BYTES
    return padded, rf"event is {len(padded)} bytes; the limit is {MAX_EVENT_BYTES}$"


def unknown_version(model: Model, draw: Draw) -> Made:
    version = draw(
        st.integers().filter(lambda v: v != 1)
        | st.text(max_size=200)
        | st.sampled_from([True, False, 1.0, [1], {"v": 1}])
    )
    return stranger(model, version=version), r"unsupported version .+; expected 1$"


def unknown_type(model: Model, draw: Draw) -> Made:
    name = draw(st.text(max_size=200).filter(lambda t: t not in KNOWN_TYPES))
    return stranger(model, type=name), r"event: unknown event type .+; expected one of "


def duplicate(model: Model, draw: Draw) -> Made:
    """A reused event id with other content: ignored, and not dead-lettered."""
    if not model.applied:
        return good_created(model, draw), None
    return stranger(model, event_id=draw(st.sampled_from(model.applied))["event_id"]), None


def ghost(model: Model, draw: Draw) -> Made:
    cid = model.new_id("ghost")
    event = changed("commitment.completed", model.new_id("e"), model.tick(), cid)
    return event, rf"unknown commitment {cid}$"


def stale(model: Model, draw: Draw) -> Made:
    """Older than the commitment's or the client's last change: never overwrites it."""
    active = model.active()
    if not active:
        return good_created(model, draw), None
    cid, of_client = draw(st.sampled_from(active)), draw(st.booleans())
    earlier = draw(st.integers(1, 600)) * MINUTE
    if of_client:
        at = model.clients[f"cl-{cid}"]["at"] - earlier
        event = client_updated(model.new_id("e"), at, f"cl-{cid}", "Someone Else")
        return event, rf"stale event for cl-{cid}: "
    at = model.commitments[cid]["at"] - earlier
    event = changed("commitment.updated", model.new_id("e"), at, cid, due_date="2027-01-01")
    return event, rf"stale event for {cid}: "


BAD = {
    f.__name__: f
    for f in (malformed, wrong_type, huge, oversize, unknown_version, unknown_type, duplicate)
} | {f.__name__: f for f in (ghost, stale, control_text)}
GOOD = ("create", "update", "complete", "rename")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
@pytest.mark.integration
async def test_bad_events_are_dead_lettered_with_their_reason_and_the_good_ones_around_applied(
    loop: Loop, data: st.DataObject
) -> None:
    await loop.redis.flushdb()  # the fixture is per test; each example starts clean
    await ensure_group(loop.redis)
    model = Model()
    kinds = data.draw(st.lists(st.sampled_from([*GOOD, *BAD]), max_size=14))
    for kind in [*kinds, "create"]:  # the last one proves the consumer is still working
        if kind in GOOD:
            event = good(kind, model, data.draw)
        else:
            event, reason = BAD[kind](model, data.draw)
            model.reasons += [reason] if reason else []
        raw = event if isinstance(event, bytes) else json.dumps(event).encode()
        await loop.redis.xadd(keys.INBOX_STREAM, {"event": raw})
        if data.draw(st.booleans(), label="consume now"):
            await loop.consume()
    await loop.consume()

    reasons = [d["reason"] for d in await loop.dead_letters()]
    assert len(reasons) == len(model.reasons), reasons
    for pattern, reason in zip(model.reasons, reasons, strict=True):
        assert re.match(pattern, reason), (pattern, reason)
    for cid, expected in model.commitments.items():
        state = await loop.commitment(cid)
        assert (state["due_date"], state["status"]) == (expected["due_date"], expected["status"])
    for client_id, expected in model.clients.items():
        name = await loop.redis.hget(keys.client(client_id), "name")
        assert name == expected["name"].encode()
    for cid in model.ghosts:
        assert await loop.commitment(cid) == {}
    pending = await loop.redis.xpending(keys.INBOX_STREAM, keys.INBOX_GROUP)
    assert pending["pending"] == 0
