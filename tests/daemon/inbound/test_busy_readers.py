"""A good reply that arrives while every reader is busy is refused for now (451: the MTA
retries) and lands, once, on the retry. Before, a header read that timed out counted as
"no reply token": the reply was answered 250, dead-lettered, and lost (measured on a real
`coachd run`: three good replies sent beside six hostile messages, all three dead-lettered).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import wait
from contextlib import contextmanager

import aiosmtplib
import pytest

from daemon.inbound import intake as intake_module
from daemon.inbound import readerpool
from daemon.inbound.intake import ReplyIntake
from daemon.inbound.receiver import receiving
from daemon.store import keys
from tests.daemon.inbound.test_intake import DOMAIN, answer, reminded, send
from tests.helpers.loop import Loop

pytestmark = pytest.mark.integration

HELD_S = 30.0  # a held reader lets go at the end of the test, or after this at the latest
SHORT_LIMIT_S = 0.3


@pytest.fixture
async def receiver(loop: Loop) -> AsyncIterator[int]:
    intake = ReplyIntake(loop.redis, loop.services.signing_key, DOMAIN)
    async with receiving(
        intake, DOMAIN, "127.0.0.1", 0, lmtp=False, max_message_bytes=64 * 1024
    ) as port:
        yield port


@contextmanager
def busy_readers() -> Iterator[None]:
    """Every thread of the real reader pool held by a read that does not end until the block
    does: what messages that take long to read leave behind (a thread cannot be stopped)."""
    release = threading.Event()
    held = [
        readerpool._READERS.submit(release.wait, HELD_S) for _ in range(readerpool.READER_THREADS)
    ]
    try:
        yield
    finally:
        release.set()
        wait(held)


async def test_a_reply_while_the_readers_are_busy_gets_451_and_lands_once_on_retry(
    loop: Loop, receiver: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    reminder = await reminded(loop)
    reply = answer(reminder, "Done! Sent it to the foundation.")

    with monkeypatch.context() as patch, busy_readers():
        patch.setattr(intake_module, "READ_TIMEOUT_S", SHORT_LIMIT_S)  # a shorter wait
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await send(receiver, reply)
    assert refused.value.code == 451  # "try again later", not 250 and lost
    await loop.consume()
    assert await loop.dead_letters() == []
    assert (await loop.commitment())["status"] == "active"

    await send(receiver, reply)  # the MTA's retry, once a reader is free
    await loop.consume()
    assert (await loop.commitment())["status"] == "completed"
    [entry] = await loop.redis.lrange(keys.history("c1"), 0, -1)
    assert b"Sent it to the foundation." in entry
