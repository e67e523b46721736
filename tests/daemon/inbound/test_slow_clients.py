"""Hostile HTTP clients on a real loopback server: idle and slow sockets, unsigned bulk, replays."""

from __future__ import annotations

import asyncio
import contextlib
import time
import tracemalloc
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from daemon.inbound.httpserver import HttpLimits
from tests.helpers.webhooks import (
    BOUNDARY,
    CHUNK,
    LOOPBACK,
    REPLY_EML,
    Edge,
    RedisServer,
    Start,
    mailgun_signed,
    multipart,
    sample,
    webhook_servers,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

IDLE_CONNECTIONS = 40  # more than the 32 that used to make every request a 503
ANSWER_WITHIN_S = 2.0
HEADER_TIMEOUT_S = 2.0
BODY_TIMEOUT_S = 2.0
SLACK_S = 2.0  # a deadline fires within a tick; the rest is a busy shared machine
FAST = HttpLimits(header_timeout_s=HEADER_TIMEOUT_S, body_timeout_s=BODY_TIMEOUT_S)
POSTS, POST_BYTES = 8, 5 * 1024 * 1024
UNVERIFIED_PARSES = 2
# Each unverified read holds its body, and python-multipart joins a field's chunks (x2);
# all eight at once (as before) would hold at least POSTS * POST_BYTES = 40 MiB.
MEMORY_BOUND = (UNVERIFIED_PARSES + 1) * 2 * POST_BYTES
ONE_CLICK = b"List-Unsubscribe=One-Click"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def start(redis_server: RedisServer) -> AsyncIterator[Start]:
    async with webhook_servers(redis_server.url) as starter:
        yield starter


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    """True when the server closes the connection (EOF or reset) within `seconds`."""
    try:
        while await asyncio.wait_for(reader.read(1024), seconds):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


@contextlib.asynccontextmanager
async def _connection(
    edge: Edge,
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection(LOOPBACK, edge.port)
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def test_forty_idle_connections_do_not_turn_a_request_into_a_503(start: Start) -> None:
    """Idle sockets count against the connection cap (512), not the request cap (32)."""
    edge = await start()
    idle = [await asyncio.open_connection(LOOPBACK, edge.port) for _ in range(IDLE_CONNECTIONS)]
    try:
        await asyncio.sleep(0.2)  # the server has accepted them all
        began = time.monotonic()
        response = await edge.client.get("/healthz", timeout=ANSWER_WITHIN_S)
        assert (response.status_code, response.json()) == (200, {"status": "ok"})
        assert time.monotonic() - began < ANSWER_WITHIN_S
    finally:
        for _, writer in idle:
            writer.close()


async def test_a_slowloris_client_is_dropped_by_the_header_timeout(start: Start) -> None:
    """Headers sent one byte a second: cut off at the header deadline, though bytes keep coming."""
    edge = await start(limits=FAST)
    request = b"GET /healthz HTTP/1.1\r\nHost: coachd\r\nX-Slow: " + b"a" * 60
    async with _connection(edge) as (reader, writer):
        began = time.monotonic()

        async def trickle() -> None:
            for byte in request:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(1.0)

        sender = asyncio.create_task(trickle())
        try:
            closed = await _closed_within(reader, HEADER_TIMEOUT_S + SLACK_S)
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await sender
    assert closed
    assert time.monotonic() - began >= HEADER_TIMEOUT_S - 0.5


async def test_a_body_that_stops_arriving_is_cut_off_by_the_body_timeout(start: Start) -> None:
    edge = await start(limits=FAST)
    head = (
        "POST /inbound/mailgun HTTP/1.1\r\nHost: coachd\r\nContent-Length: 10000\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\r\n"
    )
    async with _connection(edge) as (reader, writer):
        writer.write(head.encode() + f"--{BOUNDARY}\r\n".encode())
        await writer.drain()
        assert await _closed_within(reader, BODY_TIMEOUT_S + SLACK_S)
    assert edge.recorder.messages == []


async def test_a_forged_mailgun_proof_is_refused_before_the_body_is_read(start: Start) -> None:
    """The proof fields come first; the 5 MiB that would follow are never sent, nor waited for."""
    edge = await start(max_body=2 * POST_BYTES)
    proof = multipart(
        {"timestamp": str(int(time.time())), "token": "t" * 50, "signature": "0" * 64}
    )
    # The proof's parts, then the start of the bulk part (which ends the signature part).
    bulk = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="body-mime"\r\n\r\n'
    first = proof["content"].removesuffix(f"--{BOUNDARY}--\r\n".encode()) + bulk.encode()
    head = (
        "POST /inbound/mailgun HTTP/1.1\r\nHost: coachd\r\n"
        f"Content-Length: {len(first) + POST_BYTES}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\r\n"
    )
    async with _connection(edge) as (reader, writer):
        writer.write(head.encode() + first)
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), ANSWER_WITHIN_S)
    assert status.split()[1:2] == [b"403"]


async def test_unsigned_bulk_mailgun_posts_are_not_all_read_at_once(start: Start) -> None:
    """8 unsigned 5 MiB posts in parallel: at most 2 bodies are read unverified at a time."""
    edge = await start(max_body=2 * POST_BYTES, unverified_parses=UNVERIFIED_PARSES)
    body = multipart({"body-mime": b"x" * POST_BYTES, "from": "mallory@example.com"})
    content: bytes = body.pop("content")

    async def streamed() -> AsyncIterator[bytes]:
        """Sent in small pieces, so the client's socket buffer is not what gets measured."""
        for offset in range(0, len(content), CHUNK):
            yield content[offset : offset + CHUNK]

    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        responses = await asyncio.gather(
            *(
                edge.client.post("/inbound/mailgun", content=streamed(), timeout=30, **body)
                for _ in range(POSTS)
            )
        )
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    print("STATUSES", [r.status_code for r in responses], peak)
    assert {r.status_code for r in responses} <= {403, 503}
    assert edge.recorder.messages == []
    assert peak < MEMORY_BOUND, f"peak {peak / 2**20:.0f} MiB"


async def test_an_oversized_unsubscribe_body_gets_413(start: Start) -> None:
    """RFC 8058's form is 26 bytes; a 4 KiB one is refused, the real one still works."""
    edge = await start()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    padded = ONE_CLICK + b"&pad=" + b"x" * 4096
    too_big = await edge.client.post("/unsubscribe/known-a", content=padded, headers=form)
    plain = await edge.client.post("/unsubscribe/known-b", content=ONE_CLICK, headers=form)
    assert (too_big.status_code, plain.status_code) == (413, 200)
    assert edge.recorder.unsubscribed == ["known-b"]


async def test_a_mailgun_replay_is_refused_after_a_restart(start: Start) -> None:
    """The token is remembered in Redis: a new app instance (a restart) still refuses it."""
    fields = mailgun_signed({**sample("mailgun_mime.json"), "body-mime": REPLY_EML})
    before, after = await start(), await start()
    first = await before.client.post("/inbound/mailgun", **multipart(fields))
    replay = await after.client.post("/inbound/mailgun", **multipart(fields))
    assert (first.status_code, replay.status_code) == (200, 403)
    assert (len(before.recorder.messages), after.recorder.messages) == (1, [])
