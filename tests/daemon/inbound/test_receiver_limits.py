"""The SMTP/LMTP receiver under attack on loopback: session caps, the DATA budget, LMTP replies."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import pytest
from structlog.testing import capture_logs

from daemon.inbound.mailguard import ReceiverLimits
from daemon.inbound.message import InboundMessage
from daemon.inbound.receiver import receiving

DOMAIN = "reply.northstar.example"
RECIPIENTS = [f"reply+{letters}@{DOMAIN}" for letters in ("aaaaaaaa", "bbbbbbbb", "cccccccc")]
REPLY_S = 2.0  # a refusal must come this quickly (the idle timeout is far longer)
MiB = 1024 * 1024
BODY_LINE = b"x" * 998 + b"\r\n"
FD_SLACK = 10  # listening socket, the loop's own, a transient accept or two


class Sink:
    """Records the messages the receiver hands on."""

    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []

    async def __call__(self, message: InboundMessage) -> None:
        self.messages.append(message)


class Client:
    """A raw SMTP/LMTP client: one line out, one reply (all its lines) in."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def reply(self) -> str:
        lines = []
        while True:
            line = (await asyncio.wait_for(self.reader.readline(), REPLY_S)).decode()
            lines.append(line.rstrip("\r\n"))
            if len(line) < 4 or line[3] != "-":
                return "\n".join(lines)

    async def command(self, line: str) -> str:
        self.writer.write(line.encode() + b"\r\n")
        await self.writer.drain()
        return await self.reply()

    async def envelope(self, hello: str = "EHLO", size: int | None = None) -> None:
        assert (await self.command(f"{hello} mta.example.org")).startswith("250")
        option = f" SIZE={size}" if size is not None else ""
        assert (await self.command(f"MAIL FROM:<ana@example.org>{option}")).startswith("250")
        assert (await self.command(f"RCPT TO:<{RECIPIENTS[0]}>")).startswith("250")

    async def body(self, nbytes: int) -> str:
        """Send a body of about `nbytes` and the final dot; the reply to it."""
        self.writer.write(b"Subject: hi\r\n\r\n" + BODY_LINE * (nbytes // len(BODY_LINE)))
        return await self.command(".")

    async def body_without_end(self, nbytes: int) -> None:
        """Send about `nbytes` of body, not the final dot: the body stays in flight."""
        self.writer.write(b"Subject: hi\r\n\r\n" + BODY_LINE * (nbytes // len(BODY_LINE)))
        await self.writer.drain()

    def close(self) -> None:
        self.writer.close()


async def connect(port: int, source: str = "127.0.0.1") -> tuple[Client, str]:
    """A connection from `source` (any 127/8 address is loopback) and the server's first line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    client = Client(reader, writer)
    return client, await client.reply()


async def closed_by_server(client: Client) -> bool:
    return await asyncio.wait_for(client.reader.read(), REPLY_S) == b""


@asynccontextmanager
async def serving(
    sink: Sink, limits: ReceiverLimits, *, lmtp: bool = False, max_message_bytes: int = MiB
) -> AsyncIterator[int]:
    async with receiving(
        sink,
        DOMAIN,
        "127.0.0.1",
        0,
        lmtp=lmtp,
        max_message_bytes=max_message_bytes,
        limits=limits,
    ) as port:
        yield port


@contextmanager
def closing(clients: list[Client]) -> Iterator[list[Client]]:
    try:
        yield clients
    finally:
        for client in clients:
            client.close()


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_connections_over_the_cap_get_a_421_at_once_and_mail_flows_after_the_flood() -> None:
    """20 idle sessions hold the cap; 40 more are refused and closed at once, so the server's
    descriptors stay at the cap; the overload is logged once, not per connection."""
    sink, cap, extra = Sink(), 20, 40
    limits = ReceiverLimits(max_sessions=cap, max_sessions_per_ip=cap)
    with capture_logs() as logs:
        async with serving(sink, limits) as port:
            before = open_fds()
            with closing([]) as flood:
                for _ in range(cap):
                    client, banner = await connect(port)
                    flood.append(client)
                    assert banner.startswith("220 ")
                for _ in range(extra):
                    client, banner = await connect(port)
                    flood.append(client)
                    assert banner.startswith("421 4.3.2 ")
                    assert await closed_by_server(client)
                await asyncio.sleep(0.1)  # the refused sockets' close has run
                # each client socket is ours; the server holds one more per admitted session
                assert open_fds() - before <= cap + extra + cap + FD_SLACK
            await asyncio.sleep(0.1)
            client, banner = await connect(port)
            with closing([client]):
                assert banner.startswith("220 ")
                await client.envelope()
                assert (await client.command("DATA")).startswith("354")
                assert (await client.body(2000)).startswith("250")
    assert len(sink.messages) == 1
    overloaded = [entry for entry in logs if entry["event"] == "receiver_overloaded"]
    assert [entry["counts"] for entry in overloaded] == [{"sessions": 1}, {"sessions": extra - 1}]


async def test_one_client_ip_cannot_take_every_session() -> None:
    """Over the per-IP cap a client is refused while another address still gets in."""
    limits = ReceiverLimits(max_sessions=10, max_sessions_per_ip=3)
    async with serving(Sink(), limits) as port:
        with closing([]) as clients:
            for _ in range(3):
                client, banner = await connect(port, "127.0.0.1")
                clients.append(client)
                assert banner.startswith("220 ")
            client, banner = await connect(port, "127.0.0.1")
            clients.append(client)
            assert banner.startswith("421 ")
            assert await closed_by_server(client)
            client, banner = await connect(port, "127.0.0.2")
            clients.append(client)
            assert banner.startswith("220 ")
            clients[0].close()  # a session that ends gives its place back
            await asyncio.sleep(0.1)
            client, banner = await connect(port, "127.0.0.1")
            clients.append(client)
            assert banner.startswith("220 ")


async def test_when_bodies_in_flight_fill_the_data_budget_the_next_data_gets_a_452() -> None:
    """Two 1 MiB bodies on their way fill a 2 MiB budget: the next DATA is refused (4xx: the
    MTA retries) before a byte of its body is read; once the two are in, it is welcome again."""
    sink = Sink()
    limits = ReceiverLimits(max_data_bytes=2 * MiB)
    async with serving(sink, limits, max_message_bytes=MiB) as port:
        with closing([]) as clients:
            for _ in range(3):
                client, _banner = await connect(port)
                clients.append(client)
                await client.envelope()
            for client in clients[:2]:
                assert (await client.command("DATA")).startswith("354")
                await client.body_without_end(MiB - 4096)
            await asyncio.sleep(0.3)  # the server has taken in both bodies
            assert (await clients[2].command("DATA")).startswith("452")
            finals = await asyncio.gather(*(client.command(".") for client in clients[:2]))
            assert [final[:3] for final in finals] == ["250", "250"]
            assert (await clients[2].command("DATA")).startswith("354")
            assert (await clients[2].body(4096)).startswith("250")
    assert len(sink.messages) == 3


async def test_a_declared_size_lets_small_messages_share_the_budget_but_binds_the_sender() -> None:
    """Senders that declare SIZE reserve about that much: ten 100 kB messages fit in 2 MiB at
    once; a body far beyond its declared size is dropped (552), not buffered."""
    sink = Sink()
    limits = ReceiverLimits(max_data_bytes=2 * MiB)
    async with serving(sink, limits, max_message_bytes=MiB) as port:
        with closing([]) as clients:
            for _ in range(10):
                client, _banner = await connect(port)
                clients.append(client)
                await client.envelope(size=100_000)
            answers = [await client.command("DATA") for client in clients]
            assert [answer[:3] for answer in answers] == ["354"] * 10
            assert (await clients[0].body(MiB - 4096)).startswith("552")
            finals = await asyncio.gather(*(client.body(90_000) for client in clients[1:]))
            assert [final[:3] for final in finals] == ["250"] * 9
    assert len(sink.messages) == 9


async def test_an_idle_session_is_closed_after_the_idle_timeout() -> None:
    async with serving(Sink(), ReceiverLimits(idle_timeout_s=0.3)) as port:
        client, banner = await connect(port)
        with closing([client]):
            assert banner.startswith("220 ")
            assert await closed_by_server(client)


async def test_lmtp_answers_once_per_accepted_recipient_after_data() -> None:
    """RFC 2033: three accepted recipients (a foreign one refused between them), three replies."""
    sink = Sink()
    async with serving(sink, ReceiverLimits(), lmtp=True) as port:
        client, _banner = await connect(port)
        with closing([client]):
            assert (await client.command("LHLO mta.example.org")).startswith("250")
            assert (await client.command("MAIL FROM:<ana@example.org>")).startswith("250")
            assert (await client.command(f"RCPT TO:<{RECIPIENTS[0]}>")).startswith("250")
            assert (await client.command("RCPT TO:<someone@elsewhere.example>")).startswith("550")
            for recipient in RECIPIENTS[1:]:
                assert (await client.command(f"RCPT TO:<{recipient}>")).startswith("250")
            assert (await client.command("DATA")).startswith("354")
            replies = [await client.body(2000), await client.reply(), await client.reply()]
            assert [reply[:3] for reply in replies] == ["250", "250", "250"]
            assert (await client.command("NOOP")).startswith("250")  # nothing left over
    assert [message.recipients for message in sink.messages] == [tuple(RECIPIENTS)]


@pytest.mark.parametrize("lmtp", [False, True])
async def test_the_banner_names_the_host_only(lmtp: bool) -> None:
    async with serving(Sink(), ReceiverLimits(), lmtp=lmtp) as port:
        client, banner = await connect(port)
        with closing([client]):
            assert banner == f"220 {DOMAIN}"
            assert "aiosmtpd" not in banner.lower()
            assert "python" not in banner.lower()
