"""Unauthenticated clients dribbling tiny bodies, and malformed multipart headers, on a real
loopback server: the request cap is for bodies that can fill memory, not for probes.

Found on a real `coachd run`: 40 connections each sending `POST /unsubscribe/x` with
`Content-Length: 1000` and a byte every 2 s held all 32 request slots, and /healthz, /readyz
and POST /events answered 503 for as long as they kept dribbling (up to the 60 s body
deadline, then again on reconnecting). A liveness probe on /healthz would restart the daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from structlog.testing import capture_logs

from daemon.inbound.httpserver import SMALL_BODY_BYTES, HttpLimits
from tests.helpers.webhooks import (
    LOOPBACK,
    POSTMARK_TOKEN,
    Edge,
    RedisServer,
    Start,
    basic,
    multipart,
    sample,
    webhook_servers,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

MAX_REQUESTS = 4
DRIBBLERS = 3 * MAX_REQUESTS
ANSWER_WITHIN_S = 2.0
LONG_BOUNDARY = "b" * 300  # python-multipart refuses a boundary over 256 bytes


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def start(redis_server: RedisServer) -> AsyncIterator[Start]:
    async with webhook_servers(redis_server.url) as starter:
        yield starter


@contextlib.asynccontextmanager
async def dribbling(edge: Edge, head: str, count: int) -> AsyncIterator[None]:
    """`count` connections that sent `head` and then a byte of body every 0.2 s."""
    writers = []
    for _ in range(count):
        _reader, writer = await asyncio.open_connection(LOOPBACK, edge.port)
        writer.write(head.encode())
        writers.append(writer)

    async def drip() -> None:
        while True:
            for writer in writers:
                writer.write(b"a")
            await asyncio.sleep(0.2)

    dripper = asyncio.create_task(drip())
    await asyncio.sleep(0.3)  # every request is in the app, reading its body
    try:
        yield
    finally:
        dripper.cancel()
        for writer in writers:
            writer.close()


def _post_head(path: str, length: int, content_type: str, extra: str = "") -> str:
    return (
        f"POST {path} HTTP/1.1\r\nHost: coachd\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\n{extra}\r\n"
    )


async def test_tiny_bodies_dribbled_by_strangers_leave_probes_and_webhooks_answered(
    start: Start,
) -> None:
    edge = await start(limits=HttpLimits(max_requests=MAX_REQUESTS))
    head = _post_head("/unsubscribe/abc", 1000, "application/x-www-form-urlencoded")
    async with dribbling(edge, head, DRIBBLERS):
        health = await edge.client.get("/healthz", timeout=ANSWER_WITHIN_S)
        webhook = await edge.client.post(
            "/inbound/postmark",
            json=sample("postmark_raw.json"),
            headers=basic(POSTMARK_TOKEN),
            timeout=ANSWER_WITHIN_S,
        )
    assert (health.status_code, webhook.status_code) == (200, 200)
    assert len(edge.recorder.messages) == 1


async def test_large_bodies_still_count_against_the_request_cap(start: Start) -> None:
    """The cap still bounds memory: slow bodies that may be large take the slots, and one
    more large one gets 503, while a probe is still answered."""
    edge = await start(limits=HttpLimits(max_requests=MAX_REQUESTS), max_body=4 * SMALL_BODY_BYTES)
    head = _post_head(
        "/inbound/postmark", 2 * SMALL_BODY_BYTES, "application/json", _auth(POSTMARK_TOKEN)
    )
    async with dribbling(edge, head, MAX_REQUESTS):
        extra = await edge.client.post(
            "/inbound/postmark",
            content=b"{" + b" " * (2 * SMALL_BODY_BYTES) + b"}",
            headers={**basic(POSTMARK_TOKEN), "Content-Type": "application/json"},
            timeout=ANSWER_WITHIN_S,
        )
        health = await edge.client.get("/healthz", timeout=ANSWER_WITHIN_S)
    assert (extra.status_code, health.status_code) == (503, 200)


def _auth(password: str) -> str:
    return "".join(f"{name}: {value}\r\n" for name, value in basic(password).items())


@pytest.mark.parametrize("path", ["/inbound/mailgun", "/unsubscribe/abc"])
async def test_an_overlong_multipart_boundary_is_a_400_not_a_500(start: Start, path: str) -> None:
    """It was an unhandled FormParserError: a 500 and a traceback in the log per request."""
    edge = await start()
    body = multipart({"List-Unsubscribe": "One-Click"})
    headers = {"Content-Type": f"multipart/form-data; boundary={LONG_BOUNDARY}"}
    with capture_logs() as logs:
        response = await edge.client.post(path, content=body["content"][:512], headers=headers)
    assert (response.status_code, response.text) == (400, "bad request: malformed form body")
    assert not [entry for entry in logs if entry["event"] == "http_internal_error"]
