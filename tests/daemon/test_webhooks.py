"""The HTTP edge over real HTTP: provider webhooks, auth, limits, errors and one-click unsubscribe."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import hashlib
import hmac
import json
import signal
import socket
import time
from urllib.parse import urlencode
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from structlog.testing import capture_logs

from daemon.inbound import InboundMessage
from daemon.mimebuild import MalformedPayloadError, build_message
from daemon.webhooks import WebhookSecrets, build_http_app, serve_http

SAMPLES = Path(__file__).parent / "webhook_samples"
REPLY_EML = (SAMPLES / "reply.eml").read_bytes()
REPLY_ADDRESS = "reply+k7m2q9x4c1ab3def@reply.northstar.example"
GMAIL_MESSAGE_ID = "<CAHx7Yq=5d3kQ2pZr+v1cN0aX8mQ-w@mail.gmail.com>"
STEP_MESSAGE_ID = "<step.c1.overdue_1.20261201@northstar.example>"
REPLY_TEXT = "¡Hecho! Terminé la primera página anoche."
POSTMARK_TOKEN = "pm-token-3f9a1c2b7d"
MAILGUN_KEY = "mg-key-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
SENDGRID_TOKEN = "sg-token-9e8d7c6b5a"
SECRETS = WebhookSecrets(POSTMARK_TOKEN, MAILGUN_KEY, SENDGRID_TOKEN)
MAX_BODY = 64 * 1024
CHUNK = 16 * 1024
CHUNKS_OFFERED = 4096  # 64 MiB: far more than loopback buffers hold, so reading it all would show
BOUNDARY = "xYzZY"
LOOPBACK = "127.0.0.1"
START_TIMEOUT_S = 5.0


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    return loaded


def basic(password: str, user: str = "coachd") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def multipart(fields: Mapping[str, str | bytes], charsets: Mapping[str, str] | None = None) -> Any:
    """A multipart/form-data body as the providers send it: each text field in its own charset."""
    parts = []
    for name, value in fields.items():
        data = (
            value if isinstance(value, bytes) else value.encode((charsets or {}).get(name, "utf-8"))
        )
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return {
        "content": b"".join(parts),
        "headers": {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    }


def mailgun_signed(
    fields: Mapping[str, str | bytes], *, at: float | None = None, token: str = ""
) -> dict[str, str | bytes]:
    timestamp = str(int(time.time() if at is None else at))
    token = token or hashlib.sha256(str(time.perf_counter_ns()).encode()).hexdigest()[:50]
    signature = hmac.new(MAILGUN_KEY.encode(), (timestamp + token).encode(), hashlib.sha256)
    return {**fields, "timestamp": timestamp, "token": token, "signature": signature.hexdigest()}


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def body_text(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


@dataclass
class Recorder:
    """The sink and unsubscribe callbacks, recording what reached them."""

    messages: list[InboundMessage] = field(default_factory=list)
    unsubscribed: list[str] = field(default_factory=list)
    fail_with: Exception | None = None

    async def sink(self, message: InboundMessage) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.messages.append(message)

    async def unsubscribe(self, token: str) -> bool:
        self.unsubscribed.append(token)
        return token.startswith("known-")

    def reset(self) -> None:
        self.messages.clear()
        self.unsubscribed.clear()
        self.fail_with = None


@dataclass
class Edge:
    client: httpx.AsyncClient
    recorder: Recorder
    port: int


Start = Callable[..., Awaitable[Edge]]

# One event loop for the module, so most tests share one server (starting and stopping uvicorn
# per test costs ~0.2 s); tests needing other settings start their own with `start`.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def start() -> AsyncIterator[Start]:
    """Starts apps with serve_http on free loopback ports; stops them all after the module."""
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    clients: list[httpx.AsyncClient] = []

    async def starter(
        secrets: WebhookSecrets = SECRETS, extra_routes: list[Route] | None = None
    ) -> Edge:
        recorder = Recorder()
        app = build_http_app(
            sink=recorder.sink,
            unsubscribe=recorder.unsubscribe,
            secrets=secrets,
            max_body_bytes=MAX_BODY,
        )
        app.router.routes.extend(extra_routes or [])
        port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        tasks.append(
            asyncio.create_task(serve_http(app, LOOPBACK, 0, stop, on_listening=port.set_result))
        )
        bound = await asyncio.wait_for(port, START_TIMEOUT_S)
        clients.append(httpx.AsyncClient(base_url=f"http://{LOOPBACK}:{bound}"))
        return Edge(clients[-1], recorder, bound)

    yield starter
    for client in clients:
        await client.aclose()
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), START_TIMEOUT_S)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def shared_edge(start: Start) -> Edge:
    return await start()


@pytest_asyncio.fixture(loop_scope="module")
async def edge(shared_edge: Edge) -> Edge:
    """The shared server, with an empty, healthy recorder."""
    shared_edge.recorder.reset()
    return shared_edge


# --- providers deliver what they received -------------------------------------------------


async def test_postmark_raw_email_is_delivered_byte_for_byte(edge: Edge) -> None:
    response = await edge.client.post(
        "/inbound/postmark", json=sample("postmark_raw.json"), headers=basic(POSTMARK_TOKEN)
    )
    assert (response.status_code, response.text) == (200, "OK")
    expected = [InboundMessage(REPLY_EML, (REPLY_ADDRESS,), "postmark")]
    assert edge.recorder.messages == expected


async def test_postmark_without_raw_email_is_rebuilt_with_threading_headers(edge: Edge) -> None:
    response = await edge.client.post(
        "/inbound/postmark", json=sample("postmark_parsed.json"), headers=basic(POSTMARK_TOKEN)
    )
    assert response.status_code == 200
    [delivered] = edge.recorder.messages
    assert delivered.recipients == (REPLY_ADDRESS,)
    message = parsed(delivered.raw)
    expected = {
        "From": "Ana Ruíz <ana.ruiz@gmail.com>",
        "To": f"Northstar Coaching <{REPLY_ADDRESS}>",
        "Subject": "Re: How is the grant proposal going?",
        "Date": "Tue, 01 Dec 2026 09:14:27 +0100",
        "Message-ID": GMAIL_MESSAGE_ID,  # the original's, not Postmark's stand-in
        "In-Reply-To": STEP_MESSAGE_ID,
        "References": STEP_MESSAGE_ID,
        "Received-SPF": sample("postmark_parsed.json")["Headers"][6]["Value"],
    }
    assert {name: message[name] for name in expected} == expected
    assert len(message.get_all("Message-ID") or []) == 1
    assert body_text(message, "plain").startswith(REPLY_TEXT)
    assert REPLY_TEXT in body_text(message, "html")


async def test_mailgun_mime_variant_is_delivered_byte_for_byte(edge: Edge) -> None:
    fields = mailgun_signed({**sample("mailgun_mime.json"), "body-mime": REPLY_EML})
    response = await edge.client.post("/inbound/mailgun", **multipart(fields))
    assert response.status_code == 200
    assert edge.recorder.messages == [InboundMessage(REPLY_EML, (REPLY_ADDRESS,), "mailgun")]


async def test_mailgun_urlencoded_post_is_accepted(edge: Edge) -> None:
    fields = mailgun_signed({**sample("mailgun_mime.json"), "body-mime": REPLY_EML})
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    response = await edge.client.post("/inbound/mailgun", content=urlencode(fields), headers=form)
    assert response.status_code == 200
    assert [m.raw for m in edge.recorder.messages] == [REPLY_EML]


async def test_mailgun_parsed_variant_is_rebuilt_from_message_headers(edge: Edge) -> None:
    fields = mailgun_signed(sample("mailgun_parsed.json"))
    body = multipart(fields)
    attachment = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachment-1"; '
        'filename="plan.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n'
    ).encode()
    body["content"] = attachment + body["content"]
    response = await edge.client.post("/inbound/mailgun", **body)
    assert response.status_code == 200
    [delivered] = edge.recorder.messages
    message = parsed(delivered.raw)
    expected = {
        "From": "Ana Ruíz <ana.ruiz@gmail.com>",
        "Message-Id": GMAIL_MESSAGE_ID,
        "In-Reply-To": STEP_MESSAGE_ID,
    }
    assert {name: message[name] for name in expected} == expected
    assert message.get_content_type() == "multipart/alternative"  # not the original's "mixed"
    assert (delivered.recipients, delivered.source) == ((REPLY_ADDRESS,), "mailgun")
    assert body_text(message, "plain").startswith(REPLY_TEXT)


async def test_sendgrid_raw_email_is_delivered_byte_for_byte(edge: Edge) -> None:
    fields = {**sample("sendgrid_raw.json"), "email": REPLY_EML}
    response = await edge.client.post(
        "/inbound/sendgrid", **_with_auth(multipart(fields), SENDGRID_TOKEN)
    )
    assert response.status_code == 200
    assert edge.recorder.messages == [InboundMessage(REPLY_EML, (REPLY_ADDRESS,), "sendgrid")]


async def test_sendgrid_parsed_fields_are_decoded_by_their_charsets(edge: Edge) -> None:
    fields = sample("sendgrid_parsed.json")
    body = multipart(fields, charsets=json.loads(fields["charsets"]))  # text goes as Latin-1
    response = await edge.client.post("/inbound/sendgrid", **_with_auth(body, SENDGRID_TOKEN))
    assert response.status_code == 200
    [delivered] = edge.recorder.messages
    message = parsed(delivered.raw)
    expected = {
        "Message-ID": GMAIL_MESSAGE_ID,
        "References": STEP_MESSAGE_ID,
        "From": "Ana Ruíz <ana.ruiz@gmail.com>",
        "Subject": "Re: How is the grant proposal going?",
    }
    assert {name: message[name] for name in expected} == expected
    assert len(message.get_all("Received") or []) == 2
    assert body_text(message, "plain").startswith(REPLY_TEXT)
    assert delivered.recipients == (REPLY_ADDRESS,)


def _with_auth(body: dict[str, Any], password: str) -> dict[str, Any]:
    return {**body, "headers": {**body["headers"], **basic(password)}}


# --- only the providers get in ------------------------------------------------------------

BASIC_ROUTES = [("/inbound/postmark", POSTMARK_TOKEN), ("/inbound/sendgrid", SENDGRID_TOKEN)]
BAD_AUTHORIZATIONS = {
    "missing": {},
    "wrong password": basic("guess"),
    "other provider's token": basic(MAILGUN_KEY),
    "not base64": {"Authorization": "Basic !!!"},
    "no colon": {"Authorization": "Basic " + base64.b64encode(b"only-user").decode()},
    "bearer": {"Authorization": f"Bearer {POSTMARK_TOKEN}"},
}


@pytest.mark.parametrize(("path", "_token"), BASIC_ROUTES)
@pytest.mark.parametrize("case", BAD_AUTHORIZATIONS)
async def test_basic_auth_routes_refuse_wrong_credentials(
    edge: Edge, path: str, _token: str, case: str
) -> None:
    response = await edge.client.post(path, json={}, headers=BAD_AUTHORIZATIONS[case])
    assert (response.status_code, response.text) == (401, "Unauthorized")
    assert response.headers["www-authenticate"].startswith("Basic ")
    assert edge.recorder.messages == []


def _mailgun_forgeries() -> dict[str, dict[str, str | bytes]]:
    good = mailgun_signed({**sample("mailgun_mime.json"), "body-mime": REPLY_EML})
    wrong_key = hmac.new(
        b"not-the-key", (str(good["timestamp"]) + str(good["token"])).encode(), "sha256"
    )
    return {
        "unsigned": {k: v for k, v in good.items() if k != "signature"},
        "wrong key": {**good, "signature": wrong_key.hexdigest()},
        "token swapped": {**good, "token": "a" * 50},
        "timestamp moved": {**good, "timestamp": str(int(str(good["timestamp"])) + 1)},
        "stale": mailgun_signed(good, at=time.time() - 301),
        "from the future": mailgun_signed(good, at=time.time() + 301),
    }


@pytest.mark.parametrize(
    "case",
    ["unsigned", "wrong key", "token swapped", "timestamp moved", "stale", "from the future"],
)
async def test_mailgun_refuses_bad_signatures_and_stale_timestamps(edge: Edge, case: str) -> None:
    response = await edge.client.post("/inbound/mailgun", **multipart(_mailgun_forgeries()[case]))
    assert (response.status_code, response.text) == (403, "Forbidden")
    assert edge.recorder.messages == []


async def test_mailgun_refuses_a_replayed_token(edge: Edge) -> None:
    fields = mailgun_signed({**sample("mailgun_mime.json"), "body-mime": REPLY_EML})
    first = await edge.client.post("/inbound/mailgun", **multipart(fields))
    replay = await edge.client.post("/inbound/mailgun", **multipart(fields))
    assert (first.status_code, replay.status_code) == (200, 403)
    assert len(edge.recorder.messages) == 1


async def test_mailgun_retry_after_a_sink_failure_is_not_taken_for_a_replay(edge: Edge) -> None:
    fields = mailgun_signed({**sample("mailgun_mime.json"), "body-mime": REPLY_EML})
    edge.recorder.fail_with = ConnectionError("redis down")
    failed = await edge.client.post("/inbound/mailgun", **multipart(fields))
    edge.recorder.fail_with = None
    retried = await edge.client.post("/inbound/mailgun", **multipart(fields))
    assert (failed.status_code, retried.status_code) == (503, 200)
    assert len(edge.recorder.messages) == 1


@pytest.mark.parametrize("path", ["/inbound/postmark", "/inbound/mailgun", "/inbound/sendgrid"])
async def test_a_provider_without_a_secret_is_not_there(start: Start, path: str) -> None:
    edge = await start(WebhookSecrets(postmark_token="", mailgun_signing_key=None))
    response = await edge.client.post(path, json={}, headers=basic(""))
    assert (response.status_code, response.text) == (404, "Not Found")
    assert edge.recorder.messages == []


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


MALFORMED = {
    "not json": (b"{not json", "bad request: invalid payload JSON"),
    "json list": (b"[1, 2]", "bad request: payload is not an object"),
    "hostile nesting": (b"[" * 30_000 + b"]" * 30_000, "bad request: invalid payload JSON"),
    "wrong type": (
        b'{"From": "a@b.example", "ToFull": "x"}',
        "bad request: ToFull is not a list of objects",
    ),
    "not postmark": (b'{"hello": "world"}', "bad request: not a Postmark inbound payload"),
}


@pytest.mark.parametrize("case", MALFORMED)
async def test_malformed_postmark_json_gets_400_with_a_short_reason(edge: Edge, case: str) -> None:
    body, reason = MALFORMED[case]
    response = await edge.client.post(
        "/inbound/postmark", content=body, headers=basic(POSTMARK_TOKEN)
    )
    assert (response.status_code, response.text) == (400, reason)
    assert edge.recorder.messages == []


async def test_a_non_form_mailgun_post_gets_400(edge: Edge) -> None:
    response = await edge.client.post("/inbound/mailgun", json={"token": "x"})
    assert (response.status_code, response.text) == (400, "bad request: expected a form body")


async def test_a_sendgrid_post_with_a_broken_envelope_gets_400(edge: Edge) -> None:
    fields = {**sample("sendgrid_raw.json"), "email": REPLY_EML, "envelope": '{"to": "nope"}'}
    response = await edge.client.post(
        "/inbound/sendgrid", **_with_auth(multipart(fields), SENDGRID_TOKEN)
    )
    assert (response.status_code, response.text) == (
        400,
        "bad request: envelope.to is not a list of addresses",
    )
    assert edge.recorder.messages == []


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


async def test_healthz_answers_ok(edge: Edge) -> None:
    response = await edge.client.get("/healthz")
    assert (response.status_code, response.text) == (200, "ok")


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
        "WebhookSecrets(postmark_token=set, mailgun_signing_key=set, sendgrid_token=set)"
    )
    assert repr(WebhookSecrets()) == (
        "WebhookSecrets(postmark_token=unset, mailgun_signing_key=unset, sendgrid_token=unset)"
    )


# --- serve_http ---------------------------------------------------------------------------


async def test_serve_http_leaves_signal_handling_to_the_daemon(start: Start) -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    edge = await start()
    assert (await edge.client.get("/healthz")).status_code == 200
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


async def test_serve_http_stops_when_told(start: Start) -> None:
    app = build_http_app(
        sink=Recorder().sink,
        unsubscribe=Recorder().unsubscribe,
        secrets=SECRETS,
        max_body_bytes=MAX_BODY,
    )
    stop = asyncio.Event()
    port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve_http(app, LOOPBACK, 0, stop, on_listening=port.set_result))
    bound = await asyncio.wait_for(port, START_TIMEOUT_S)
    stop.set()
    await asyncio.wait_for(task, START_TIMEOUT_S)
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(LOOPBACK, bound)


async def test_serve_http_on_a_taken_port_raises_instead_of_exiting(edge: Edge) -> None:
    app = build_http_app(
        sink=Recorder().sink,
        unsubscribe=Recorder().unsubscribe,
        secrets=SECRETS,
        max_body_bytes=MAX_BODY,
    )
    with pytest.raises(OSError):
        await serve_http(app, LOOPBACK, edge.port, asyncio.Event())
