"""The HTTP app: provider webhooks, RFC 8058 one-click unsubscribe, health checks, metrics."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from http import HTTPStatus

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from daemon.health import Readiness, healthz, readyz_endpoint
from daemon.inbound.eventroute import EventsRoute
from daemon.inbound.form import FormReader, parse_form
from daemon.inbound.httpserver import serve_http
from daemon.inbound.message import InboundMessage, MessageSink
from daemon.inbound.mimebuild import MalformedPayloadError
from daemon.inbound.providers import (
    parse_mailgun,
    parse_postmark,
    parse_sendgrid,
)
from daemon.inbound.webguard import (
    DEFAULT_UNVERIFIED_PARSES,
    RETRY_LATER,
    InternalErrorGuard,
    MailgunVerifier,
    Rejection,
    VerifierBusyError,
    basic_auth_matches,
    mailgun_proof,
    plain,
)
from daemon.inbox.eventbody import MAX_BODY_BYTES as MAX_EVENTS_BODY_BYTES
from daemon.metrics import Metrics

# serve_http lives with the server plumbing; it is re-exported as part of this module's API.
__all__ = ["Unsubscriber", "WebhookSecrets", "build_http_app", "serve_http"]

log = structlog.get_logger(__name__)

Unsubscriber = Callable[[str], Awaitable[bool]]
PayloadReader = Callable[[str, bytes], InboundMessage]  # (content type, body) -> message

WWW_AUTHENTICATE = {"WWW-Authenticate": 'Basic realm="coachd", charset="UTF-8"'}
MAX_UNSUBSCRIBE_TOKEN_CHARS = 512
# RFC 8058's body is "List-Unsubscribe=One-Click" (26 bytes); as multipart, a few hundred.
MAX_UNSUBSCRIBE_BODY_BYTES = 1024
ONE_CLICK_FIELD, ONE_CLICK_VALUE = "List-Unsubscribe", b"One-Click"
DIGEST_HEX_CHARS = 16
# The page's only action is a POST to its own URL; no scripts, no referrer leaking the token.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
UNSUBSCRIBE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Unsubscribe</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>Stop these emails?</h1>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button></form></body></html>
"""


@dataclass(frozen=True, slots=True)
class WebhookSecrets:
    """The HTTP doors' shared secrets; an unset (or empty) one disables that door's route."""

    postmark_token: str | None = None
    mailgun_signing_key: str | None = None
    sendgrid_token: str | None = None
    events_token: str | None = None  # POST /events

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{item.name}={'set' if getattr(self, item.name) else 'unset'}" for item in fields(self)
        )
        return f"WebhookSecrets({shown})"


def _read_postmark(_content_type: str, body: bytes) -> InboundMessage:
    return parse_postmark(body)


def _read_sendgrid(content_type: str, body: bytes) -> InboundMessage:
    return parse_sendgrid(parse_form(content_type, body))


def _digest(raw: bytes) -> str:
    """An id for a message that reveals nothing of it: correlates logs with the stored event."""
    return hashlib.sha256(raw).hexdigest()[:DIGEST_HEX_CHARS]


