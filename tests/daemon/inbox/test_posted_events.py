"""POST /events into the inbox (real HTTP and Redis): each line as `emit` has it, each id once,
and what was accepted is what the daemon applies."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from redis.asyncio import Redis

from daemon.inbox.stream import publish
from daemon.metrics import Metrics
from daemon.store import keys
from tests.helpers.eventposts import (
    BAD_JSON_LINE,
    BAD_JSON_REASON,
    BEARER,
    JSON,
    NDJSON,
    NO_COMMITMENT_ID,
    SECRETS,
    answer,
    completed,
    dead_letters,
    inbox,
    jsonl,
)
from tests.helpers.events import changed, created
from tests.helpers.firm import START
from tests.helpers.loop import Loop
from tests.helpers.webhooks import Edge, body_text, webhook_servers


async def test_a_good_batch_is_queued_and_each_line_answered_accepted(
    door: Edge, redis: Redis
) -> None:
    body = jsonl(created(), completed("e-done"), created("e-other", "c2"))
    response = await door.client.post("/events", content=body, headers=NDJSON)
    assert (response.status_code, response.json()) == (
        202,
        answer((1, "e-created", "accepted"), (2, "e-done", "accepted"), (3, "e-other", "accepted")),
    )
    assert [e["event_id"] for e in await inbox(redis)] == ["e-created", "e-done", "e-other"]
    assert await dead_letters(redis) == []


async def test_a_mixed_batch_keeps_the_good_lines_and_dead_letters_the_bad_with_the_reason(
    door: Edge, redis: Redis
) -> None:
    incomplete = {**completed("e-3"), "commitment_id": None}
    del incomplete["commitment_id"]
    body = jsonl(created(), BAD_JSON_LINE, incomplete, b"", completed("e-5"), b"[1]")
    response = await door.client.post("/events", content=body, headers=NDJSON)
    assert response.status_code == 202
    assert response.json()["results"] == [
        {"line": 1, "event_id": "e-created", "result": "accepted"},
        {"line": 2, "event_id": None, "result": "rejected", "reason": BAD_JSON_REASON},
        {"line": 3, "event_id": "e-3", "result": "rejected", "reason": NO_COMMITMENT_ID},
        {"line": 5, "event_id": "e-5", "result": "accepted"},
        {
            "line": 6,
            "event_id": None,
            "result": "rejected",
            "reason": "an event must be a JSON object",
        },
    ]
    assert [e["event_id"] for e in await inbox(redis)] == ["e-created", "e-5"]
    assert await dead_letters(redis) == [
        {"reason": BAD_JSON_REASON, "source": "http line 2", "event": BAD_JSON_LINE.decode()},
        {"reason": NO_COMMITMENT_ID, "source": "http line 3", "event": json.dumps(incomplete)},
        {"reason": "an event must be a JSON object", "source": "http line 6", "event": "[1]"},
    ]


async def test_a_malformed_line_in_the_middle_costs_none_of_the_good_lines_around_it(
    door: Edge, redis: Redis
) -> None:
    events = [completed(f"e-{n}") for n in range(1, 7)]
    body = jsonl(*events[:3], b"{not json", *events[3:])
    response = await door.client.post("/events", content=body, headers=NDJSON)
    results = response.json()["results"]
    assert [r["result"] for r in results] == ["accepted"] * 3 + ["rejected"] + ["accepted"] * 3
    assert results[3]["reason"].startswith("not valid JSON: Expecting property name")
    assert [e["event_id"] for e in await inbox(redis)] == [e["event_id"] for e in events]


async def test_post_and_emit_give_the_same_reason_and_dead_letter_for_each_line(
    door: Edge, redis: Redis
) -> None:
    lines = [
        BAD_JSON_LINE,
        b'{"version": 2}',
        json.dumps({**created(), "due_date": "soon"}).encode(),
    ]
    response = await door.client.post("/events", content=jsonl(*lines), headers=NDJSON)
    report = await publish(redis, lines)  # what `coachd emit` does with the same lines
    posted, emitted = (await dead_letters(redis))[:3], (await dead_letters(redis))[3:]
    assert [r["reason"] for r in response.json()["results"]] == [r for _, r in report.rejected]
    for by_http, by_emit in zip(posted, emitted, strict=True):
        assert by_http == {**by_emit, "source": by_emit["source"].replace("emit", "http")}


async def test_a_repost_answers_duplicate_and_queues_nothing_again(
    door: Edge, redis: Redis
) -> None:
    body = jsonl(created(), completed("e-done"))
    first = await door.client.post("/events", content=body, headers=NDJSON)
    again = await door.client.post("/events", content=body, headers=NDJSON)
    assert first.json()["accepted"] == 2
    assert again.json() == answer((1, "e-created", "duplicate"), (2, "e-done", "duplicate"))
    assert len(await inbox(redis)) == 2
    assert 0 < await redis.ttl(keys.event_posted("e-done")) <= keys.EVENT_POSTED_TTL_S


async def test_the_same_event_id_twice_in_one_request_is_queued_once(
    door: Edge, redis: Redis
) -> None:
    body = jsonl(completed("e-1"), completed("e-1"))
    response = await door.client.post("/events", content=body, headers=NDJSON)
    assert [r["result"] for r in response.json()["results"]] == ["accepted", "duplicate"]
    assert len(await inbox(redis)) == 1


async def test_a_rejected_line_marks_nothing_so_its_correction_is_accepted(
    door: Edge, redis: Redis
) -> None:
    broken = {**completed("e-fix"), "commitment_id": "not an id!"}
    first = await door.client.post("/events", json=broken, headers=BEARER)
    fixed = await door.client.post("/events", json=completed("e-fix"), headers=BEARER)
    assert [r["result"] for r in (*first.json()["results"], *fixed.json()["results"])] == [
        "rejected",
        "accepted",
    ]
    assert await inbox(redis) == [completed("e-fix")]


async def test_an_event_already_applied_is_a_duplicate(door: Edge, redis: Redis) -> None:
    await redis.set(keys.event_seen("e-applied"), b"1")  # what the apply transaction leaves
    response = await door.client.post("/events", json=completed("e-applied"), headers=BEARER)
    assert response.json()["results"] == [
        {"line": 1, "event_id": "e-applied", "result": "duplicate"}
    ]
    assert await inbox(redis) == []


async def test_one_json_object_even_pretty_printed_is_line_one(door: Edge, redis: Redis) -> None:
    body = json.dumps(created(), indent=2).encode()
    response = await door.client.post("/events", content=body, headers=JSON)
    assert response.json()["results"] == [
        {"line": 1, "event_id": "e-created", "result": "accepted"}
    ]
    assert await inbox(redis) == [created()]


async def test_a_json_array_answers_by_position(door: Edge, redis: Redis) -> None:
    """A refused element's `event_id` is shown only when it is a well-formed id."""
    ill_formed = {**completed("e-2"), "event_id": "has spaces"}
    body = [completed("e-1"), ill_formed, {"version": 1}, completed("e-4")]
    response = await door.client.post("/events", json=body, headers=BEARER)
    results = response.json()["results"]
    assert [(r["line"], r["event_id"], r["result"]) for r in results] == [
        (1, "e-1", "accepted"),
        (2, None, "rejected"),
        (3, None, "rejected"),
        (4, "e-4", "accepted"),
    ]
    assert results[1]["reason"] == (
        "commitment.completed.event_id: String should match pattern "
        "'^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'"
    )
    assert await inbox(redis) == [completed("e-1"), completed("e-4")]
    assert [d["source"] for d in await dead_letters(redis)] == ["http line 2", "http line 3"]


