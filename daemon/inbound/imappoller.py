"""Watches an IMAP mailbox and hands each new message to the inbound sink exactly once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import cast

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from daemon.inbound.imapsession import (
    ImapConfig,
    ImapError,
    ImapLoginError,
    ImapRefusedError,
    ImapSession,
    ImapTls,
)
from daemon.inbound.message import InboundMessage, MessageSink
from daemon.inbox.deadletters import dead_letter
from daemon.store import keys

__all__ = ["DONE_KEYWORD", "ImapConfig", "ImapPoller", "ImapTls"]

log = structlog.get_logger(__name__)

SOURCE = "imap"
DONE_KEYWORD = "$CoachdDone"
SEEN = "\\Seen"
DELETED = "\\Deleted"
BACKOFF_INITIAL_S = 1.0
BACKOFF_FACTOR = 2.0
BACKOFF_MAX_S = 300.0


class ImapPoller:
    """Hands new mail in `config.mailbox` to `sink`, then moves or flags it as handled.

    Once-only rests on two marks: Redis remembers the highest handled UID for the mailbox's
    UIDVALIDITY, and the server keeps the message moved out or flagged `$CoachdDone` (just
    `\\Seen` where the mailbox stores no keywords, e.g. Microsoft 365). A UIDVALIDITY change
    voids the UIDs, so polling restarts at UID 1 and relies on the flags alone. The sink
    accepts first, the server mark and Redis follow: a crash in between hands the same
    message over again, which the sink's idempotency absorbs; a sink failure leaves the
    message (and those after it) for the next poll.
    """

    def __init__(self, config: ImapConfig, redis: Redis, sink: MessageSink) -> None:
        self.config = config
        self._redis = redis
        self._sink = sink
        self._key = keys.imap_mailbox(config.account, config.mailbox)
        self._log = log.bind(mailbox=config.mailbox)
        self._backoff = BACKOFF_INITIAL_S

    async def poll_once(self) -> int:
        """Connect, hand over every new message, disconnect; return how many were handed."""
        session = await ImapSession.open(self.config)
        try:
            return await self._drain(session, asyncio.Event())
        finally:
            await session.close()

    async def run(self, stop: asyncio.Event) -> None:
        """Poll (or IDLE) until `stop` is set, reconnecting with bounded backoff; never raises."""
        while not stop.is_set():
            try:
                await self._serve(stop)
            except ImapLoginError as exc:
                self._log.error("imap_login_failed", reason=exc.reason, retry_in_s=self._backoff)
            except (ImapError, RedisError, OSError) as exc:
                self._log.warning(
                    "imap_connection_failed",
                    command=getattr(exc, "command", None),
                    error=type(exc).__name__,
                    reason=getattr(exc, "reason", None),
                    retry_in_s=self._backoff,
                )
            except Exception:  # the route's boundary: a bug here must not stop the daemon
                self._log.exception("imap_poller_failed", retry_in_s=self._backoff)
            else:
                return
            await _sleep(stop, self._backoff)
            self._backoff = min(self._backoff * BACKOFF_FACTOR, BACKOFF_MAX_S)

    async def _serve(self, stop: asyncio.Event) -> None:
        session = await ImapSession.open(self.config)
        self._backoff = BACKOFF_INITIAL_S
        idle = session.has("IDLE")
        self._log.info("imap_connected", uidvalidity=session.uidvalidity, idle=idle)
        try:
            while not stop.is_set():
                await self._drain(session, stop)
                if idle:
                    # IDLE brings new mail at once; poll_s still bounds each round because
                    # aioimaplib drops EXISTS that arrive with another command's response.
                    await session.idle(min(self.config.idle_s, self.config.poll_s), stop)
                else:
                    await _sleep(stop, self.config.poll_s)
        finally:
            await session.close()

    async def _drain(self, session: ImapSession, stop: asyncio.Event) -> int:
        """Hand over every unhandled message above the stored UID, oldest first."""
        last_uid = await self._resume(session.uidvalidity)
        handed = 0
        for uid in await session.search(last_uid, *_unhandled(session)):
            if stop.is_set():
                break
            size = await session.size(uid)
            if size is not None and size > self.config.max_message_bytes:
                await self._refuse_too_large(session, uid, size)
                continue
            raw = await session.fetch(uid)  # without a size (a server's odd reply) too
            if raw is None:
                self._log.info("imap_message_vanished", uid=uid)
            elif not await self._hand_over(uid, raw):
                break  # the rest waits: last_uid must not pass a message the sink refused
            else:
                handed += 1
                await self._mark(session, uid)
            await self._record(session.uidvalidity, uid)
        return handed

    async def _refuse_too_large(self, session: ImapSession, uid: int, size: int) -> None:
        """Leave a message over the limit unread in the mailbox, marked handled, and say so in
        the dead letters (which the operator reads with `coachd failed`)."""
        limit = self.config.max_message_bytes
        self._log.warning("imap_message_too_large", uid=uid, size=size, limit=limit)
        where = f"{self.config.account}/{self.config.mailbox}"
        reason = (
            f"reply rejected: message is {size} bytes; the limit is {limit} "
            f"(COACHD_MAX_MESSAGE_BYTES); left unread in the IMAP mailbox {where} as UID {uid}"
        )
        await dead_letter(self._redis, f"imap uid {uid} in {where}".encode(), reason, SOURCE)
        await self._mark(session, uid)
        await self._record(session.uidvalidity, uid)

    async def _hand_over(self, uid: int, raw: bytes) -> bool:
        try:
            await self._sink(InboundMessage(raw, recipients=(), source=SOURCE))
        except Exception as exc:  # the sink's boundary: the message stays for the next poll
            self._log.warning("imap_sink_failed", uid=uid, error=type(exc).__name__)
            return False
        self._log.info("imap_message_handed", uid=uid)
        return True

    async def _mark(self, session: ImapSession, uid: int) -> None:
        """Move the message to the done mailbox, or flag it; a refusal is logged, not raised.

        Redis already covers a message the server would not mark, unless UIDVALIDITY changes.
        """
        done = self.config.done_mailbox
        flags = _done_flags(session)
        try:
            if done is None:
                await session.flag(uid, flags)
            elif session.has("MOVE"):
                await session.move(uid, done)
            else:
                await session.copy(uid, done)
                await session.flag(uid, (*flags, DELETED))
                await session.expunge(uid)
        except ImapRefusedError as exc:
            self._log.warning("imap_mark_failed", uid=uid, command=exc.command, reason=exc.reason)

    async def _resume(self, uidvalidity: int) -> int:
        """The last handled UID, or 0 when the mailbox's UIDVALIDITY is new or changed."""
        state = await cast(
            Awaitable[dict[bytes | str, bytes | str]], self._redis.hgetall(self._key)
        )
        fields = {_text(k): int(v) for k, v in state.items()}
        stored = fields.get("uidvalidity")
        if stored == uidvalidity:
            return fields.get("last_uid", 0)
        if stored is not None:
            self._log.warning("imap_uidvalidity_changed", old=stored, new=uidvalidity)
        await self._record(uidvalidity, 0)
        return 0

    async def _record(self, uidvalidity: int, uid: int) -> None:
        mapping = {"uidvalidity": uidvalidity, "last_uid": uid}
        await cast(Awaitable[int], self._redis.hset(self._key, mapping=mapping))


def _unhandled(session: ImapSession) -> tuple[str, ...]:
    """SEARCH criteria for mail nobody marked handled (and not already on its way out)."""
    marked = ("KEYWORD", DONE_KEYWORD) if session.keywords else ("SEEN",)
    return ("NOT", *marked, "NOT", "DELETED")


def _done_flags(session: ImapSession) -> tuple[str, ...]:
    return (SEEN, DONE_KEYWORD) if session.keywords else (SEEN,)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, waking early when `stop` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
