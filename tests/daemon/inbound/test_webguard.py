"""The HTTP edge's guards over real HTTP: size limits, errors, one-click unsubscribe, logs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from structlog.testing import capture_logs

from daemon.inbound.webhooks import WebhookSecrets
from tests.helpers.webhooks import (
    CHUNK,
    LOOPBACK,
    MAX_BODY,
    POSTMARK_TOKEN,
    SECRETS,
    SENDGRID_TOKEN,
    START_TIMEOUT_S,
    Edge,
    RedisServer,
    Start,
    basic,
    multipart,
    sample,
    webhook_servers,
)

# One event loop per module, so most tests share one server (starting and stopping uvicorn
# per test costs ~0.2 s); tests needing other settings start their own with `start`.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def start(redis_server: RedisServer) -> AsyncIterator[Start]:
    async with webhook_servers(redis_server.url) as starter:
        yield starter


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def shared_edge(start: Start) -> Edge:
    return await start()


@pytest_asyncio.fixture(loop_scope="module")
async def edge(shared_edge: Edge) -> Edge:
    """The module's shared server, with an empty, healthy recorder."""
    shared_edge.recorder.reset()
    return shared_edge


# --- hostile and broken input -------------------------------------------------------------


async def first_response_line(edge: Edge, head: str, body: bytes) -> bytes:
    """Send a request head and part of a body on a raw socket; return the status line."""
    reader, writer = await asyncio.open_connection(LOOPBACK, edge.port)
    try:
        writer.write(head.replace("\n", "\r\n").encode() + body)
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), START_TIMEOUT_S)
    finally:
        writer.close()


def head(framing: str) -> str:
    auth = basic(POSTMARK_TOKEN)["Authorization"]
    return f"POST /inbound/postmark HTTP/1.1\nHost: coachd\nAuthorization: {auth}\n{framing}\n\n"


async def test_a_declared_oversized_body_is_refused_before_it_arrives(edge: Edge) -> None:
    """1 GB declared, 1 KiB sent: the answer comes at once, so the rest was never awaited."""
    status = await first_response_line(edge, head("Content-Length: 1000000000"), b"x" * 1024)
    assert status.startswith(b"HTTP/1.1 413 ")
    assert edge.recorder.messages == []


async def test_an_expect_continue_upload_over_the_limit_is_never_invited(edge: Edge) -> None:
    framing = "Content-Length: 1000000000\nExpect: 100-continue"
    status = await first_response_line(edge, head(framing), b"")
    assert status.startswith(b"HTTP/1.1 413 ")  # not "100 Continue"


