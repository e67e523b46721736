"""SMTP PIPELINING (RFC 2920) against real aiosmtpd: one write for the envelope and DATA, the
replies read in order, refusals handled, and the commit mark still beside the final dot."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtplib import SMTPReadTimeoutError, SMTPRecipientRefused
from aiosmtplib.protocol import SMTPProtocol

from daemon.errors import PermanentSendError, TransientSendError
from daemon.outbound.mailer import SmtpMailer
from daemon.outbound.smtpenvelope import EnvelopeRefused, KeepingProtocol, Pipelined
from tests.helpers.smtp import SmtpTestServer
from tests.helpers.writes import Writes, recording_writes

SENDER = "coach@firm.example"
CLIENT = "client@example.org"
OTHER = "other@example.org"
ENVELOPE = (
    b"MAIL FROM:<coach@firm.example>\r\nRCPT TO:<client@example.org>\r\n"
    b"RCPT TO:<other@example.org>\r\nDATA\r\n"
)


def compose(subject: str) -> bytes:
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = CLIENT
    message["Subject"] = subject
    message.set_content("How is the first step going?\n")
    return message.as_bytes()


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Writes]:
    yield from recording_writes(monkeypatch)


@pytest.fixture
async def piped(pipelining_smtp_server: SmtpTestServer) -> AsyncIterator[SmtpMailer]:
    mailer = SmtpMailer(pipelining_smtp_server.smtp_config(pool_size=1))
    yield mailer
    await mailer.close()


@pytest.fixture
async def lockstep(smtp_server: SmtpTestServer) -> AsyncIterator[SmtpMailer]:
    mailer = SmtpMailer(smtp_server.smtp_config(pool_size=1))
    yield mailer
    await mailer.close()


def subjects(server: SmtpTestServer) -> list[str]:
    return [str(recorded.message["Subject"]) for recorded in server.messages]


async def test_the_envelope_and_data_leave_in_one_write_then_the_body_in_another(
    pipelining_smtp_server: SmtpTestServer, piped: SmtpMailer, writes: Writes
) -> None:
    await piped.send(compose("warm"), SENDER, [CLIENT])  # connects and greets
    start = len(writes.seen)
    await piped.send(compose("piped"), SENDER, [CLIENT, OTHER])

    envelope, body = writes.since(start)
    assert envelope == ENVELOPE
    assert body.endswith(b"\r\n.\r\n")
    [_, recorded] = pipelining_smtp_server.messages
    assert recorded.rcpt_tos == [CLIENT, OTHER]
    assert pipelining_smtp_server.connections == 1


@pytest.mark.skipif(
    os.environ.get("TESTS_SMTP_PIPELINING") == "1",
    reason="the default server offers PIPELINING in this run",
)
async def test_without_pipelining_offered_each_command_waits_for_its_reply(
    smtp_server: SmtpTestServer, lockstep: SmtpMailer, writes: Writes
) -> None:
    await lockstep.send(compose("warm"), SENDER, [CLIENT])
    start = len(writes.seen)
    await lockstep.send(compose("lock-step"), SENDER, [CLIENT, OTHER])

    *commands, body = writes.since(start)
    assert b"".join(commands) == ENVELOPE
    assert len(commands) == 4  # MAIL, RCPT, RCPT, DATA: one write (and round trip) each
    assert body.endswith(b"\r\n.\r\n")
    assert subjects(smtp_server) == ["warm", "lock-step"]


async def test_a_refused_recipient_among_several_still_delivers_to_the_others(
    pipelining_smtp_server: SmtpTestServer, piped: SmtpMailer
) -> None:
    pipelining_smtp_server.refuse_recipient(CLIENT, code=550)

    await piped.send(compose("partial"), SENDER, [CLIENT, OTHER])
    await piped.send(compose("next"), SENDER, [OTHER])

    assert [m.rcpt_tos for m in pipelining_smtp_server.messages] == [[OTHER], [OTHER]]
    assert pipelining_smtp_server.connections == 1


async def test_every_recipient_refused_is_permanent_and_the_session_is_reset_for_reuse(
    pipelining_smtp_server: SmtpTestServer, piped: SmtpMailer
) -> None:
    pipelining_smtp_server.refuse_recipient(CLIENT, code=550)
    commit = RecordingCommit()

    with pytest.raises(
        PermanentSendError, match=r"^550 envelope refused: 5\.1\.1 <<address>>: recipient refused"
    ) as err:
        await piped.send(compose("refused"), SENDER, [CLIENT], commit=commit)
    await piped.send(compose("after"), SENDER, [OTHER])

    assert err.value.code == 550
    assert commit.calls == []  # the DATA reply (503/554) came before any mark
    assert subjects(pipelining_smtp_server) == ["after"]
    assert pipelining_smtp_server.connections == 1


async def test_a_refused_sender_is_permanent_and_the_next_message_goes_on_the_same_session(
    pipelining_smtp_server: SmtpTestServer, piped: SmtpMailer
) -> None:
    pipelining_smtp_server.refuse_sender("bounced@firm.example", code=553)

    with pytest.raises(
        PermanentSendError, match=r"^553 envelope refused: 5\.7\.1 <<address>>: sender"
    ) as err:
        await piped.send(compose("refused"), "bounced@firm.example", [CLIENT])
    await piped.send(compose("after"), SENDER, [CLIENT])

    assert err.value.code == 553
    assert subjects(pipelining_smtp_server) == ["after"]
    assert pipelining_smtp_server.connections == 1


async def test_a_4xx_at_mail_is_transient_and_a_retry_succeeds(
    pipelining_smtp_server: SmtpTestServer, piped: SmtpMailer
) -> None:
    pipelining_smtp_server.refuse_sender(SENDER, code=451)

    with pytest.raises(
        TransientSendError, match=r"^451 envelope refused: 4\.7\.1 <<address>>: sender refused"
    ) as err:
        await piped.send(compose("greylisted"), SENDER, [CLIENT])
    pipelining_smtp_server.accept_recipient(f"from:{SENDER}")
    await piped.send(compose("greylisted"), SENDER, [CLIENT])

    assert err.value.code == 451
    assert subjects(pipelining_smtp_server) == ["greylisted"]
    assert pipelining_smtp_server.connections == 1


async def test_a_421_at_mail_is_transient_and_the_session_is_not_reused(
    pipelining_smtp_server: SmtpTestServer, piped: SmtpMailer
) -> None:
    # The server is closing: the RCPT and DATA replies behind it are not waited for.
    pipelining_smtp_server.refuse_sender(SENDER, code=421)

    with pytest.raises(TransientSendError, match=r"^421 envelope refused: 4\.7\.1") as err:
        await piped.send(compose("closing"), SENDER, [CLIENT])
    pipelining_smtp_server.accept_recipient(f"from:{SENDER}")
    await piped.send(compose("closing"), SENDER, [CLIENT])

    assert err.value.code == 421
    assert subjects(pipelining_smtp_server) == ["closing"]
    assert pipelining_smtp_server.connections == 2


async def test_the_commit_mark_is_written_after_the_354_right_before_the_body_and_dot(
    pipelining_smtp_server: SmtpTestServer, piped: SmtpMailer, writes: Writes
) -> None:
    await piped.send(compose("warm"), SENDER, [CLIENT])
    start = len(writes.seen)
    commit = RecordingCommit(writes)

    await piped.send(compose("committed"), SENDER, [CLIENT, OTHER], commit=commit)

    # The mark went out when only the envelope had (its replies, 354 included, were in),
    # and the very next write was the body with its final dot.
    assert commit.calls == ["prepare", "write", "confirm"]
    assert commit.writes_at_mark == start + 1
    assert writes.seen[commit.writes_at_mark].endswith(b"\r\n.\r\n")
    assert subjects(pipelining_smtp_server) == ["warm", "committed"]


class RecordingCommit:
    """A commit point that records its calls and how many socket writes preceded its mark."""

    def __init__(self, writes: Writes | None = None) -> None:
        self.calls: list[str] = []
        self.writes_at_mark = -1
        self._writes = writes

    async def prepare(self) -> None:
        self.calls.append("prepare")
        await asyncio.sleep(0)

    def write(self) -> None:
        self.calls.append("write")
        if self._writes is not None:
            self.writes_at_mark = len(self._writes.seen)

    async def confirm(self) -> None:
        self.calls.append("confirm")


class _Transport(asyncio.Transport):
    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def is_closing(self) -> bool:
        return False


@pytest.mark.parametrize("protocol_class", [KeepingProtocol, SMTPProtocol])
async def test_a_reply_arriving_before_the_previous_one_is_read_is_kept(
    protocol_class: type[SMTPProtocol],
) -> None:
    # Pipelined replies can arrive one segment each, the second before the first is read:
    # aiosmtplib's own protocol drops it (the read would then wait forever).
    protocol = protocol_class(loop=asyncio.get_running_loop())
    protocol.connection_made(_Transport())
    if isinstance(protocol, KeepingProtocol):
        protocol.keep_replies = True
    protocol._response_pending = True
    protocol.data_received(b"250 sender ok\r\n")
    protocol.data_received(b"354 go ahead\r\n")

    first = await protocol.read_response(timeout=1)
    if not isinstance(protocol, KeepingProtocol):
        with pytest.raises(SMTPReadTimeoutError):
            await protocol.read_response(timeout=0.05)
        return
    second = await protocol.read_reply(timeout=1)

    assert (first.code, second.code) == (250, 354)


class _ScriptedServer(_Transport):
    """Answers each write with the next scripted replies, each in a segment of its own."""

    def __init__(self, protocol: SMTPProtocol, script: list[list[bytes]]) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self._protocol = protocol
        self._script = script

    def write(self, data: Any) -> None:
        self.written.append(bytes(data))
        loop = asyncio.get_running_loop()
        for reply in self._script.pop(0):
            loop.call_soon(self._protocol.data_received, reply)


async def test_a_354_despite_every_recipient_refused_is_ended_empty_before_the_refusal() -> None:
    # RFC 2920 wants 503/554 to DATA then; a server that says 354 gets a lone dot: no message.
    protocol = KeepingProtocol(loop=asyncio.get_running_loop())
    script = [[b"250 ok\r\n", b"550 5.1.1 no such user\r\n", b"354 go ahead\r\n"], [b"250 ok\r\n"]]
    server = _ScriptedServer(protocol, script)
    protocol.connection_made(server)
    protocol._response_pending = False
    envelope = Pipelined(b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n", "a@b", ["c@d"])

    with pytest.raises(EnvelopeRefused) as err:
        await envelope.run(protocol, timeout=1)

    assert server.written == [envelope.commands, b".\r\n"]
    assert isinstance(err.value.cause, SMTPRecipientRefused)
    assert err.value.cause.code == 550