async def test_the_daemon_applies_what_was_posted_and_dead_letters_what_it_cannot(
    loop: Loop, redis_url: str
) -> None:
    """Accepted means queued: the inbox applies it, and the email it plans goes out. An event
    valid in itself but about an unknown commitment is dead-lettered when applied, as for emit."""
    await loop.emit(created())  # `coachd emit`'s path, then applied
    await loop.consume()
    moved = changed("commitment.updated", "e-moved", START, due_date="2026-12-10")
    orphan = changed("commitment.completed", "e-orphan", START, commitment_id="c-none")
    body = jsonl(created(), BAD_JSON_LINE, moved, orphan)
    async with webhook_servers(redis_url) as start:
        edge = await start(SECRETS)
        posted = await edge.client.post("/events", content=body, headers=NDJSON)
        await loop.consume()
        again = await edge.client.post("/events", content=jsonl(moved, orphan), headers=NDJSON)
    assert [r["result"] for r in posted.json()["results"]] == [
        "duplicate",  # applied already, from emit
        "rejected",
        "accepted",
        "accepted",
    ]
    # Applied, or refused when applied: either way the same id is not queued again.
    assert again.json() == answer((1, "e-moved", "duplicate"), (2, "e-orphan", "duplicate"))
    assert (await loop.commitment())["due_date"] == "2026-12-10"
    assert [(d["source"].split()[0], d["reason"]) for d in await loop.dead_letters()] == [
        ("http", BAD_JSON_REASON),  # "http line 2", at once
        ("inbox", "unknown commitment c-none"),  # when applied
    ]
    await loop.advance(datetime(2026, 12, 2, 12, tzinfo=UTC))
    assert loop.messages == []  # the reminder for the old due date (3 December) is gone
    await loop.advance(datetime(2026, 12, 8, 8, 0, 1, tzinfo=UTC))  # 09:00 in Madrid
    [reminder] = loop.messages
    assert reminder.rcpt_tos == ["ana@example.org"]
    assert "Thursday 10 December (in 2 days)" in body_text(reminder.message, "plain")


async def test_posted_lines_refused_are_counted_as_dead_letters_by_reason_class(
    redis_url: str,
) -> None:
    """The worker's `coachd_dead_letters_total` counts what POST /events dead-letters, as it
    counts the inbox's (accepted lines are counted when applied, not here)."""
    incomplete = {**completed("e-3")}
    del incomplete["commitment_id"]
    counters = Metrics()
    async with webhook_servers(redis_url) as start:
        edge = await start(SECRETS, counters=counters)
        body = jsonl(created(), BAD_JSON_LINE, incomplete, b"[1]")
        response = await edge.client.post("/events", content=body, headers=NDJSON)
    assert response.json()["rejected"] == 3

    counted = {
        sample.labels["reason"]: sample.value
        for family in counters.registry.collect()
        if family.name == "coachd_dead_letters"
        for sample in family.samples
        if sample.name == "coachd_dead_letters_total" and sample.value
    }
    assert counted == {"not_json": 2, "invalid": 1}
