"""Commit turns (daemon.outbound.commitbatch) with a fake line: the order of marks and dots,
one line and one send per turn, and each email's mark answered on its own."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from redis.exceptions import ResponseError

from daemon.outbound.commitbatch import MAX_LINES, Command, CommitBatcher, TurnMissed
from daemon.outbound.ledger import LedgerCommit, LedgerLost

SWAPPED, NOT_OURS = 1, 0  # what the mark's compare-and-set answers
VALUES = ("claimed|a|1", "committing|a|1")


class FakeLine:
    """A line that logs what is done to it into the test's log, and answers from `answers`
    (by the mark's first key; an exception raised there is the connection failing)."""

    def __init__(self, log: list[str], answers: dict[str, Any], replies: asyncio.Event) -> None:
        self._log = log
        self._answers = answers
        self._replies = replies  # Redis answers only while it is set
        self._written: list[str] = []
        self.closed = False

    def usable(self) -> bool:
        return not self.closed

    def hold(self) -> None:
        self._log.append("hold")

    def write(self, command: Command) -> None:
        key = command[3]  # EVAL, script, key count, the email's first key, ...
        self._written.append(key)
        self._log.append(f"mark {key}")

    def send(self) -> None:
        self._log.append("send")

    async def reply(self) -> Any:
        await asyncio.sleep(0)
        await self._replies.wait()
        answer = self._answers.get(self._written.pop(0), SWAPPED)
        if isinstance(answer, ConnectionError):
            raise answer
        return answer

    async def close(self) -> None:
        self._log.append("close")
        self.closed = True


class Lines:
    """Opens fake lines, all logging into one log."""

    def __init__(self, answers: dict[str, Any] | None = None) -> None:
        self.log: list[str] = []
        self.opened: list[FakeLine] = []
        self._answers = answers or {}
        self.replies = asyncio.Event()
        self.replies.set()

    async def open(self) -> FakeLine:
        await asyncio.sleep(0)  # a pooled connection is checked before it is lent
        self.log.append("open")
        line = FakeLine(self.log, self._answers, self.replies)
        self.opened.append(line)
        return line


async def send(batcher: CommitBatcher, key: str, log: list[str]) -> None:
    """As daemon.outbound.smtpdata drives a commit point: the turn, the mark and the dot in
    one step, then the mark's answer."""
    commit = LedgerCommit(batcher, [key], VALUES)
    await commit.prepare()
    commit.write()
    log.append(f"dot {key}")
    await commit.confirm()


async def send_all(
    batcher: CommitBatcher, keys: Sequence[str], log: list[str]
) -> list[BaseException | None]:
    return await asyncio.gather(*(send(batcher, k, log) for k in keys), return_exceptions=True)


async def test_each_mark_goes_in_the_held_back_line_right_before_its_own_dot() -> None:
    lines = Lines()
    results = await send_all(CommitBatcher(lines.open), ["a", "b", "c"], lines.log)

    assert results == [None, None, None]
    assert lines.log == [
        "open",
        "hold",
        *("mark a", "dot a", "mark b", "dot b", "mark c", "dot c"),
        "send",  # the marks reach Redis together, after every dot of the turn
    ]


async def test_sends_reaching_their_commit_point_together_share_one_line_and_one_send() -> None:
    lines = Lines()
    keys = [f"k{n}" for n in range(20)]

    await send_all(CommitBatcher(lines.open), keys, lines.log)

    assert len(lines.opened) == 1
    assert lines.log.count("hold") == lines.log.count("send") == 1
    assert lines.log.count("mark k7") == lines.log.count("dot k7") == 1
    assert not lines.opened[0].closed


async def test_a_send_arriving_after_its_turns_replies_were_read_takes_the_same_line() -> None:
    lines = Lines()
    batcher = CommitBatcher(lines.open)

    await send(batcher, "early", lines.log)  # answered
    await send(batcher, "late", lines.log)

    assert lines.log == [
        *("open", "hold", "mark early", "dot early", "send"),
        *("hold", "mark late", "dot late", "send"),
    ]


async def test_a_turn_never_writes_on_a_line_with_a_reply_unread() -> None:
    """Killed then, the kernel would reset that connection and drop the held-back mark
    while the dot goes out (tests/daemon/outbound/test_ledger.py shows it for real)."""
    lines = Lines()
    lines.replies.clear()  # Redis is slow to answer
    batcher = CommitBatcher(lines.open)
    early = asyncio.create_task(send(batcher, "early", lines.log))
    while "send" not in lines.log:
        await asyncio.sleep(0)

    late = asyncio.create_task(send(batcher, "late", lines.log))
    while lines.log.count("send") < 2:
        await asyncio.sleep(0)
    lines.replies.set()
    await asyncio.gather(early, late)

    assert lines.log == [
        *("open", "hold", "mark early", "dot early", "send"),
        *("open", "hold", "mark late", "dot late", "send"),
    ]


async def test_with_every_line_waiting_for_replies_a_turn_waits_for_the_first_quiet_one() -> None:
    lines = Lines()
    lines.replies.clear()
    batcher = CommitBatcher(lines.open)
    sends = []
    for n in range(MAX_LINES):
        sends.append(asyncio.create_task(send(batcher, f"k{n}", lines.log)))
        while lines.log.count("send") <= n:
            await asyncio.sleep(0)

    waiting = asyncio.create_task(send(batcher, "waiting", lines.log))
    for _ in range(10):
        await asyncio.sleep(0)
    assert "mark waiting" not in lines.log
    assert len(lines.opened) == MAX_LINES
    lines.replies.set()
    await asyncio.gather(*sends, waiting)

    assert len(lines.opened) == MAX_LINES  # it took one of them, once its reply was read
    assert lines.log[-4:] == ["hold", "mark waiting", "dot waiting", "send"]


async def test_a_failed_compare_fails_its_own_email_only() -> None:
    """Each email's mark is a command of its own: one whose claim is no longer ours (or
    whose script failed) does not take the others' marks with it."""
    lines = Lines({"b": NOT_OURS, "c": ResponseError("script failed")})

    a, b, c, d = await send_all(CommitBatcher(lines.open), ["a", "b", "c", "d"], lines.log)

    assert (a, d) == (None, None)
    assert isinstance(b, LedgerLost)
    assert isinstance(c, ResponseError)
    assert not lines.opened[0].closed  # the connection is still good


async def test_a_turn_that_gets_no_line_lets_no_mark_and_no_dot_go() -> None:
    async def unreachable() -> FakeLine:
        raise ConnectionError("Redis is down")

    log: list[str] = []
    results = await send_all(CommitBatcher(unreachable), ["a", "b"], log)

    assert [type(r) for r in results] == [ConnectionError, ConnectionError]
    assert log == []  # each send fails before its dot: nothing delivered, the claim given back


async def test_a_connection_lost_after_the_marks_fails_every_mark_not_yet_answered() -> None:
    lines = Lines({"b": ConnectionError("Connection reset by peer")})
    batcher = CommitBatcher(lines.open)

    a, b, c = await send_all(batcher, ["a", "b", "c"], lines.log)
    assert await send_all(batcher, ["d"], lines.log) == [None]

    # The dots are out by then: their senders wait for the SMTP server's answer instead.
    assert lines.log.count("dot c") == 1
    assert a is None
    assert isinstance(b, ConnectionError) and isinstance(c, ConnectionError)
    assert lines.log[-6:] == ["close", "open", "hold", "mark d", "dot d", "send"]


async def test_a_send_cancelled_while_its_line_is_opened_leaves_the_others_alone() -> None:
    lines = Lines()
    batcher = CommitBatcher(lines.open)
    sends = [asyncio.create_task(send(batcher, k, lines.log)) for k in ("a", "b", "c")]
    await asyncio.sleep(0)  # all three wait for the line to be opened
    sends[1].cancel()

    results = await asyncio.gather(*sends, return_exceptions=True)

    assert results[0] is None and results[2] is None
    assert isinstance(results[1], asyncio.CancelledError)
    assert lines.log == ["open", "hold", "mark a", "dot a", "mark c", "dot c", "send"]


async def test_a_mark_written_after_its_turn_went_out_is_refused_before_its_dot() -> None:
    """Written later it would reach Redis uncorked, with no reply read for it."""
    lines = Lines()
    commit = LedgerCommit(CommitBatcher(lines.open), ["slow"], VALUES)
    await commit.prepare()
    await asyncio.sleep(0)  # an await between the turn and the mark: the turn is flushed

    with pytest.raises(TurnMissed):
        commit.write()
    assert lines.log == ["open", "hold", "send"]


async def test_a_line_closed_between_turns_is_replaced_before_any_mark_is_written() -> None:
    """Redis restarted (or timed the idle connection out): a mark written there is lost."""
    lines = Lines()
    batcher = CommitBatcher(lines.open)
    await send_all(batcher, ["a"], lines.log)
    lines.opened[0].closed = True

    assert await send_all(batcher, ["b"], lines.log) == [None]
    assert lines.log[-6:] == ["close", "open", "hold", "mark b", "dot b", "send"]
    assert len(lines.opened) == 2
