"""Tests for the SMTP mailer against a real aiosmtpd server: delivery, pooling, error classes."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from email.message import EmailMessage

import pytest

from daemon.errors import PermanentSendError, TransientSendError, UnknownOutcomeError
from daemon.outbound.mailer import Mailer, NullMailer, SmtpConfig, SmtpMailer
from tests.helpers.smtp import SmtpTestServer

SENDER = "coach@firm.example"
CLIENT = "client@example.org"
SHORT_TIMEOUT = 0.3


def compose(subject: str = "Checking in", to: str = CLIENT) -> bytes:
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{subject.replace(' ', '-')}@coachd.test>"
    message.set_content("How is the first step going?\n.\nA line that starts with a dot.\n")
    return message.as_bytes()


@pytest.fixture
async def mailer(smtp_server: SmtpTestServer) -> AsyncIterator[SmtpMailer]:
    mailer = SmtpMailer(smtp_server.smtp_config())
    yield mailer
    await mailer.close()


def subjects(smtp_server: SmtpTestServer) -> list[str]:
    return [str(recorded.message["Subject"]) for recorded in smtp_server.messages]


async def test_a_message_is_delivered_and_recorded(
    smtp_server: SmtpTestServer, mailer: SmtpMailer
) -> None:
    await mailer.send(compose("Hello"), SENDER, [CLIENT])

    [recorded] = smtp_server.messages
    assert recorded.mail_from == SENDER
    assert recorded.rcpt_tos == [CLIENT]
    assert recorded.message["Subject"] == "Hello"
    assert b"\r\n.\r\nA line that starts with a dot.\r\n" in recorded.content


async def test_one_connection_is_reused_across_sends(
    smtp_server: SmtpTestServer, mailer: SmtpMailer
) -> None:
    for index in range(5):
        await mailer.send(compose(f"m{index}"), SENDER, [CLIENT])

    assert subjects(smtp_server) == [f"m{index}" for index in range(5)]
    assert smtp_server.connections == 1


async def test_a_connection_is_recycled_after_its_message_cap(
    smtp_server: SmtpTestServer,
) -> None:
    mailer = SmtpMailer(smtp_server.smtp_config(pool_size=1, max_messages_per_connection=2))
    for index in range(5):
        await mailer.send(compose(f"m{index}"), SENDER, [CLIENT])
    await mailer.close()

    assert len(smtp_server.messages) == 5
    assert smtp_server.connections == 3


async def test_451_is_transient_with_its_code_and_a_retry_succeeds(
    smtp_server: SmtpTestServer, mailer: SmtpMailer
) -> None:
    smtp_server.fail_next(1, code=451)

    with pytest.raises(TransientSendError) as caught:
        await mailer.send(compose("retry me"), SENDER, [CLIENT])
    assert caught.value.code == 451
    assert smtp_server.messages == []

    await mailer.send(compose("retry me"), SENDER, [CLIENT])
    assert subjects(smtp_server) == ["retry me"]
    assert smtp_server.connections == 1  # RSET kept the session usable


async def test_554_on_data_is_permanent(smtp_server: SmtpTestServer, mailer: SmtpMailer) -> None:
    smtp_server.fail_next(1, code=554)

    with pytest.raises(PermanentSendError) as caught:
        await mailer.send(compose(), SENDER, [CLIENT])
    assert caught.value.code == 554


async def test_421_is_transient_and_the_session_is_replaced(
    smtp_server: SmtpTestServer, mailer: SmtpMailer
) -> None:
    smtp_server.fail_next(1, code=421)

    with pytest.raises(TransientSendError) as caught:
        await mailer.send(compose("closing"), SENDER, [CLIENT])
    assert caught.value.code == 421

    await mailer.send(compose("closing"), SENDER, [CLIENT])
    assert subjects(smtp_server) == ["closing"]
    assert smtp_server.connections == 2


async def test_a_refused_recipient_is_permanent_and_its_address_is_not_in_the_error(
    smtp_server: SmtpTestServer, mailer: SmtpMailer
) -> None:
    smtp_server.refuse_recipient(CLIENT, code=550)

    with pytest.raises(PermanentSendError) as caught:
        await mailer.send(compose(), SENDER, [CLIENT])
    assert caught.value.code == 550
    assert CLIENT not in str(caught.value)
    assert "<address>" in caught.value.reason
    assert smtp_server.messages == []

    await mailer.send(compose("after"), SENDER, ["other@example.org"])
    assert subjects(smtp_server) == ["after"]


async def test_a_greylisted_recipient_is_transient(
    smtp_server: SmtpTestServer, mailer: SmtpMailer
) -> None:
    smtp_server.refuse_recipient(CLIENT, code=450)

    with pytest.raises(TransientSendError) as caught:
        await mailer.send(compose(), SENDER, [CLIENT])
    assert caught.value.code == 450


async def test_a_partial_refusal_delivers_to_the_accepted_recipients(
    smtp_server: SmtpTestServer, mailer: SmtpMailer
) -> None:
    smtp_server.refuse_recipient(CLIENT, code=550)

    await mailer.send(compose(), SENDER, [CLIENT, "coach@firm.example"])

    [recorded] = smtp_server.messages
    assert recorded.rcpt_tos == ["coach@firm.example"]


async def test_a_drop_mid_body_is_transient_and_the_next_send_reconnects_once(
    smtp_server: SmtpTestServer, mailer: SmtpMailer
) -> None:
    await mailer.send(compose("first"), SENDER, [CLIENT])
    smtp_server.drop_mid_body_next(1)

    with pytest.raises(TransientSendError) as caught:
        await mailer.send(compose("second"), SENDER, [CLIENT])
    assert caught.value.code is None

    await mailer.send(compose("second"), SENDER, [CLIENT])
    assert subjects(smtp_server) == ["first", "second"]
    assert smtp_server.connections == 2


class RecordingCommit:
    """A commit point that records the order it is driven in."""

    def __init__(self, prepare_s: float = 0.0) -> None:
        self.calls: list[str] = []
        self._prepare_s = prepare_s

    async def prepare(self) -> None:
        self.calls.append("prepare")
        await asyncio.sleep(self._prepare_s)

    def write(self) -> None:
        self.calls.append("write")

    async def confirm(self) -> None:
        self.calls.append("confirm")


async def test_a_server_hanging_up_instead_of_replying_is_transient_and_resent_once(
    smtp_server: SmtpTestServer, mailer: SmtpMailer
) -> None:
    commit = RecordingCommit()
    smtp_server.disconnect_next_data(1)  # the server had the whole message, did not take it
    with pytest.raises(TransientSendError):
        await mailer.send(compose("second"), SENDER, [CLIENT], commit=commit)
    assert commit.calls == ["prepare", "write", "confirm"]
    await mailer.send(compose("second"), SENDER, [CLIENT])
    assert subjects(smtp_server) == ["second"]


async def test_a_mark_written_for_a_connection_gone_before_the_body_is_confirmed(
    smtp_server: SmtpTestServer, mailer: SmtpMailer
) -> None:
    # The caller gives the claim back after this failure: the mark must have landed first.
    commit = RecordingCommit(prepare_s=0.2)  # long enough to see the hang-up
    smtp_server.hang_up_at_data_next(1)
    with pytest.raises(TransientSendError):
        await mailer.send(compose("first"), SENDER, [CLIENT], commit=commit)
    assert commit.calls == ["prepare", "write", "confirm"]
    await mailer.send(compose("first"), SENDER, [CLIENT])
    assert subjects(smtp_server) == ["first"]


async def test_nothing_is_committed_when_the_server_refuses_before_the_data(
    smtp_server: SmtpTestServer, mailer: SmtpMailer
) -> None:
    commit = RecordingCommit()
    smtp_server.refuse_recipient(CLIENT, code=550)
    with pytest.raises(PermanentSendError):
        await mailer.send(compose("refused"), SENDER, [CLIENT], commit=commit)
    assert commit.calls == []


async def test_a_timeout_during_data_is_an_unknown_outcome(
    smtp_server: SmtpTestServer,
) -> None:
    mailer = SmtpMailer(smtp_server.smtp_config(timeout=SHORT_TIMEOUT))
    smtp_server.delay_data(SHORT_TIMEOUT * 2)
    try:
        with pytest.raises(UnknownOutcomeError):
            await mailer.send(compose("slow"), SENDER, [CLIENT])
        smtp_server.delay_data(0)
        await mailer.send(compose("next"), SENDER, [CLIENT])
    finally:
        await mailer.close()
    assert "next" in subjects(smtp_server)
    assert smtp_server.connections == 2


async def test_a_closed_port_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    mailer = SmtpMailer(SmtpConfig(host="127.0.0.1", port=closed_port, tls="none", timeout=1))

    with pytest.raises(TransientSendError, match="connect failed"):
        await mailer.send(compose(), SENDER, [CLIENT])
    await mailer.close()


async def test_a_pool_of_four_delivers_forty_concurrent_messages_exactly_once(
    smtp_server: SmtpTestServer,
) -> None:
    mailer = SmtpMailer(smtp_server.smtp_config(pool_size=4))
    await asyncio.gather(
        *(mailer.send(compose(f"m{index}"), SENDER, [CLIENT]) for index in range(40))
    )
    await mailer.close()

    assert sorted(subjects(smtp_server)) == sorted(f"m{index}" for index in range(40))
    assert smtp_server.connections == 4


async def test_close_waits_for_nothing_and_a_later_send_reconnects(
    smtp_server: SmtpTestServer, mailer: SmtpMailer
) -> None:
    await mailer.send(compose("before"), SENDER, [CLIENT])
    await mailer.close()
    await mailer.send(compose("after"), SENDER, [CLIENT])

    assert subjects(smtp_server) == ["before", "after"]
    assert smtp_server.connections == 2


async def test_a_non_ascii_address_is_permanent_and_keeps_the_pool_usable(
    smtp_server: SmtpTestServer, mailer: SmtpMailer
) -> None:
    with pytest.raises(PermanentSendError, match="not ASCII"):
        await mailer.send(compose(), SENDER, ["zoë@example.org"])

    await mailer.send(compose("after"), SENDER, [CLIENT])
    assert subjects(smtp_server) == ["after"]


async def test_no_recipients_is_a_programming_error(mailer: SmtpMailer) -> None:
    with pytest.raises(ValueError, match="recipient"):
        await mailer.send(compose(), SENDER, [])


async def test_null_mailer_counts_and_drops() -> None:
    mailer: Mailer = NullMailer()
    await mailer.send(compose(), SENDER, [CLIENT])
    await mailer.send(compose(), SENDER, [CLIENT])
    await mailer.close()

    assert isinstance(mailer, NullMailer)
    assert mailer.sent == 2


def test_smtp_config_repr_hides_the_password() -> None:
    config = SmtpConfig(host="smtp.example", port=587, tls="starttls", username="u", password="pw")
    assert "pw" not in repr(config)
