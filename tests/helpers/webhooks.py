"""Shared harness for the HTTP edge tests: samples, provider-shaped requests, a recording server."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis
from starlette.routing import Route

from daemon.inbound.httpserver import HttpLimits
from daemon.inbound.message import InboundMessage
from daemon.inbound.webguard import DEFAULT_UNVERIFIED_PARSES
from daemon.inbound.webhooks import WebhookSecrets, build_http_app, serve_http
from daemon.metrics import Metrics
from daemon.store.embedded import EmbeddedRedis
from tests.helpers.redis import ExternalRedis

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
BOUNDARY = "xYzZY"
LOOPBACK = "127.0.0.1"
START_TIMEOUT_S = 5.0


RedisServer = EmbeddedRedis | ExternalRedis  # the session's `redis_server` fixture


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


@asynccontextmanager
async def webhook_servers(redis_url: str) -> AsyncIterator[Start]:
    """Starts apps with serve_http on free loopback ports; stops them all on exit.

    Every app keeps Mailgun's replay memory in the Redis at `redis_url`.
    """
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    clients: list[httpx.AsyncClient] = []
    redis = Redis.from_url(redis_url)

    async def starter(
        secrets: WebhookSecrets = SECRETS,
        extra_routes: list[Route] | None = None,
        *,
        limits: HttpLimits | None = None,
        max_body: int = MAX_BODY,
        unverified_parses: int = DEFAULT_UNVERIFIED_PARSES,
        counters: Metrics | None = None,
    ) -> Edge:
        recorder = Recorder()
        app = build_http_app(
            sink=recorder.sink,
            unsubscribe=recorder.unsubscribe,
            secrets=secrets,
            max_body_bytes=max_body,
            redis=redis,
            unverified_parses=unverified_parses,
            counters=counters,
        )
        app.router.routes.extend(extra_routes or [])
        port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        served = serve_http(app, LOOPBACK, 0, stop, limits=limits, on_listening=port.set_result)
        tasks.append(asyncio.create_task(served))
        bound = await asyncio.wait_for(port, START_TIMEOUT_S)
        clients.append(httpx.AsyncClient(base_url=f"http://{LOOPBACK}:{bound}"))
        return Edge(clients[-1], recorder, bound)

    try:
        yield starter
    finally:
        for client in clients:
            await client.aclose()
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), START_TIMEOUT_S)
        await redis.aclose()


def with_auth(body: dict[str, Any], password: str) -> dict[str, Any]:
    return {**body, "headers": {**body["headers"], **basic(password)}}
