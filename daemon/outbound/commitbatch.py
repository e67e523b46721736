"""Commit turns: the commit marks of every send that reaches its final dot together share
one Redis round trip.

Each email's ledger mark must be in the Redis socket before its final dot leaves
(daemon.outbound.smtpdata), and it used to cost each email a round trip of its own. Here
the first send of the process to reach its commit point opens a *turn*: the Redis
connection the turns write on (the *line*) is held back (corked) and a flush is scheduled
for the next loop step (`call_soon`). That send and every other one reaching its commit
point before the flush write their own mark and, with no await in between, their own final
dot; the flush then lets all the marks go to Redis at once, and one reply per mark comes
back. Sends woken by the same burst of SMTP replies (354 to DATA) thus share a round trip.

Why each send writes its mark right before its own dot, rather than all marks in one write
followed by all dots: both put every mark in the socket before its dot, and the corked line
reaches Redis in one packet either way (one round trip, one wake-up of Redis), but a kill
between the batch's marks and its last dot would leave every email whose dot had not gone
yet marked "committing" without having been sent (recorded `unknown`, a loss). Mark by
mark, such a kill can catch only the one email between its own two writes, as before
batching; the others are either marked and sent, or still only claimed (sent again later).

Each mark is its own command with its own reply, so one email's failed compare-and-set
fails that email alone. That answer comes after the dot (waiting for it first would leave
the mark in Redis without its dot for a whole round trip, where a kill loses the email):
what can stop a dot is only what is known before it: a line that cannot be had or has
failed (`LineLost`), or a mark written too late for its turn (`TurnMissed`).

A turn writes only on a line whose earlier marks are all answered, with their replies read.
A process killed with a reply unread in a socket's receive queue makes Linux reset that
connection instead of closing it, discarding what the socket still holds back (the turn's
corked marks) while the dots, already sent, reach the SMTP server: emails delivered and
then sent again (tests/daemon/outbound/test_ledger.py kills a process so). So while
one line waits for its replies, the next turn takes another, up to `MAX_LINES`; past that,
a turn waits for one (one Redis round trip at most).

Lines are kept from turn to turn (a pooled connection costs a check each time it is lent);
one that failed, or that Redis closed, is dropped, and a turn that needs a line opens one.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Protocol

from redis.exceptions import ConnectionError as RedisConnectionError

Command = Sequence[Any]


class MarkLine(Protocol):
    """The Redis connection turns write on (daemon.outbound.markline has the real one)."""

    def usable(self) -> bool:
        """Whether it is still connected (Redis has not closed it)."""

    def hold(self) -> None:
        """From now on, keep what is written in the kernel until `send`."""

    def write(self, command: Command) -> None:
        """Put one command in the socket; synchronous, so a dot can follow at once."""

    def send(self) -> None:
        """Let everything held back go to Redis together."""

    async def reply(self) -> Any:
        """The next command's reply, an `Exception` if that command failed on its own
        (the line still usable); raises when the connection failed."""

    async def close(self) -> None:
        """Drop the connection (it failed)."""


class LineLost(RedisConnectionError):
    """Raised when the line a mark would go on has failed or closed: the mark cannot be
    written, so its dot must not follow (the send is retried, as for any Redis outage)."""


class TurnMissed(LineLost):
    """Raised when a mark is written after its turn was flushed: it would leave uncorked,
    with no reply read for it."""


class _Lent:
    """A line, and its marks Redis has not answered yet (oldest first)."""

    def __init__(self, line: MarkLine) -> None:
        self.line = line
        self.unanswered: deque[asyncio.Future[Any]] = deque()
        self.reading = False
        self.failed = False

    def usable(self) -> bool:
        return not self.failed and self.line.usable()


class CommitTurn:
    """The sends whose marks (and dots) go out before one flush."""

    def __init__(self, lent: _Lent) -> None:
        self.lent = lent
        self.marks: list[asyncio.Future[Any]] = []
        self.flushed = False

    def write(self, command: Command) -> asyncio.Future[Any]:
        """Put a mark in the held-back line; the future gets its reply from Redis."""
        if self.flushed:
            raise TurnMissed("commit mark written after its turn was flushed")
        if self.lent.failed:
            raise LineLost("commit line closed")
        self.lent.line.write(command)
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.marks.append(reply)
        return reply


MAX_LINES = 4  # lines one process's turns may hold; a reply comes back in one round trip


class CommitBatcher:
    """One process's commit turns (see the module docstring); `open_line` opens a line."""

    def __init__(self, open_line: Callable[[], Awaitable[MarkLine]]) -> None:
        self._open_line = open_line
        self._lines: list[_Lent] = []  # open and not failed
        self._opening: asyncio.Task[_Lent] | None = None
        self._freed = asyncio.Event()  # a line's replies are all read, or a line was dropped
        self._turn: CommitTurn | None = None  # open until its flush
        self._tasks: set[asyncio.Task[None]] = set()

    async def turn(self) -> CommitTurn:
        """The open turn, or a new one. The caller must write its mark
        (`CommitTurn.write`), then its dot, in the step this returns in: with no await
        before either. Waits only when a line must be opened first, or while every line
        waits for its replies."""
        while self._turn is None:
            lent = self._quiet_line()
            if lent is not None:
                self._turn = self._open(lent)
            elif len(self._lines) < MAX_LINES or self._opening is not None:
                await self._reopen()
            else:
                self._freed.clear()
                await self._freed.wait()
        return self._turn

    def _quiet_line(self) -> _Lent | None:
        """A usable line with no reply unread (its receive queue is empty); those found
        closed meanwhile are dropped."""
        for lent in list(self._lines):
            if not lent.usable():
                self._retire(lent)
            elif not lent.unanswered:
                return lent
        return None

    def _open(self, lent: _Lent) -> CommitTurn:
        try:
            lent.line.hold()
        except OSError as exc:  # the socket is gone: the next turn opens another line
            self._retire(lent)
            raise LineLost("commit line closed") from exc
        turn = CommitTurn(lent)
        asyncio.get_running_loop().call_soon(self._flush, turn)
        return turn

    async def _reopen(self) -> _Lent:
        """A new line, one for every send waiting meanwhile; if it cannot be had, each gets
        the error before writing anything (no mark, so no dot)."""
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._open_line_lent())
            self._opening.add_done_callback(self._opened)
        # Shielded: a waiting send that is cancelled must not cancel the others' line.
        return await asyncio.shield(self._opening)

    async def _open_line_lent(self) -> _Lent:
        lent = _Lent(await self._open_line())
        self._lines.append(lent)
        return lent

    def _opened(self, opening: asyncio.Task[_Lent]) -> None:
        self._opening = None
        if not opening.cancelled():
            opening.exception()  # retrieved here: each waiting send got it through its shield

    def _flush(self, turn: CommitTurn) -> None:
        """Let the turn's marks go; every dot of the turn went out before (each right after
        its mark), and the next send to reach its commit point opens the next turn."""
        self._turn = None
        turn.flushed = True
        lent = turn.lent
        try:
            if lent.failed:  # its reader found the connection gone meanwhile
                raise LineLost("commit line closed")
            lent.line.send()
        except Exception as exc:  # the dots are out: their senders wait for the server
            self._retire(lent)
            _fail(turn.marks, exc)
            return
        lent.unanswered.extend(turn.marks)
        if turn.marks and not lent.reading:
            lent.reading = True
            self._start(self._read(lent))

    def _retire(self, lent: _Lent) -> None:
        """Use the line no more; it is closed now, or by its reader once that ends."""
        if lent.failed:
            return
        lent.failed = True
        self._lines.remove(lent)
        self._freed.set()
        if not lent.reading:
            self._start(lent.line.close())

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)  # a reference, so the task is not collected mid-flight
        task.add_done_callback(self._tasks.discard)

    async def _read(self, lent: _Lent) -> None:
        """Hand each reply to its sender, in order, while marks are unanswered; if the
        connection fails, every unanswered mark gets that error (its sender then waits for
        the SMTP server's answer) and the line is dropped."""
        try:
            while lent.unanswered:
                result = await lent.line.reply()
                _answer(lent.unanswered.popleft(), result)
            self._freed.set()  # quiet again: a waiting turn may take it
        except BaseException as exc:
            self._retire(lent)
            _fail(lent.unanswered, exc)
            lent.unanswered.clear()
            if not isinstance(exc, Exception):
                raise
        finally:
            lent.reading = False
            if lent.failed:
                await lent.line.close()


def _answer(reply: asyncio.Future[Any], result: Any) -> None:
    if reply.done():  # its sender was cancelled while waiting
        return
    if isinstance(result, Exception):
        reply.set_exception(result)
    else:
        reply.set_result(result)


def _fail(waiting: Sequence[asyncio.Future[Any]], exc: BaseException) -> None:
    """`exc` for every sender still waiting; a cancelled read (the loop shutting down) is
    a lost connection to them, not their own cancellation."""
    error = exc if isinstance(exc, Exception) else LineLost("commit line cancelled")
    for future in waiting:
        if not future.done():
            future.set_exception(error)
