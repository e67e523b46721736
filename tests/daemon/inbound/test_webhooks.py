"""Provider webhooks over real HTTP: each delivers exactly what it received, and only to them."""

from __future__ import annotations

import base64
import hmac
import json
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest
import pytest_asyncio

from daemon.inbound.message import InboundMessage
from daemon.inbound.webhooks import WebhookSecrets
from tests.helpers.webhooks import (
    BOUNDARY,
    GMAIL_MESSAGE_ID,
    MAILGUN_KEY,
    POSTMARK_TOKEN,
    REPLY_ADDRESS,
    REPLY_EML,
    REPLY_TEXT,
    SENDGRID_TOKEN,
    STEP_MESSAGE_ID,
    Edge,
    RedisServer,
    Start,
    basic,
    body_text,
    mailgun_signed,
    multipart,
    parsed,
    sample,
    webhook_servers,
    with_auth,
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
        "/inbound/sendgrid", **with_auth(multipart(fields), SENDGRID_TOKEN)
    )
    assert response.status_code == 200
    assert edge.recorder.messages == [InboundMessage(REPLY_EML, (REPLY_ADDRESS,), "sendgrid")]


async def test_sendgrid_parsed_fields_are_decoded_by_their_charsets(edge: Edge) -> None:
    fields = sample("sendgrid_parsed.json")
    body = multipart(fields, charsets=json.loads(fields["charsets"]))  # text goes as Latin-1
    response = await edge.client.post("/inbound/sendgrid", **with_auth(body, SENDGRID_TOKEN))
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


# --- only the providers get in ------------------------------------------------------------

BASIC_AUTH_ROUTES = ["/inbound/postmark", "/inbound/sendgrid"]
BAD_AUTHORIZATIONS = {
    "missing": {},
    "wrong password": basic("guess"),
    "other provider's token": basic(MAILGUN_KEY),
    "not base64": {"Authorization": "Basic !!!"},
    "no colon": {"Authorization": "Basic " + base64.b64encode(b"only-user").decode()},
    "bearer": {"Authorization": f"Bearer {POSTMARK_TOKEN}"},
}


@pytest.mark.parametrize("path", BASIC_AUTH_ROUTES)
@pytest.mark.parametrize("case", BAD_AUTHORIZATIONS)
async def test_basic_auth_routes_refuse_wrong_credentials(edge: Edge, path: str, case: str) -> None:
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


# --- malformed payloads ------------------------------------------------------------------


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
        "/inbound/sendgrid", **with_auth(multipart(fields), SENDGRID_TOKEN)
    )
    assert (response.status_code, response.text) == (
        400,
        "bad request: envelope.to is not a list of addresses",
    )
    assert edge.recorder.messages == []
