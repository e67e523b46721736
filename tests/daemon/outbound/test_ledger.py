"""The commit mark on the wire: held back until confirmed, and never lost with its worker."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest
import redis as redis_sync
from redis.asyncio import Redis

from daemon.outbound.ledger import Outcome, SendLedger, parse_entry
from daemon.store.pipelining import AutoPipeline

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="TCP_CORK is Linux's"),
]

KEY = "coachd:sent:c1:1:overdue-1d"
EARLIER_KEY = "coachd:sent:c0:1:overdue-1d"
ATTEMPT = "a1"
CLAIMED_AT_MS = 1_000


def outcome_in(redis_url: str, key: str = KEY) -> Outcome:
    client = redis_sync.Redis.from_url(redis_url)
    try:
        raw = client.get(key)
    finally:
        client.close()
    assert raw is not None
    return parse_entry(raw).outcome


async def test_the_mark_reaches_redis_only_when_confirmed(redis: Redis, redis_url: str) -> None:
    # Handing the mark to Redis at once wakes Redis, which then often runs before the
    # worker writes SMTP's final dot: held back, writing it wakes nobody.
    ledger = SendLedger(redis, AutoPipeline(redis))
    assert await ledger.claim(KEY, ATTEMPT, CLAIMED_AT_MS) is None
    commit = ledger.commit_point(KEY, ATTEMPT, CLAIMED_AT_MS)
    await commit.prepare()
    commit.write()
    # Blocking on purpose (nothing of this process runs meanwhile), and well under the 200 ms
    # the kernel holds corked data at most: without the cork the mark lands within microseconds.
    time.sleep(0.05)
    assert outcome_in(redis_url) is Outcome.CLAIMED
    await commit.confirm()
    assert outcome_in(redis_url) is Outcome.COMMITTING


CHILD = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from redis.asyncio import Redis
    from daemon.store.pipelining import AutoPipeline
    from daemon.outbound.ledger import SendLedger

    async def main():
        redis = Redis.from_url(sys.argv[1])
        ledger = SendLedger(redis, AutoPipeline(redis))
        assert await ledger.claim({key!r}, {attempt!r}, {claimed_at_ms}) is None
        commit = ledger.commit_point({key!r}, {attempt!r}, {claimed_at_ms})
        await commit.prepare()
        commit.write()  # ...and the final dot would follow here
        os.kill(os.getpid(), signal.SIGKILL)

    asyncio.run(main())
    """
).format(key=KEY, attempt=ATTEMPT, claimed_at_ms=CLAIMED_AT_MS)


def test_a_mark_held_back_still_lands_when_its_worker_is_killed(redis_url: str) -> None:
    # Killed after the mark and the dot were written: the kernel sends what it held back
    # when it closes the dead process's socket, so the email is not sent a second time.
    child = subprocess.run([sys.executable, "-c", CHILD, redis_url], timeout=30, check=False)
    assert child.returncode == -9
    deadline = time.monotonic() + 5
    while outcome_in(redis_url) is Outcome.CLAIMED and time.monotonic() < deadline:
        time.sleep(0.05)
    assert outcome_in(redis_url) is Outcome.COMMITTING


CHILD_WITH_A_REPLY_UNREAD = textwrap.dedent(
    """
    import asyncio, os, signal, sys, time
    from redis.asyncio import Redis
    from daemon.store.pipelining import AutoPipeline
    from daemon.outbound.ledger import SendLedger

    async def main():
        redis = Redis.from_url(sys.argv[1])
        ledger = SendLedger(redis, AutoPipeline(redis))
        for key in ({earlier!r}, {key!r}):
            assert await ledger.claim(key, {attempt!r}, {claimed_at_ms}) is None
        earlier = ledger.commit_point({earlier!r}, {attempt!r}, {claimed_at_ms})
        await earlier.prepare()
        earlier.write()
        await asyncio.sleep(0)  # its turn is flushed; its reply is not read yet...
        time.sleep(0.1)  # ...and now waits in the socket, as it does in a busy worker
        commit = ledger.commit_point({key!r}, {attempt!r}, {claimed_at_ms})
        await commit.prepare()
        commit.write()  # ...and the final dot would follow here
        os.kill(os.getpid(), signal.SIGKILL)

    asyncio.run(main())
    """
).format(earlier=EARLIER_KEY, key=KEY, attempt=ATTEMPT, claimed_at_ms=CLAIMED_AT_MS)


def test_a_mark_held_back_lands_even_when_an_earlier_marks_reply_was_unread_at_the_kill(
    redis_url: str,
) -> None:
    # Linux resets (not closes) a killed process's connection with a reply unread in it,
    # dropping what it held back: the turn must not have used that connection.
    child = subprocess.run(
        [sys.executable, "-c", CHILD_WITH_A_REPLY_UNREAD, redis_url], timeout=30, check=False
    )
    assert child.returncode == -9
    deadline = time.monotonic() + 5
    while outcome_in(redis_url) is Outcome.CLAIMED and time.monotonic() < deadline:
        time.sleep(0.05)
    assert outcome_in(redis_url, EARLIER_KEY) is Outcome.COMMITTING
    assert outcome_in(redis_url) is Outcome.COMMITTING
