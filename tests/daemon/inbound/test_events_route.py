"""POST /events's door over real HTTP (httpx, uvicorn, Redis): the token, the bounds, refusals."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from structlog.testing import capture_logs

from daemon.inbound.webhooks import WebhookSecrets
from daemon.inbox.eventbody import MAX_BODY_BYTES, MAX_EVENTS
from daemon.store.embedded import pick_free_port
from tests.helpers.eventposts import (
    BEARER,
    NDJSON,
    SECRETS,
    TOKEN,
    completed,
    dead_letters,
    inbox,
    jsonl,
)
from tests.helpers.events import created
from tests.helpers.webhooks import CHUNK, LOOPBACK, Edge, webhook_servers


async def test_wrong_or_missing_token_gets_401_with_a_bearer_challenge(
    door: Edge, redis: Redis
) -> None:
    body = jsonl(created())
    headers = {"Content-Type": "application/x-ndjson"}
    wrong = {**headers, "Authorization": f"Bearer {TOKEN[:-1]}x"}
    as_basic = {**headers, "Authorization": f"Basic {TOKEN}"}
    with capture_logs() as logs:
        answers = [
            await door.client.post("/events", content=body, headers=h)
            for h in (wrong, headers, as_basic)
        ]
    assert [(a.status_code, a.text, a.headers["www-authenticate"]) for a in answers] == [
        (401, "Unauthorized", 'Bearer realm="coachd", error="invalid_token"'),
        (401, "Unauthorized", 'Bearer realm="coachd"'),
        (401, "Unauthorized", 'Bearer realm="coachd", error="invalid_token"'),
    ]
    assert [log["reason"] for log in logs if log["event"] == "events_refused"] == [
        "token_wrong",
        "no_token",
        "token_wrong",
    ]
    assert TOKEN not in json.dumps(logs, default=str)
    assert (await inbox(redis), await dead_letters(redis)) == ([], [])


async def test_a_wrong_token_is_refused_before_the_body_is_read(door: Edge) -> None:
    """A chunked body over the limit is a 413 the moment it is read: a 401 means it was not.
    (A declared oversized length is a 413 before any handler, token or none.)"""

    async def chunked() -> AsyncIterator[bytes]:
        for _ in range(2 * MAX_BODY_BYTES // CHUNK):
            yield b"x" * CHUNK

    headers = {"Content-Type": "application/x-ndjson", "Authorization": "Bearer nope"}
    response = await door.client.post("/events", content=chunked(), headers=headers)
    assert (response.status_code, response.text) == (401, "Unauthorized")
    authorised = await door.client.post("/events", content=chunked(), headers=NDJSON)
    assert (authorised.status_code, authorised.text) == (413, "Content Too Large")


async def test_without_a_token_setting_there_is_no_route(redis_url: str) -> None:
    async with webhook_servers(redis_url) as start:
        edge = await start(WebhookSecrets())
        response = await edge.client.post("/events", content=jsonl(created()), headers=NDJSON)
    assert (response.status_code, response.text) == (404, "Not Found")


@pytest.mark.parametrize("declared", [True, False])
async def test_a_body_over_a_mebibyte_gets_413_and_nothing_is_queued(
    door: Edge, redis: Redis, declared: bool
) -> None:
    line = json.dumps({**completed("e-big"), "padding": "x" * 1000}).encode()
    body = b"\n".join([line] * (MAX_BODY_BYTES // len(line) + 1))
    assert len(body) > MAX_BODY_BYTES and body.count(b"\n") < MAX_EVENTS

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    content: bytes | AsyncIterator[bytes] = body if declared else chunks()
    response = await door.client.post("/events", content=content, headers=NDJSON)
    assert (response.status_code, response.text) == (413, "Content Too Large")
    assert (await inbox(redis), await dead_letters(redis)) == ([], [])


async def test_more_than_a_thousand_events_get_413_and_nothing_is_queued(
    door: Edge, redis: Redis
) -> None:
    body = jsonl(*[completed(f"e-{n}") for n in range(MAX_EVENTS + 1)])
    assert len(body) < MAX_BODY_BYTES
    response = await door.client.post("/events", content=body, headers=NDJSON)
    assert (response.status_code, response.text) == (
        413,
        "1001 events in one request; the limit is 1000",
    )
    assert (await inbox(redis), await dead_letters(redis)) == ([], [])
    at_the_limit = jsonl(*[completed(f"e-{n}") for n in range(MAX_EVENTS)])
    response = await door.client.post("/events", content=at_the_limit, headers=NDJSON)
    assert (response.status_code, response.json()["accepted"]) == (202, MAX_EVENTS)


@pytest.mark.parametrize(
    ("content_type", "body", "status", "text"),
    [
        (
            "text/plain",
            jsonl(created()),
            415,
            "send events as application/json (an object or an array) or application/x-ndjson",
        ),
        ("application/x-ndjson", b"\n \n", 400, "no events in the body"),
        ("application/json", b"[]", 400, "no events in the body"),
        (
            "application/json",
            b'[{"a": 1},',
            400,
            "not valid JSON: Expecting value: line 1 column 11 (char 10)",
        ),
    ],
)
async def test_a_body_that_is_not_events_is_refused_whole(
    door: Edge, redis: Redis, *, content_type: str, body: bytes, status: int, text: str
) -> None:
    headers = {**BEARER, "Content-Type": content_type}
    response = await door.client.post("/events", content=body, headers=headers)
    assert (response.status_code, response.text) == (status, text)
    assert (await inbox(redis), await dead_letters(redis)) == ([], [])


async def test_redis_unreachable_gets_503_retry_after_and_no_detail() -> None:
    async with webhook_servers(f"redis://{LOOPBACK}:{pick_free_port()}") as start:  # nobody there
        edge = await start(SECRETS)
        with capture_logs() as logs:
            response = await edge.client.post("/events", content=jsonl(created()), headers=NDJSON)
    assert (response.status_code, response.text) == (503, "Service Unavailable")
    assert response.headers["retry-after"] == "60"
    assert [(x["event"], x["error"]) for x in logs if x["event"] == "events_not_accepted"] == [
        ("events_not_accepted", "ConnectionError")
    ]
