"""Senders that open DATA without a SIZE and then send next to nothing, on loopback: they hold
what they sent, not a whole message each, so genuine mail still flows; a body that outgrows
what is left is cut off with a 421. Found on a real `coachd run`: six such sessions, a byte
every 5 s each, held the 64 MiB budget (10 MiB each) and every other DATA got 452."""

from __future__ import annotations

import asyncio

from daemon.inbound.mailguard import UNSIZED_START_BYTES, ReceiverLimits
from tests.daemon.inbound.test_receiver_limits import (
    REPLY_S,
    Client,
    MiB,
    Sink,
    closing,
    connect,
    serving,
)

BUDGET = 2 * MiB
# Before, each of these held a whole message (1 MiB): two of them spent the budget.
SLOW_SENDERS = 8


async def test_slow_senders_without_size_do_not_spend_the_budget() -> None:
    sink = Sink()
    async with serving(sink, ReceiverLimits(max_data_bytes=BUDGET), max_message_bytes=MiB) as port:
        with closing([]) as clients:
            for _ in range(SLOW_SENDERS + 1):
                client, _banner = await connect(port)
                clients.append(client)
                await client.envelope()
            for slow in clients[:SLOW_SENDERS]:
                assert (await slow.command("DATA")).startswith("354")
                slow.writer.write(b"S")  # and then nothing more for now
            genuine = clients[-1]
            assert (await genuine.command("DATA")).startswith("354")
            assert (await genuine.body(MiB - 4096)).startswith("250")
    assert len(sink.messages) == 1
    assert SLOW_SENDERS * UNSIZED_START_BYTES + MiB <= BUDGET  # what the test relies on


async def _cut_off(client: Client) -> bool:
    """The server said 421 and closed, or closed with our bytes unread (the client then
    sees a reset, and loses the 421): either way an MTA retries later."""
    try:
        said = await asyncio.wait_for(client.reader.read(), REPLY_S)  # all, until closed
    except ConnectionResetError:
        return True
    return said.startswith(b"421 ")


async def test_a_body_that_outgrows_the_budget_is_cut_off_and_the_others_land() -> None:
    sink = Sink()
    async with serving(sink, ReceiverLimits(max_data_bytes=BUDGET), max_message_bytes=MiB) as port:
        with closing([]) as clients:
            for _ in range(3):
                client, _banner = await connect(port)
                clients.append(client)
                await client.envelope()
            for client in clients:
                assert (await client.command("DATA")).startswith("354")
            for client in clients[:2]:
                await client.body_without_end(MiB * 7 // 8)
            await asyncio.sleep(0.3)  # the server has taken in both: 1.75 MiB held
            late = clients[2]
            late.writer.write(b"Subject: hi\r\n\r\n" + b"x" * 998 + b"\r\n" * 512)
            late.writer.write((b"x" * 998 + b"\r\n") * 512)
            assert await _cut_off(late)
            finals = await asyncio.gather(*(client.command(".") for client in clients[:2]))
    assert [final[:3] for final in finals] == ["250", "250"]
    assert len(sink.messages) == 2
