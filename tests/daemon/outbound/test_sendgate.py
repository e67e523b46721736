"""The send gate on a real aiosmtpd server: a closed gate starts nothing, a cut-off tells a
transaction cut before its final dot (nothing delivered) from one cut after it (unknown)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from daemon.errors import TransientSendError, UnknownOutcomeError
from daemon.outbound.mailer import NullMailer, SmtpMailer
from daemon.outbound.sendgate import SendGate, SendingStopped
from tests.daemon.outbound.test_mailer import CLIENT, SENDER, compose
from tests.helpers.smtp import SmtpTestServer

SLOW_S = 2.0
UNDER_WAY_S = 0.3  # long enough for a transaction to reach the server's slow phase
PROMPTLY_S = 0.5


@pytest.fixture
async def mailer(smtp_server: SmtpTestServer) -> AsyncIterator[SmtpMailer]:
    mailer = SmtpMailer(smtp_server.smtp_config(timeout=SLOW_S * 3, pool_size=1))
    yield mailer
    await mailer.close()


async def test_a_closed_gate_starts_no_transaction(
    smtp_server: SmtpTestServer, mailer: SmtpMailer
) -> None:
    gate = SendGate()
    gate.close()

    with pytest.raises(SendingStopped):
        await mailer.send(compose(), SENDER, [CLIENT], gate=gate)
    with pytest.raises(SendingStopped):
        await NullMailer().send(compose(), SENDER, [CLIENT], gate=gate)
    assert smtp_server.mail_times == []


async def test_a_send_waiting_for_a_connection_gives_up_as_soon_as_the_gate_closes(
    smtp_server: SmtpTestServer, mailer: SmtpMailer
) -> None:
    smtp_server.delay_data(SLOW_S)
    gate = SendGate()
    in_flight = asyncio.create_task(mailer.send(compose("first"), SENDER, [CLIENT], gate=gate))
    waiting = asyncio.create_task(mailer.send(compose("second"), SENDER, [CLIENT], gate=gate))
    await asyncio.sleep(UNDER_WAY_S)

    gate.close()
    with pytest.raises(SendingStopped):
        await asyncio.wait_for(waiting, PROMPTLY_S)
    await in_flight  # the one under way finishes: closing is not cutting off

    assert [m.message["Subject"] for m in smtp_server.messages] == ["first"]
    assert len(smtp_server.mail_times) == 1


async def test_a_transaction_cut_off_after_its_final_dot_has_an_unknown_outcome(
    smtp_server: SmtpTestServer, mailer: SmtpMailer
) -> None:
    smtp_server.delay_data(SLOW_S)
    gate = SendGate()
    sending = asyncio.create_task(mailer.send(compose(), SENDER, [CLIENT], gate=gate))
    await asyncio.sleep(UNDER_WAY_S)

    assert gate.cut_off() == 1
    with pytest.raises(UnknownOutcomeError):
        await asyncio.wait_for(sending, PROMPTLY_S)
    assert smtp_server.dots == [CLIENT]  # the server had the whole message


async def test_a_transaction_cut_off_before_data_is_given_back(
    smtp_server: SmtpTestServer, mailer: SmtpMailer
) -> None:
    smtp_server.delay_mail(SLOW_S)
    gate = SendGate()
    sending = asyncio.create_task(mailer.send(compose(), SENDER, [CLIENT], gate=gate))
    await asyncio.sleep(UNDER_WAY_S)

    assert gate.cut_off() == 1
    with pytest.raises(SendingStopped):
        await asyncio.wait_for(sending, PROMPTLY_S)
    assert smtp_server.dots == []


async def test_a_server_hanging_up_after_the_dot_is_still_not_delivered(
    smtp_server: SmtpTestServer, mailer: SmtpMailer
) -> None:
    """Only coachd's own cut-off makes a lost reply unknown: a server that hangs up
    instead of answering did not take the message (a transient failure, as before)."""
    smtp_server.disconnect_next_data()

    with pytest.raises(TransientSendError) as caught:
        await mailer.send(compose(), SENDER, [CLIENT], gate=SendGate())
    assert not isinstance(caught.value, SendingStopped)
