"""Runs an ASGI app on uvicorn inside coachd's own event loop until an event says stop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Iterator

import structlog
import uvicorn
from starlette.types import ASGIApp

log = structlog.get_logger(__name__)

GRACEFUL_SHUTDOWN_S = 10
# Each request may buffer up to the body limit; this caps the sum (excess connections get 503).
MAX_CONCURRENT_CONNECTIONS = 32


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


async def serve_http(
    app: ASGIApp,
    host: str,
    port: int,
    stop: asyncio.Event,
    *,
    on_listening: Callable[[int], None] | None = None,
) -> None:
    """Serve `app` until `stop` is set; port 0 picks a free port, reported to `on_listening`.

    Binding here, not in uvicorn, makes a taken port an OSError instead of uvicorn's sys.exit.
    uvicorn logs through stdlib logging (log_config=None); its access log is off because
    unsubscribe URLs carry tokens.
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
    watcher = asyncio.create_task(_exit_on(stop, server))
    try:
        await server.serve(sockets=[sock])
    finally:
        watcher.cancel()
        sock.close()
