"""The HTTP edge: provider inbound webhooks, RFC 8058 one-click unsubscribe, and its server."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import socket
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, fields
from http import HTTPStatus

import structlog
import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from daemon.inbound import InboundMessage, MessageSink
from daemon.mimebuild import MalformedPayloadError
from daemon.providers import parse_form, parse_mailgun, parse_postmark, parse_sendgrid
from daemon.settings import Settings
from daemon.webguard import InternalErrorGuard, MailgunVerifier, basic_auth_matches

log = structlog.get_logger(__name__)

Unsubscriber = Callable[[str], Awaitable[bool]]

WWW_AUTHENTICATE = {"WWW-Authenticate": 'Basic realm="coachd", charset="UTF-8"'}
RETRY_AFTER_S = 60
MAX_UNSUBSCRIBE_TOKEN_CHARS = 512
ONE_CLICK_FIELD, ONE_CLICK_VALUE = "List-Unsubscribe", b"One-Click"
DIGEST_HEX_CHARS = 16
GRACEFUL_SHUTDOWN_S = 10
# Each request may buffer up to max_body_bytes; this caps the sum (excess gets a 503).
MAX_CONCURRENT_CONNECTIONS = 32
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
    """Per-provider shared secrets; an unset (or empty) one disables that provider's route."""

    postmark_token: str | None = None
    mailgun_signing_key: str | None = None
    sendgrid_token: str | None = None

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{item.name}={'set' if getattr(self, item.name) else 'unset'}" for item in fields(self)
        )
        return f"WebhookSecrets({shown})"

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookSecrets:
        def reveal(secret: SecretStr | None) -> str | None:
            return secret.get_secret_value() if secret is not None else None

        return cls(
            postmark_token=reveal(settings.postmark_token),
            mailgun_signing_key=reveal(settings.mailgun_signing_key),
            sendgrid_token=reveal(settings.sendgrid_token),
        )


