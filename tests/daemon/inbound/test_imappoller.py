"""The IMAP poller against a real Dovecot: once-only delivery, marks, IDLE, TLS and failures."""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as redis_async
import structlog

from daemon.edges import imap_config_from
from daemon.errors import SettingsError
from daemon.inbound import imappoller
from daemon.inbound.imappoller import DONE_KEYWORD
from daemon.inbound.imapsession import ImapError, ImapRefusedError, ImapSession
from daemon.settings import Settings
from daemon.store import keys
from daemon.store.embedded import pick_free_port
from tests.helpers.imap import (
    LONG_POLL_S,
    Dovecot,
    Mailbox,
    dovecot_missing,
    message,
    start_dovecot,
)

pytestmark = pytest.mark.integration

TIMEOUT_S = 5.0
IDLE_WAKE_S = 5.0
QUICK_BACKOFF_S = 0.1
QUICK_POLL_S = 0.2
SETTLE_S = 0.5
DONE = "Done"
_users = itertools.count()


def _start(tls: bool) -> Iterator[Dovecot]:
    missing = dovecot_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    server = start_dovecot(tls=tls)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    """Dovecot without TLS; each test logs in as its own user, so it gets fresh mailboxes."""
    yield from _start(tls=False)


@pytest.fixture(scope="module")
def dovecot_tls() -> Iterator[Dovecot]:
    """Dovecot with `ssl = required` and a self-signed certificate."""
    yield from _start(tls=True)


async def _mailbox(server: Dovecot, redis: redis_async.Redis) -> AsyncIterator[Mailbox]:
    box = Mailbox(server, f"coach{next(_users)}", redis)
    yield box
    box.stop.set()
    await asyncio.wait_for(asyncio.gather(*box.tasks), TIMEOUT_S)


@pytest.fixture
async def box(dovecot: Dovecot, redis: redis_async.Redis) -> AsyncIterator[Mailbox]:
    async for mailbox in _mailbox(dovecot, redis):
        yield mailbox


@pytest.fixture
async def tls_box(dovecot_tls: Dovecot, redis: redis_async.Redis) -> AsyncIterator[Mailbox]:
    async for mailbox in _mailbox(dovecot_tls, redis):
        yield mailbox


async def test_new_message_is_handed_once_then_flagged(box: Mailbox) -> None:
    await box.deliver(message(1))
    poller = box.poller()

    assert await poller.poll_once() == 1
    assert box.sink.raws == [message(1)]
    assert box.sink.received[0].source == "imap"
    [(_, fetched)] = await box.stored()
    assert "\\Seen" in fetched
    assert DONE_KEYWORD in fetched
    assert await poller.poll_once() == 0
    assert box.sink.raws == [message(1)]


async def test_restarted_poller_hands_nothing_again(box: Mailbox) -> None:
    await box.deliver(message(1), message(2))
    assert await box.poller().poll_once() == 2

    assert await box.poller().poll_once() == 0
    assert box.sink.raws == [message(1), message(2)]
    key = keys.imap_mailbox(f"{box.user}@127.0.0.1", "INBOX")
    assert await box.redis.hget(key, "last_uid") == b"2"  # type: ignore[misc]


@pytest.mark.parametrize("has_move", [True, False], ids=["move", "copy-delete-expunge"])
async def test_handled_message_moves_to_done_mailbox(
    box: Mailbox, monkeypatch: pytest.MonkeyPatch, has_move: bool
) -> None:
    """With a done mailbox the message leaves the inbox (UID MOVE, or the COPY fallback)."""
    if not has_move:
        real_has = ImapSession.has
        monkeypatch.setattr(ImapSession, "has", lambda s, cap: cap != "MOVE" and real_has(s, cap))
    await box.create(DONE)
    await box.deliver(message(1))
    poller = box.poller(done_mailbox=DONE)

    assert await poller.poll_once() == 1
    assert await box.stored() == []
    assert [raw for raw, _ in await box.stored(DONE)] == [message(1)]
    assert await poller.poll_once() == 0


async def test_sink_failure_leaves_message_for_next_poll(box: Mailbox) -> None:
    await box.deliver(message(1), message(2))
    poller = box.poller()
    box.sink.failures = 1

    with structlog.testing.capture_logs() as logs:
        assert await poller.poll_once() == 0
    warnings = [(e["event"], e["uid"]) for e in logs if e["log_level"] == "warning"]
    assert warnings == [("imap_sink_failed", 1)]
    assert all("\\Seen" not in fetched for _, fetched in await box.stored())
    assert await poller.poll_once() == 2
    assert await poller.poll_once() == 0
    assert box.sink.raws == [message(1), message(2)]


@pytest.mark.parametrize("done_mailbox", [None, DONE], ids=["flagged", "moved"])
async def test_uidvalidity_change_delivers_only_new_mail(
    box: Mailbox, done_mailbox: str | None
) -> None:
    """UIDs are void after a UIDVALIDITY change; the server-side marks still say what is done."""
    await box.create(DONE)
    await box.deliver(message(1))
    poller = box.poller(done_mailbox=done_mailbox)
    assert await poller.poll_once() == 1
    key = keys.imap_mailbox(poller.config.account, "INBOX")
    await box.redis.hset(key, mapping={"uidvalidity": 1, "last_uid": 99})  # type: ignore[misc]
    await box.deliver(message(2))

    with structlog.testing.capture_logs() as logs:
        assert await poller.poll_once() == 1
    assert "imap_uidvalidity_changed" in [e["event"] for e in logs]
    assert box.sink.raws == [message(1), message(2)]
    assert await poller.poll_once() == 0