async def test_a_chunked_body_is_refused_once_past_the_limit_not_at_its_end(edge: Edge) -> None:
    chunk = f"{CHUNK:x}\r\n".encode() + b"x" * CHUNK + b"\r\n"
    chunks = chunk * (MAX_BODY // CHUNK + 1)  # just past the limit, and no final 0-chunk
    status = await first_response_line(edge, head("Transfer-Encoding: chunked"), chunks)
    assert status.startswith(b"HTTP/1.1 413 ")
    assert edge.recorder.messages == []


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_an_http_client_sees_413_for_an_oversized_upload(edge: Edge, declared: bool) -> None:
    async def upload() -> AsyncIterator[bytes]:
        for _ in range(4 * MAX_BODY // CHUNK):
            yield b"x" * CHUNK

    headers = basic(POSTMARK_TOKEN)
    if declared:
        headers["Content-Length"] = str(4 * MAX_BODY)
    response = await edge.client.post("/inbound/postmark", content=upload(), headers=headers)
    assert (response.status_code, response.text) == (413, "Content Too Large")
    assert edge.recorder.messages == []


# --- errors ------------------------------------------------------------------------------


async def test_a_sink_failure_gets_503_and_no_detail(edge: Edge) -> None:
    edge.recorder.fail_with = ConnectionError("redis at 10.0.0.7:6379 refused ana.ruiz@gmail.com")
    response = await edge.client.post(
        "/inbound/postmark", json=sample("postmark_raw.json"), headers=basic(POSTMARK_TOKEN)
    )
    assert (response.status_code, response.text) == (503, "Service Unavailable")
    assert response.headers["retry-after"] == "60"
    assert response.headers["content-type"].startswith("text/plain")


async def test_an_unexpected_error_is_a_bare_500(start: Start) -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError("secret detail ana.ruiz@gmail.com")

    edge = await start(extra_routes=[Route("/broken", broken)])
    with capture_logs() as logs:
        response = await edge.client.get("/broken")
    assert (response.status_code, response.text) == (500, "internal error")
    assert [(e["event"], e["error"]) for e in logs] == [("http_internal_error", "RuntimeError")]


async def test_healthz_answers_ok_as_json(edge: Edge) -> None:
    response = await edge.client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_unknown_paths_and_methods_get_bare_statuses(edge: Edge) -> None:
    missing, wrong_method = (
        await edge.client.get("/admin"),
        await edge.client.get("/inbound/postmark"),
    )
    assert (missing.status_code, missing.text) == (404, "Not Found")
    assert (wrong_method.status_code, wrong_method.text) == (405, "Method Not Allowed")
    assert wrong_method.headers["allow"] == "POST"


# --- RFC 8058 one-click unsubscribe -------------------------------------------------------

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


async def test_one_click_post_unsubscribes(edge: Edge) -> None:
    response = await edge.client.post("/unsubscribe/known-tok3n", data=ONE_CLICK)
    assert (response.status_code, response.text) == (200, "unsubscribed")
    assert edge.recorder.unsubscribed == ["known-tok3n"]


async def test_one_click_also_comes_as_multipart(edge: Edge) -> None:
    response = await edge.client.post("/unsubscribe/known-tok3n", **multipart(ONE_CLICK))
    assert response.status_code == 200
    assert edge.recorder.unsubscribed == ["known-tok3n"]


async def test_get_shows_a_button_and_changes_nothing(edge: Edge) -> None:
    response = await edge.client.get("/unsubscribe/known-tok3n")
    assert response.status_code == 200
    assert '<form method="post">' in response.text
    assert 'name="List-Unsubscribe" value="One-Click"' in response.text
    assert response.headers["referrer-policy"] == "no-referrer"
    assert edge.recorder.unsubscribed == []


async def test_a_forged_token_gets_a_bare_404(edge: Edge) -> None:
    response = await edge.client.post("/unsubscribe/forged-tok3n", data=ONE_CLICK)
    assert (response.status_code, response.text) == (404, "Not Found")
    assert edge.recorder.unsubscribed == ["forged-tok3n"]


async def test_a_post_without_the_one_click_body_does_nothing(edge: Edge) -> None:
    response = await edge.client.post("/unsubscribe/known-tok3n", data={"List-Unsubscribe": "Yes"})
    assert (response.status_code, response.text) == (
        400,
        "bad request: not a one-click unsubscribe",
    )
    assert edge.recorder.unsubscribed == []


# --- secrets and addresses stay out of logs and reprs -------------------------------------


async def test_logs_carry_ids_not_addresses_bodies_or_secrets(edge: Edge) -> None:
    with capture_logs() as logs:
        await edge.client.post(
            "/inbound/postmark", json=sample("postmark_parsed.json"), headers=basic(POSTMARK_TOKEN)
        )
        await edge.client.post("/inbound/sendgrid", json={}, headers=basic("wrong"))
        edge.recorder.fail_with = ConnectionError("ana.ruiz@gmail.com")
        await edge.client.post(
            "/inbound/postmark", json=sample("postmark_raw.json"), headers=basic(POSTMARK_TOKEN)
        )
    events = [e["event"] for e in logs]
    assert events == ["inbound_accepted", "webhook_rejected", "inbound_not_accepted"]
    logged = json.dumps(logs, default=str)
    for leak in ("@", POSTMARK_TOKEN, SENDGRID_TOKEN, "Hecho", "grant proposal"):
        assert leak not in logged


async def test_webhook_secrets_repr_shows_only_which_are_set() -> None:
    assert repr(SECRETS) == (
        "WebhookSecrets(postmark_token=set, mailgun_signing_key=set, sendgrid_token=set, "
        "events_token=unset)"
    )
    assert repr(WebhookSecrets()) == (
        "WebhookSecrets(postmark_token=unset, mailgun_signing_key=unset, sendgrid_token=unset, "
        "events_token=unset)"
    )