def plain(
    status: int, reason: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    """A short plain-text answer: the status phrase, or a reason that never echoes input."""
    text = reason or HTTPStatus(status).phrase
    return PlainTextResponse(text, status_code=status, headers=headers)


def _digest(raw: bytes) -> str:
    """An id for a message that reveals nothing of it: correlates logs with the stored event."""
    return hashlib.sha256(raw).hexdigest()[:DIGEST_HEX_CHARS]


class Endpoints:
    """The route handlers, holding what they share: the sink, the secrets, the replay memory."""

    def __init__(
        self, sink: MessageSink, unsubscribe: Unsubscriber, secrets: WebhookSecrets
    ) -> None:
        self._sink = sink
        self._unsubscribe = unsubscribe
        self._secrets = secrets
        key = secrets.mailgun_signing_key
        self._mailgun = MailgunVerifier(key) if key else None

    async def postmark(self, request: Request) -> Response:
        return await self._basic_auth_route(request, self._secrets.postmark_token, "postmark")

    async def sendgrid(self, request: Request) -> Response:
        return await self._basic_auth_route(request, self._secrets.sendgrid_token, "sendgrid")

    async def _basic_auth_route(self, request: Request, token: str | None, source: str) -> Response:
        if not token:
            return plain(HTTPStatus.NOT_FOUND)
        if not basic_auth_matches(request.headers.get("authorization"), token):
            log.warning("webhook_rejected", source=source, reason="basic_auth")
            return plain(HTTPStatus.UNAUTHORIZED, headers=WWW_AUTHENTICATE)
        body = await request.body()
        try:
            if source == "postmark":
                message = parse_postmark(body)
            else:
                message = parse_sendgrid(parse_form(request.headers.get("content-type", ""), body))
        except MalformedPayloadError as exc:
            return self._malformed(source, exc)
        return await self._deliver(message)

    async def mailgun(self, request: Request) -> Response:
        if self._mailgun is None:
            return plain(HTTPStatus.NOT_FOUND)
        body = await request.body()
        try:
            fields = parse_form(request.headers.get("content-type", ""), body)
        except MalformedPayloadError as exc:
            return self._malformed("mailgun", exc)
        proof = [fields.get(name, b"").decode("utf-8", "replace") for name in _MAILGUN_PROOF]
        rejection = self._mailgun.admit(*proof)
        if rejection is not None:
            log.warning("webhook_rejected", source="mailgun", reason=rejection.value)
            return plain(HTTPStatus.FORBIDDEN)
        try:
            response = await self._deliver(parse_mailgun(fields))
        except MalformedPayloadError as exc:
            response = self._malformed("mailgun", exc)
        if response.status_code != HTTPStatus.OK:  # let the provider's retry through
            self._mailgun.release(proof[1])
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
            return plain(
                HTTPStatus.SERVICE_UNAVAILABLE, headers={"Retry-After": str(RETRY_AFTER_S)}
            )
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
            return plain(
                HTTPStatus.SERVICE_UNAVAILABLE, headers={"Retry-After": str(RETRY_AFTER_S)}
            )
        log.info("unsubscribe_requested", known=done)
        if not done:
            return plain(HTTPStatus.NOT_FOUND)
        return plain(HTTPStatus.OK, "unsubscribed", headers=PAGE_HEADERS)

    async def healthz(self, request: Request) -> Response:
        return plain(HTTPStatus.OK, "ok")


_MAILGUN_PROOF = ("timestamp", "token", "signature")


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
) -> Starlette:
    """The ASGI app; a body over `max_body_bytes` gets 413 without being read to the end.

    Starlette's limiter refuses a declared Content-Length before the first read (so no
    `100 Continue` is sent) and counts a chunked body as it arrives. uvicorn then discards
    whatever else the client sends on that connection, so the client still sees the 413.
    """
    endpoints = Endpoints(sink, unsubscribe, secrets)

    def post(path: str, endpoint: Callable[[Request], Awaitable[Response]]) -> Route:
        # Per route, not per app: there Starlette puts the limiter outside user middleware,
        # where its control-flow exception would reach InternalErrorGuard as an "error".
        return Route(path, endpoint, methods=["POST"], max_body_size=max_body_bytes)

    routes = [
        post("/inbound/postmark", endpoints.postmark),
        post("/inbound/mailgun", endpoints.mailgun),
        post("/inbound/sendgrid", endpoints.sendgrid),
        Route("/unsubscribe/{token}", endpoints.unsubscribe_page, methods=["GET"]),
        post("/unsubscribe/{token}", endpoints.unsubscribe),
        Route("/healthz", endpoints.healthz, methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(InternalErrorGuard)],
        exception_handlers={HTTPException: _http_error},
    )


class _Server(uvicorn.Server):
    """uvicorn without its SIGINT/SIGTERM handlers: the daemon owns signals and sets `stop`."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family)


async def serve_http(
    app: Starlette,
    host: str,
    port: int,
    stop: asyncio.Event,
    *,
    on_listening: Callable[[int], None] | None = None,
) -> None:
    """Serve `app` until `stop` is set; port 0 picks a free one, reported to `on_listening`.

    Binding here (not in uvicorn) makes a taken port an OSError rather than uvicorn's
    sys.exit. uvicorn's records go to stdlib logging (log_config=None); its access log is off
    because unsubscribe URLs carry tokens.
    """
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="off",
        ws="none",
        server_header=False,
        limit_concurrency=MAX_CONCURRENT_CONNECTIONS,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    server = _Server(config)
    sock = _listen(host, port)
    bound_port: int = sock.getsockname()[1]
    log.info("http_listening", host=host, port=bound_port)
    if on_listening is not None:
        on_listening(bound_port)

    async def exit_on_stop() -> None:
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.create_task(exit_on_stop())
    try:
        await server.serve(sockets=[sock])
    finally:
        watcher.cancel()
        sock.close()