async def test_idle_wakes_on_new_mail_long_before_poll_interval(box: Mailbox) -> None:
    await box.deliver(message(1))
    box.run()
    await asyncio.wait_for(box.sink.arrived.wait(), TIMEOUT_S)
    box.sink.arrived.clear()
    await asyncio.sleep(SETTLE_S)  # let the poller enter IDLE

    await box.deliver(message(2))
    started = time.monotonic()
    await asyncio.wait_for(box.sink.arrived.wait(), IDLE_WAKE_S)

    assert time.monotonic() - started < IDLE_WAKE_S < LONG_POLL_S
    assert box.sink.raws == [message(1), message(2)]


async def test_without_idle_run_polls_every_poll_interval(
    box: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_has = ImapSession.has
    monkeypatch.setattr(ImapSession, "has", lambda s, cap: cap != "IDLE" and real_has(s, cap))
    box.run(poll_s=QUICK_POLL_S)
    await asyncio.sleep(SETTLE_S)

    await box.deliver(message(1))
    await asyncio.wait_for(box.sink.arrived.wait(), TIMEOUT_S)
    assert box.sink.raws == [message(1)]


async def test_lost_connection_is_logged_and_reconnected(
    box: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imappoller, "BACKOFF_INITIAL_S", QUICK_BACKOFF_S)
    with structlog.testing.capture_logs() as logs:
        box.run()
        await asyncio.sleep(SETTLE_S)  # connected and IDLE
        await asyncio.to_thread(box.server.disconnect_all)
        await box.deliver(message(1))
        await asyncio.wait_for(box.sink.arrived.wait(), TIMEOUT_S)

    events = [e["event"] for e in logs]
    assert events.count("imap_connected") == 2
    assert "imap_connection_failed" in events
    assert box.sink.raws == [message(1)]


async def test_wrong_password_is_logged_and_retried_without_crashing(
    box: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imappoller, "BACKOFF_INITIAL_S", QUICK_BACKOFF_S)
    with structlog.testing.capture_logs() as logs:
        task = box.run(password="wrong")
        deadline = time.monotonic() + TIMEOUT_S
        while sum(e["event"] == "imap_login_failed" for e in logs) < 2:
            assert time.monotonic() < deadline, logs
            await asyncio.sleep(QUICK_BACKOFF_S)

    assert not task.done()
    assert all("wrong" not in str(e) for e in logs)


@pytest.mark.parametrize("tls", ["tls", "starttls"])
async def test_tls_modes_reach_a_tls_only_server(tls_box: Mailbox, tls: str) -> None:
    server = tls_box.server
    port = server.tls_port if tls == "tls" else server.port
    await tls_box.deliver(message(1))

    assert await tls_box.poller(port=port, tls=tls, ca_file=server.ca_file).poll_once() == 1
    assert tls_box.sink.raws == [message(1)]


async def test_tls_refuses_an_untrusted_certificate(tls_box: Mailbox) -> None:
    with pytest.raises(ImapError, match="CONNECT"):
        await tls_box.poller(port=tls_box.server.tls_port, tls="tls").poll_once()


async def test_starttls_never_falls_back_to_plain_text(box: Mailbox) -> None:
    with pytest.raises(ImapRefusedError, match="STARTTLS"):
        await box.poller(tls="starttls").poll_once()


async def test_unreachable_server_is_logged_and_retried(
    box: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imappoller, "BACKOFF_INITIAL_S", QUICK_BACKOFF_S)
    with structlog.testing.capture_logs() as logs:
        task = box.run(port=pick_free_port())  # nothing listens there
        await asyncio.sleep(SETTLE_S)

    failures = [e for e in logs if e["event"] == "imap_connection_failed"]
    assert len(failures) >= 2
    assert failures[0]["command"] == "CONNECT"
    assert not task.done()


def test_settings_become_a_config_with_the_password_hidden() -> None:
    settings = Settings(
        imap_host="imap.example.org", imap_user="replies", imap_password="s3cret", _env_file=None
    )
    config = imap_config_from(settings)

    assert config is not None
    assert (config.host, config.port, config.tls, config.password) == (
        "imap.example.org",
        993,
        "tls",
        "s3cret",
    )
    assert "s3cret" not in repr(config)
    assert imap_config_from(Settings(_env_file=None)) is None
    with pytest.raises(SettingsError):
        imap_config_from(Settings(imap_host="imap.example.org", _env_file=None))


async def test_a_message_over_the_size_limit_is_not_fetched_but_kept_and_said(
    box: Mailbox,
) -> None:
    """Anyone can mail the reply address; a fetched message is held in memory whole."""
    huge = message(1) + b"x" * 20_000 + b"\r\n"
    await box.deliver(huge, message(2))
    poller = box.poller(max_message_bytes=10_000)

    assert await poller.poll_once() == 1
    assert box.sink.raws == [message(2)]  # the one after it is not held up
    stored = await box.stored()
    assert len(stored) == 2  # left in the mailbox for inspection, marked handled
    assert all(DONE_KEYWORD in flags for _, flags in stored)
    [(_, letter)] = await box.redis.xrange(keys.DEAD_LETTER_STREAM)
    reason = letter[b"reason"].decode()
    assert reason.startswith("reply rejected: message is ")
    assert "the limit is 10000 (COACHD_MAX_MESSAGE_BYTES)" in reason
    assert await poller.poll_once() == 0  # and not refused again
    assert len(await box.redis.xrange(keys.DEAD_LETTER_STREAM)) == 1
