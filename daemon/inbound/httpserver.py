"""Runs an ASGI app on uvicorn inside coachd's own event loop until an event says stop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import structlog
import uvicorn
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

log = structlog.get_logger(__name__)

GRACEFUL_SHUTDOWN_S = 10
BUSY_STATUS = 503
BUSY_HEADERS = {"Retry-After": "10"}
# A request that declares at most this much body (GET probes, one-click unsubscribe) buffers
# too little to count against `max_requests`: else a few dozen clients dribbling tiny bodies,
# with no credentials at all, held every slot and even /healthz answered 503.
SMALL_BODY_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """How long a client may take, and how many may be served at once (see docs/security.md).

    `max_connections` counts open sockets (idle ones too); past it uvicorn answers 503.
    `max_requests` counts requests being handled that may buffer a large body (chunked, or a
    declared length over SMALL_BODY_BYTES), so it is what bounds memory; the others are
    bounded by `max_connections` and the deadlines. An idle socket costs a descriptor until a
    deadline closes it.
    """

    header_timeout_s: float = 10.0
    body_timeout_s: float = 60.0
    keep_alive_s: int = 5
    max_connections: int = 512
    max_requests: int = 32


class _DeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol with read deadlines, which uvicorn itself does not have.

    From the moment a connection opens (or a response ends) the client has `header_s` to
    finish a request's headers, and then `body_s` to finish its body; a client that is late
    is disconnected. uvicorn's keep-alive timer alone is cancelled by any byte received, so a
    client sending one byte a second could hold a socket for ever.
    """

    header_s: float
    body_s: float

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_s, "header")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        if self.cycle is not before:  # a request's headers are complete
            self._arm(self.body_s, "body")

    def on_response_complete(self) -> None:
        finished = self.cycle
        super().on_response_complete()  # may start a pipelined request (and arm its body)
        if self.cycle is finished and not self.transport.is_closing():
            self._arm(self.header_s, "header")

    def _arm(self, delay: float, phase: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(delay, self._overdue, phase)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _overdue(self, phase: str) -> None:
        self._deadline = None
        cycle = self.cycle
        if phase == "body" and (cycle is None or cycle.response_complete or not cycle.more_body):
            return  # the body arrived; the app may take its time answering
        log.debug("http_client_too_slow", phase=phase)
        self.transport.close()


def deadline_protocol(header_s: float, body_s: float) -> type[H11Protocol]:
    """The h11 protocol class uvicorn should use, with these read deadlines."""
    return type("DeadlineProtocol", (_DeadlineProtocol,), {"header_s": header_s, "body_s": body_s})


def may_buffer_much(scope: Scope) -> bool:
    """Whether a request may bring a body over SMALL_BODY_BYTES: chunked, or declared so.
    (h11 has checked the headers: one Content-Length of digits, no chunked and length both.)"""
    for name, value in scope["headers"]:
        if name == b"transfer-encoding":
            return True
        if name == b"content-length" and int(value) > SMALL_BODY_BYTES:
            return True
    return False


class RequestLimiter:
    """ASGI middleware: at most `limit` requests that may buffer a large body in the app at
    once (see `may_buffer_much`); the next such get 503. The rest pass uncounted."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.active = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not may_buffer_much(scope):
            await self.app(scope, receive, send)
            return
        if self.active >= self.limit:
            log.warning("http_busy", limit=self.limit)
            busy = PlainTextResponse("busy", BUSY_STATUS, headers=BUSY_HEADERS)
            await busy(scope, receive, send)
            return
        self.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1


class _Server(uvicorn.Server):
    """uvicorn without its SIGINT/SIGTERM handlers: the daemon owns signals and sets `stop`."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family)


async def _exit_on(stop: asyncio.Event, server: uvicorn.Server) -> None:
    await stop.wait()
    server.should_exit = True  # uvicorn notices within one tick (0.1 s) and shuts down


def _config(app: ASGIApp, limits: HttpLimits) -> uvicorn.Config:
    return uvicorn.Config(
        RequestLimiter(app, limits.max_requests),
        http=deadline_protocol(limits.header_timeout_s, limits.body_timeout_s),
        log_config=None,
        access_log=False,
        lifespan="off",
        ws="none",
        server_header=False,
        limit_concurrency=limits.max_connections,
        timeout_keep_alive=limits.keep_alive_s,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )


async def serve_http(
    app: ASGIApp,
    host: str,
    port: int,
    stop: asyncio.Event,
    *,
    limits: HttpLimits | None = None,
    on_listening: Callable[[int], None] | None = None,
) -> None:
    """Serve `app` until `stop` is set; port 0 picks a free port, reported to `on_listening`.

    Binding here, not in uvicorn, makes a taken port an OSError instead of uvicorn's sys.exit.
    uvicorn logs through stdlib logging (log_config=None); its access log is off because
    unsubscribe URLs carry tokens.
    """
    server = _Server(_config(app, limits or HttpLimits()))
    sock = _listen(host, port)
    bound_port: int = sock.getsockname()[1]
    log.info("http_listening", host=host, port=bound_port)
    if on_listening is not None:
        on_listening(bound_port)
    watcher = asyncio.create_task(_exit_on(stop, server))
    try:
        await server.serve(sockets=[sock])
    finally:
        watcher.cancel()
        sock.close()