class Endpoints:
    """The route handlers, holding what they share: the sink, the secrets, the body limits."""

    def __init__(
        self,
        sink: MessageSink,
        unsubscribe: Unsubscriber,
        secrets: WebhookSecrets,
        max_body_bytes: int,
        mailgun: MailgunVerifier | None,
    ) -> None:
        self._sink = sink
        self._unsubscribe = unsubscribe
        self._secrets = secrets
        self._max_body = max_body_bytes
        self._mailgun = mailgun

    async def postmark(self, request: Request) -> Response:
        token = self._secrets.postmark_token
        return await self._basic_auth_route(request, token, "postmark", _read_postmark)

    async def sendgrid(self, request: Request) -> Response:
        token = self._secrets.sendgrid_token
        return await self._basic_auth_route(request, token, "sendgrid", _read_sendgrid)

    async def _basic_auth_route(
        self, request: Request, token: str | None, source: str, read: PayloadReader
    ) -> Response:
        """Postmark and SendGrid do not sign: their webhook URL carries Basic credentials."""
        if not token:
            return plain(HTTPStatus.NOT_FOUND)
        if not basic_auth_matches(request.headers.get("authorization"), token):
            log.warning("webhook_rejected", source=source, reason="basic_auth")
            return plain(HTTPStatus.UNAUTHORIZED, headers=WWW_AUTHENTICATE)
        try:
            message = read(request.headers.get("content-type", ""), await request.body())
        except MalformedPayloadError as exc:
            return self._malformed(source, exc)
        return await self._deliver(message)

    async def mailgun(self, request: Request) -> Response:
        """The signature is checked as soon as its fields arrive, before the rest is read."""
        if self._mailgun is None:
            return plain(HTTPStatus.NOT_FOUND)
        try:
            reader = FormReader(request.headers.get("content-type", ""))
            chunks = request.stream()
            rejection = await self._mailgun.read_proof(chunks, reader)
            if rejection is None:
                async for chunk in chunks:
                    reader.feed(chunk)
                reader.finish()
        except MalformedPayloadError as exc:
            return self._malformed("mailgun", exc)
        except VerifierBusyError:
            log.warning("webhook_busy", source="mailgun", reason="unverified_parses")
            return plain(HTTPStatus.SERVICE_UNAVAILABLE, headers=RETRY_LATER)
        return await self._admit_mailgun(reader.fields, rejection)

    async def _admit_mailgun(
        self, fields: dict[str, bytes], rejection: Rejection | None
    ) -> Response:
        assert self._mailgun is not None
        token = mailgun_proof(fields)[1]
        if rejection is None:
            try:
                rejection = await self._mailgun.claim(token)
            except RedisError as exc:
                log.warning("webhook_not_checked", source="mailgun", error=type(exc).__name__)
                return plain(HTTPStatus.SERVICE_UNAVAILABLE, headers=RETRY_LATER)
        if rejection is not None:
            log.warning("webhook_rejected", source="mailgun", reason=rejection.value)
            return plain(HTTPStatus.FORBIDDEN)
        try:
            response = await self._deliver(parse_mailgun(fields))
        except MalformedPayloadError as exc:
            response = self._malformed("mailgun", exc)
        if response.status_code != HTTPStatus.OK:  # let the provider's retry through
            await self._mailgun.release(token)
        return response

    def _malformed(self, source: str, exc: MalformedPayloadError) -> Response:
        log.warning("webhook_malformed", source=source, reason=exc.reason)
        return plain(HTTPStatus.BAD_REQUEST, f"bad request: {exc.reason}")

    async def _deliver(self, message: InboundMessage) -> Response:
        digest = _digest(message.raw)
        try:
            await self._sink(message)
        except Exception as exc:  # the route's boundary: the provider keeps it and retries
            log.warning(
                "inbound_not_accepted",
                source=message.source,
                raw_sha=digest,
                error=type(exc).__name__,
            )
            return plain(HTTPStatus.SERVICE_UNAVAILABLE, headers=RETRY_LATER)
        log.info("inbound_accepted", source=message.source, raw_sha=digest, size=len(message.raw))
        return plain(HTTPStatus.OK)

    async def unsubscribe_page(self, request: Request) -> Response:
        """GET only shows a button: mail scanners follow links, and must not unsubscribe anyone."""
        return HTMLResponse(UNSUBSCRIBE_PAGE, headers=PAGE_HEADERS)

    async def unsubscribe(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            form = parse_form(request.headers.get("content-type", ""), await request.body())
        except MalformedPayloadError as exc:
            return self._malformed("unsubscribe", exc)
        if form.get(ONE_CLICK_FIELD) != ONE_CLICK_VALUE:
            return plain(HTTPStatus.BAD_REQUEST, "bad request: not a one-click unsubscribe")
        if len(token) > MAX_UNSUBSCRIBE_TOKEN_CHARS:
            return plain(HTTPStatus.NOT_FOUND)
        try:
            done = await self._unsubscribe(token)
        except Exception as exc:  # the route's boundary: the mail client may try again
            log.warning("unsubscribe_failed", error=type(exc).__name__)
            return plain(HTTPStatus.SERVICE_UNAVAILABLE, headers=RETRY_LATER)
        log.info("unsubscribe_requested", known=done)
        if not done:
            return plain(HTTPStatus.NOT_FOUND)
        return plain(HTTPStatus.OK, "unsubscribed", headers=PAGE_HEADERS)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Framework errors (404, 405, 413…): Starlette's own phrase, never request content."""
    if not isinstance(exc, HTTPException):  # registered for HTTPException only
        raise exc
    if exc.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
        log.warning("http_body_too_large", route=getattr(request.scope.get("route"), "name", None))
    return plain(exc.status_code, exc.detail, headers=dict(exc.headers or {}))


def build_http_app(
    *,
    sink: MessageSink,
    unsubscribe: Unsubscriber,
    secrets: WebhookSecrets,
    max_body_bytes: int,
    redis: Redis | None = None,
    unverified_parses: int = DEFAULT_UNVERIFIED_PARSES,
    readiness: Readiness | None = None,
    metrics: Callable[[Request], Awaitable[Response]] | None = None,
    counters: Metrics | None = None,
) -> Starlette:
    """The ASGI app; a body over the route's limit gets 413 without being read to the end.

    `redis` holds Mailgun's replay memory; without it no Mailgun post is admitted. At most
    `unverified_parses` Mailgun bodies are read at once before their signature is checked.
    `readiness` answers `/readyz` (without one, never ready); `/healthz` needs nothing;
    `metrics` (daemon.scrape) answers `/metrics`, which is not served without it; `counters`
    counts what POST /events dead-letters.
    POST /events is served when `secrets.events_token` is set (it needs `redis`).

    Starlette's limiter refuses a declared Content-Length before the first read (so no
    `100 Continue` is sent) and counts a chunked body as it arrives. uvicorn then discards
    whatever else the client sends on that connection, so the client still sees the 413.
    """
    key = secrets.mailgun_signing_key
    mailgun = MailgunVerifier(key, redis, unverified_parses) if key else None
    endpoints = Endpoints(sink, unsubscribe, secrets, max_body_bytes, mailgun)

    def post(
        path: str,
        endpoint: Callable[[Request], Awaitable[Response]],
        max_bytes: int = max_body_bytes,
    ) -> Route:
        # Per route, not per app: there Starlette puts the limiter outside user middleware,
        # where its control-flow exception would reach InternalErrorGuard as an "error".
        return Route(path, endpoint, methods=["POST"], max_body_size=max_bytes)

    routes = [
        post("/inbound/postmark", endpoints.postmark),
        post("/inbound/mailgun", endpoints.mailgun),
        post("/inbound/sendgrid", endpoints.sendgrid),
        Route("/unsubscribe/{token}", endpoints.unsubscribe_page, methods=["GET"]),
        post("/unsubscribe/{token}", endpoints.unsubscribe, MAX_UNSUBSCRIBE_BODY_BYTES),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz_endpoint(readiness), methods=["GET"]),
    ]
    if secrets.events_token and redis is not None:  # else no route: a bare 404
        events = EventsRoute(redis, secrets.events_token, counters)
        routes.append(post("/events", events.post, MAX_EVENTS_BODY_BYTES))
    if metrics is not None:
        routes.append(Route("/metrics", metrics, methods=["GET"]))
    return Starlette(
        routes=routes,
        middleware=[Middleware(InternalErrorGuard)],
        exception_handlers={HTTPException: _http_error},
    )
