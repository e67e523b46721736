"""A reply to a coachd email arriving by webhook or IMAP changes the commitment, like SMTP does."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage

import httpx
import pytest

from daemon.inbound.httpserver import serve_http
from daemon.inbound.imappoller import ImapConfig, ImapPoller
from daemon.inbound.intake import ReplyIntake
from daemon.inbound.webhooks import WebhookSecrets, build_http_app
from daemon.store.embedded import pick_free_port
from tests.helpers.events import created
from tests.helpers.imap import Dovecot, dovecot_missing, start_dovecot
from tests.helpers.loop import Loop

pytestmark = pytest.mark.integration

DOMAIN = "reply.northstar.example"
REMINDER_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
TOKEN = "postmark-secret-0123456789"
START_TIMEOUT_S = 10.0


def done_reply(reminder: EmailMessage) -> bytes:
    answer = EmailMessage()
    answer["From"] = "Ana Ruiz <ana@example.org>"
    answer["To"] = reminder["Reply-To"]
    answer["Subject"] = f"Re: {reminder['Subject']}"
    answer["Date"] = "Tue, 01 Dec 2026 10:00:00 +0100"
    answer["Message-ID"] = "<route-test@mail.example.org>"
    answer["In-Reply-To"] = reminder["Message-ID"]
    answer.set_content("Done!\n\nEnviado desde mi iPhone\n")
    return answer.as_bytes()


async def reminded(loop: Loop) -> EmailMessage:
    await loop.emit(created())
    await loop.consume()
    await loop.advance(REMINDER_AT)
    return loop.messages[0].message


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    missing = dovecot_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    server = start_dovecot()
    yield server
    server.stop()


async def test_a_postmark_webhook_reply_completes_the_commitment(loop: Loop) -> None:
    reminder = await reminded(loop)
    intake = ReplyIntake(loop.redis, loop.services.signing_key, DOMAIN)
    app = build_http_app(
        sink=intake,
        unsubscribe=intake.unsubscribe,
        secrets=WebhookSecrets(postmark_token=TOKEN),
        max_body_bytes=1 << 20,
    )
    stop = asyncio.Event()
    listening: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    server = asyncio.create_task(
        serve_http(app, "127.0.0.1", 0, stop, on_listening=listening.set_result)
    )
    port = await asyncio.wait_for(listening, START_TIMEOUT_S)
    raw = done_reply(reminder)
    payload = {
        "RawEmail": raw.decode(),
        "OriginalRecipient": str(reminder["Reply-To"]),
        "MessageID": "b7bc2f4a-e38e-4336-af7d-e6c392c2f817",
    }
    auth = "Basic " + base64.b64encode(f"postmark:{TOKEN}".encode()).decode()
    try:
        async with httpx.AsyncClient() as http:
            answer = await http.post(
                f"http://127.0.0.1:{port}/inbound/postmark",
                json=payload,
                headers={"Authorization": auth},
            )
    finally:
        stop.set()
        await server
    assert answer.status_code == 200
    await loop.consume()
    assert (await loop.commitment())["status"] == "completed"


async def test_an_imap_reply_completes_the_commitment_once(loop: Loop, dovecot: Dovecot) -> None:
    reminder = await reminded(loop)
    intake = ReplyIntake(loop.redis, loop.services.signing_key, DOMAIN)
    user = f"routes{pick_free_port()}"
    await asyncio.to_thread(dovecot.append, user, done_reply(reminder), "INBOX")
    config = ImapConfig(
        host="127.0.0.1",
        port=dovecot.port,
        tls="none",
        user=user,
        password="secret",
        poll_s=1.0,
        timeout_s=5.0,
    )

    assert await ImapPoller(config, loop.redis, intake).poll_once() == 1
    assert await ImapPoller(config, loop.redis, intake).poll_once() == 0  # marked handled
    await loop.consume()
    state = await loop.commitment()
    assert (state["status"], state["replies"]) == ("completed", "1")
