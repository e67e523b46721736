"""One SMTP session sending RCPT after RCPT on loopback: past 100 recipients a transaction gets
452 (RFC 5321 4.5.3.1.8), so a session cannot grow memory without end. Found on a real
`coachd run`: 300,000 well-formed `reply+…` recipients in one session took the daemon's RSS
from 113 to 220 MB, then the message was accepted with all of them."""

from __future__ import annotations

from daemon.inbound.mailguard import ReceiverLimits
from daemon.inbound.receiver import MAX_RECIPIENTS
from tests.daemon.inbound.test_receiver_limits import RECIPIENTS, Sink, closing, connect, serving

SENT = 3 * MAX_RECIPIENTS


async def test_recipients_past_the_limit_get_452_and_the_message_keeps_the_first() -> None:
    sink = Sink()
    async with serving(sink, ReceiverLimits()) as port:
        client, _banner = await connect(port)
        with closing([client]):
            assert (await client.command("EHLO mta.example.org")).startswith("250")
            assert (await client.command("MAIL FROM:<ana@example.org>")).startswith("250")
            # Pipelined, as a flood would send them; one answer each, in order.
            client.writer.write(f"RCPT TO:<{RECIPIENTS[0]}>\r\n".encode() * SENT)
            answers = [(await client.reply())[:3] for _ in range(SENT)]
            assert (await client.command("DATA")).startswith("354")
            assert (await client.body(1024)).startswith("250")
    assert answers == ["250"] * MAX_RECIPIENTS + ["452"] * (SENT - MAX_RECIPIENTS)
    [message] = sink.messages
    assert len(message.recipients) == MAX_RECIPIENTS
