"""One IMAP connection for the poller: explicit TLS, login, a selected mailbox and its commands."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import ssl
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, Literal

import aioimaplib

from daemon.errors import CoachdError

ImapTls = Literal["tls", "starttls", "none"]

DEFAULT_POLL_S = 60.0
DEFAULT_IDLE_S = 25 * 60.0  # RFC 2177: re-issue IDLE well before the server's 30-minute logout
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024  # COACHD_MAX_MESSAGE_BYTES, as for every door
CLOSE_TIMEOUT_S = 2.0
MAX_REASON_CHARS = 200
OK = "OK"
STOP_IDLE = aioimaplib.STOP_WAIT_SERVER_PUSH

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]", re.IGNORECASE)
_PERMANENT_FLAGS = re.compile(rb"\[PERMANENTFLAGS \(([^)]*)\)\]", re.IGNORECASE)
# aioimaplib strips "* SEARCH" from the untagged reply; the last line is the tagged status.
_UIDS = re.compile(rb"^(?:SEARCH)?([\d ]*)$", re.IGNORECASE)
_LITERAL = re.compile(rb"BODY\[\] \{\d+\}$", re.IGNORECASE)
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)", re.IGNORECASE)
_EXISTS = re.compile(rb"^\d+ EXISTS$", re.IGNORECASE)


class ImapError(CoachdError):
    """Raised when the IMAP connection fails or times out; reconnecting may help."""

    def __init__(self, command: str, reason: str) -> None:
        super().__init__(f"{command}: {reason}")
        self.command = command
        self.reason = reason[:MAX_REASON_CHARS]


class ImapRefusedError(ImapError):
    """Raised when the IMAP server answers a command with NO or BAD."""


class ImapLoginError(ImapRefusedError):
    """Raised when the IMAP server refuses the configured user and password."""


@dataclass(frozen=True)
class ImapConfig:
    """Which mailbox to watch, how to reach it, and how often to look."""

    host: str
    port: int
    tls: ImapTls
    user: str
    password: str = field(repr=False)
    mailbox: str = "INBOX"
    done_mailbox: str | None = None  # move handled mail here; None: flag it instead
    poll_s: float = DEFAULT_POLL_S
    idle_s: float = DEFAULT_IDLE_S
    timeout_s: float = DEFAULT_TIMEOUT_S
    ca_file: str | None = None  # trust this CA instead of the system's (private servers)
    # A larger message is not fetched: anyone can mail the reply address, and a fetched
    # message is held in memory whole.
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES

    @property
    def account(self) -> str:
        return f"{self.user}@{self.host}"


class ImapSession:
    """A logged-in connection with `config.mailbox` selected; use `ImapSession.open`."""

    def __init__(self, client: Any, config: ImapConfig, lost: asyncio.Event) -> None:
        self._client = client
        self._config = config
        self._lost = lost
        self.uidvalidity = 0
        self.keywords = False  # the mailbox stores custom keywords (PERMANENTFLAGS has \*)

    @classmethod
    async def open(cls, config: ImapConfig) -> ImapSession:
        """Connect with the configured TLS mode, LOGIN and SELECT; raise `ImapError` if not."""
        lost = asyncio.Event()
        context = ssl.create_default_context(cafile=config.ca_file)
        client = aioimaplib.IMAP4(
            host=config.host,
            port=config.port,
            timeout=config.timeout_s,
            conn_lost_cb=lambda _exc: lost.set(),
            ssl_context=context if config.tls == "tls" else None,
        )
        session = cls(client, config, lost)
        try:
            await session._call("CONNECT", client.wait_hello_from_server())
            if config.tls == "starttls":
                await session._starttls(context)
            await session._login()
            await session._select()
        except BaseException:
            session.abort()
            raise
        return session

    def has(self, capability: str) -> bool:
        return bool(self._client.has_capability(capability))

    async def search(self, after_uid: int, *criteria: str) -> list[int]:
        """UIDs above `after_uid` matching `criteria`, ascending."""
        # "n:*" always matches the highest UID, even below n: filter again (RFC 3501 6.4.8).
        response = await self._checked(
            "SEARCH", self._client.uid_search(f"UID {after_uid + 1}:*", *criteria, charset=None)
        )
        found: set[int] = set()
        for line in response.lines[:-1]:
            if isinstance(line, bytes) and (match := _UIDS.match(line)):
                found.update(int(uid) for uid in match.group(1).split())
        return sorted(uid for uid in found if uid > after_uid)

    async def size(self, uid: int) -> int | None:
        """The message's size as the server reports it (RFC822.SIZE), or None if it is gone."""
        response = await self._checked(
            "FETCH", self._client.uid("fetch", str(uid), "(RFC822.SIZE)")
        )
        for line in response.lines:
            if isinstance(line, bytes) and (found := _SIZE.search(line)):
                return int(found.group(1))
        return None

    async def fetch(self, uid: int) -> bytes | None:
        """The whole message without setting \\Seen, or None if it is gone."""
        response = await self._checked("FETCH", self._client.uid("fetch", str(uid), "BODY.PEEK[]"))
        for line, data in itertools.pairwise(response.lines):
            if isinstance(line, bytes) and _LITERAL.search(line):
                return bytes(data)
        return None

    async def flag(self, uid: int, flags: tuple[str, ...]) -> None:
        command = self._client.uid("store", str(uid), "+FLAGS.SILENT", f"({' '.join(flags)})")
        await self._checked("STORE", command)

    async def move(self, uid: int, mailbox: str) -> None:
        mailbox = aioimaplib.quoted(mailbox)
        await self._checked("MOVE", self._client.uid("move", str(uid), mailbox))

    async def copy(self, uid: int, mailbox: str) -> None:
        mailbox = aioimaplib.quoted(mailbox)
        await self._checked("COPY", self._client.uid("copy", str(uid), mailbox))

    async def expunge(self, uid: int) -> None:
        """Expunge `uid` (UID EXPUNGE with UIDPLUS; else every \\Deleted message here)."""
        if self.has("UIDPLUS"):
            await self._checked("EXPUNGE", self._client.uid("expunge", str(uid)))
        else:
            await self._checked("EXPUNGE", self._client.expunge())

    async def idle(self, seconds: float, stop: asyncio.Event) -> None:
        """IDLE until the server reports new mail (EXISTS), `seconds` pass, or `stop` is set."""
        queue: asyncio.Queue[Any] = self._client.protocol.idle_queue
        while not queue.empty():  # pushes left over from the last IDLE are already handled
            queue.get_nowait()
        idle = await self._call("IDLE", self._client.idle_start(timeout=seconds))
        try:
            await self._until_exists(queue, stop)
        except BaseException:
            idle.cancel()  # the connection is gone or we are cancelled: no DONE to wait for
            raise
        if self._client.has_pending_idle():
            self._client.idle_done()
        response = await self._call("IDLE", idle)
        if response.result != OK:
            raise ImapRefusedError("IDLE", _text(response.lines))

    async def close(self) -> None:
        """LOGOUT politely if the connection still works, then drop it."""
        if not self._lost.is_set():
            with contextlib.suppress(Exception):  # cleanup: the server may already be gone
                await asyncio.wait_for(self._client.logout(), CLOSE_TIMEOUT_S)
        self.abort()

    def abort(self) -> None:
        transport = self._client.protocol.transport
        if transport is not None:
            transport.close()

    async def _until_exists(self, queue: asyncio.Queue[Any], stop: asyncio.Event) -> None:
        waiters = {
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(self._lost.wait()),
        }
        try:
            while not stop.is_set():
                push = asyncio.ensure_future(queue.get())
                await asyncio.wait({push, *waiters}, return_when=asyncio.FIRST_COMPLETED)
                if self._lost.is_set():
                    raise ImapError("IDLE", "connection lost")
                if not push.done():
                    push.cancel()
                    return
                lines = push.result()
                if lines == STOP_IDLE or any(_EXISTS.match(bytes(line)) for line in lines):
                    return
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _starttls(self, context: ssl.SSLContext) -> None:
        """Upgrade the connection (aioimaplib has no STARTTLS of its own) and re-read CAPABILITY.

        Never falls back to plain text: a server without STARTTLS is an error.
        """
        protocol = self._client.protocol
        if not self.has("STARTTLS"):
            raise ImapRefusedError("STARTTLS", "the server does not offer STARTTLS")
        command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
        await self._checked("STARTTLS", protocol.execute(command))
        loop = asyncio.get_running_loop()
        upgrade = loop.start_tls(
            protocol.transport, protocol, context, server_hostname=self._config.host
        )
        protocol.transport = await self._call("STARTTLS", upgrade)
        await self._call("CAPABILITY", protocol.capability())  # pre-TLS capabilities are void

    async def _login(self) -> None:
        cfg = self._config
        response = await self._call("LOGIN", self._client.login(cfg.user, cfg.password))
        if response.result != OK:
            raise ImapLoginError("LOGIN", _text(response.lines))
        await self._call("CAPABILITY", self._client.protocol.capability())

    async def _select(self) -> None:
        mailbox = aioimaplib.quoted(self._config.mailbox)
        response = await self._checked("SELECT", self._client.select(mailbox))
        text = b"\n".join(line for line in response.lines if isinstance(line, bytes))
        validity = _UIDVALIDITY.search(text)
        if validity is None:
            raise ImapError("SELECT", "no UIDVALIDITY in the response")
        self.uidvalidity = int(validity.group(1))
        permanent = _PERMANENT_FLAGS.search(text)
        self.keywords = permanent is not None and b"\\*" in permanent.group(1).split()

    async def _checked(self, command: str, call: Awaitable[Any]) -> Any:
        response = await self._call(command, call)
        if response.result != OK:
            raise ImapRefusedError(command, _text(response.lines))
        return response

    async def _call(self, command: str, call: Awaitable[Any]) -> Any:
        """Await an aioimaplib call within the timeout, turning its failures into `ImapError`.

        aioimaplib leaves a command waiting when the connection drops: stop waiting at once.
        """
        task = asyncio.ensure_future(call)
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait(
                {task, lost}, timeout=self._config.timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            lost.cancel()
            finished = task.done()
            if not finished:
                task.cancel()
        if not finished:
            raise ImapError(command, "connection lost" if self._lost.is_set() else "timed out")
        try:
            return task.result()
        except (TimeoutError, aioimaplib.CommandTimeout) as exc:
            raise ImapError(command, "timed out") from exc
        except (OSError, ssl.SSLError, aioimaplib.AioImapException) as exc:
            raise ImapError(command, f"{type(exc).__name__}: {exc}") from exc


def _text(lines: list[Any]) -> str:
    return " ".join(bytes(line).decode(errors="replace") for line in lines)
