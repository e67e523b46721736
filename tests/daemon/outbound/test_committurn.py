"""Commit turns against real aiosmtpd and a real Redis: the marks of sends that reach their
final dots together cost Redis one read, each mark written right before its own dot."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from daemon.outbound.commitbatch import CommitBatcher
from daemon.outbound.ledger import LedgerCommit, LedgerLost, Outcome, SendLedger
from daemon.outbound.mailer import SmtpMailer
from daemon.outbound.markline import RedisMarkLine, open_mark_line
from daemon.outbound.smtpdata import CommitUnconfirmed
from daemon.store.pipelining import AutoPipeline
from tests.helpers.smtp import SmtpTestServer
from tests.helpers.writes import Writes, recording_writes

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="TCP_CORK is Linux's"),
]

SENDS = 4
SENDER = "coach@firm.example"
ATTEMPT, CLAIMED_AT_MS = "a1", 1_000
FINAL_DOT = b"\r\n.\r\n"


def key(n: int) -> str:
    return f"coachd:sent:c{n}:1:overdue-1d"


def message(n: int) -> bytes:
    return f"From: {SENDER}\r\nSubject: email {n}\r\n\r\nHow is it going?\r\n".encode()


def marks_and_dots(writes: Writes) -> list[str]:
    """Each commit mark ("mark N") and each body with its final dot ("dot N"), in order."""
    named = []
    for data in writes.seen:
        for n in range(SENDS):
            if b"EVAL" in data and key(n).encode() in data:
                named.append(f"mark {n}")
            elif data.endswith(FINAL_DOT) and f"email {n}".encode() in data:
                named.append(f"dot {n}")
    return named


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Writes]:
    yield from recording_writes(monkeypatch)


class Arrivals:
    """Opens the turns' line only once every send has reached its commit point (they wait
    for it together), as sends reach it together under load: the test does not depend on
    when the SMTP server's replies arrive."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._count = 0
        self._all_in = asyncio.Event()

    def counted(self, commit: LedgerCommit) -> LedgerCommit:
        original = commit.prepare

        async def prepare() -> None:
            self._count += 1
            if self._count == SENDS:
                self._all_in.set()
            await original()  # joins the turn before anything else runs

        commit.prepare = prepare  # type: ignore[method-assign]
        return commit

    async def open_line(self) -> RedisMarkLine:
        await self._all_in.wait()
        return await open_mark_line(self._redis)


@pytest.fixture
async def mailer(smtp_server: SmtpTestServer) -> AsyncIterator[SmtpMailer]:
    mailer = SmtpMailer(smtp_server.smtp_config(pool_size=SENDS))
    yield mailer
    await mailer.close()


async def send_all(
    mailer: SmtpMailer, ledger: SendLedger, arrivals: Arrivals
) -> list[BaseException | None]:
    """Every email at once, each with its claim's commit mark."""

    async def send(n: int) -> None:
        commit = ledger.commit_point(key(n), ATTEMPT, CLAIMED_AT_MS)
        recipient = f"client{n}@example.org"
        await mailer.send(message(n), SENDER, [recipient], commit=arrivals.counted(commit))

    return await asyncio.gather(*(send(n) for n in range(SENDS)), return_exceptions=True)


async def reads_processed(probe: Redis) -> int:
    """How many times Redis has read from a client socket (INFO's own read included)."""
    return int((await probe.info("stats"))["total_reads_processed"])


async def evals_run(probe: Redis) -> int:
    return int((await probe.info("commandstats")).get("cmdstat_eval", {}).get("calls", 0))


async def test_the_marks_of_n_dots_reach_redis_in_one_read_each_before_its_own_dot(
    redis: Redis,
    redis_url: str,
    smtp_server: SmtpTestServer,
    mailer: SmtpMailer,
    writes: Writes,
) -> None:
    arrivals = Arrivals(redis)
    ledger = SendLedger(redis, AutoPipeline(redis), marks=CommitBatcher(arrivals.open_line))
    for n in range(SENDS):
        assert await ledger.claim(key(n), ATTEMPT, CLAIMED_AT_MS) is None
    probe = Redis.from_url(redis_url)  # its own connection, set up before counting
    try:
        evals = await evals_run(probe)
        reads = await reads_processed(probe)
        assert await send_all(mailer, ledger, arrivals) == [None] * SENDS
        # Redis woke once for the marks (the second number: this INFO's own read).
        assert await reads_processed(probe) - reads == 1 + 1
        assert await evals_run(probe) - evals == SENDS  # one mark each, answered each
    finally:
        await probe.aclose()

    # In whatever order the sends reached their dots: each mark right before its own dot.
    written = marks_and_dots(writes)
    assert len(written) == 2 * SENDS
    pairs = sorted(zip(written[0::2], written[1::2], strict=True))
    assert pairs == [(f"mark {n}", f"dot {n}") for n in range(SENDS)]
    assert len(smtp_server.messages) == SENDS
    for n in range(SENDS):
        entry = await ledger.peek(key(n))
        assert entry is not None and entry.outcome is Outcome.COMMITTING


async def test_a_mark_whose_claim_was_taken_over_fails_alone_in_its_turn(
    redis: Redis, smtp_server: SmtpTestServer, mailer: SmtpMailer
) -> None:
    """Its dot went with the others (its answer comes after): the server's 250 says it was
    delivered, and the others' marks are in."""
    arrivals = Arrivals(redis)
    ledger = SendLedger(redis, AutoPipeline(redis), marks=CommitBatcher(arrivals.open_line))
    for n in range(SENDS):
        assert await ledger.claim(key(n), ATTEMPT, CLAIMED_AT_MS) is None
    await redis.set(key(1), "claimed|another-run|2000")  # taken over meanwhile

    results = await send_all(mailer, ledger, arrivals)

    assert results[0] is None and results[2] is None and results[3] is None
    assert isinstance(results[1], CommitUnconfirmed)
    assert isinstance(results[1].cause, LedgerLost)
    outcomes = [await ledger.peek(key(n)) for n in range(SENDS)]
    assert [e.outcome if e else None for e in outcomes] == [
        Outcome.COMMITTING,
        Outcome.CLAIMED,  # still the other run's
        Outcome.COMMITTING,
        Outcome.COMMITTING,
    ]
    assert len(smtp_server.messages) == SENDS


async def test_a_line_redis_closed_while_idle_is_replaced_and_the_next_mark_lands(
    redis: Redis, redis_url: str
) -> None:
    ledger = SendLedger(redis, AutoPipeline(redis))
    for n in range(2):
        assert await ledger.claim(key(n), ATTEMPT, CLAIMED_AT_MS) is None
    await committed(ledger, key(0))
    probe = Redis.from_url(redis_url)
    try:  # every other client's connection, the turns' line among them
        await probe.client_kill_filter(_type="normal", skipme=True)
    finally:
        await probe.aclose()
    await asyncio.sleep(0.05)  # the line's end of the connection sees it closed

    await committed(ledger, key(1))  # answered: the mark went on a new connection
    entry = await ledger.peek(key(1))
    assert entry is not None and entry.outcome is Outcome.COMMITTING


async def committed(ledger: SendLedger, step_key: str) -> None:
    commit = ledger.commit_point(step_key, ATTEMPT, CLAIMED_AT_MS)
    await commit.prepare()
    commit.write()
    await commit.confirm()
