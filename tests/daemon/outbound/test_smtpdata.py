"""The final dot and its commit mark (daemon.outbound.smtpdata), against a real aiosmtpd server:
when Redis does not confirm the mark, the server's answer to the dot still decides."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from daemon.errors import TransientSendError
from daemon.outbound.mailer import SmtpMailer
from daemon.outbound.smtpdata import CommitUnconfirmed
from tests.helpers.smtp import SmtpTestServer

SENDER, CLIENT = "coach@firm.example", "client@example.org"
MESSAGE = b"From: coach@firm.example\r\nSubject: Checking in\r\n\r\nHow is it going?\r\n"
ANSWER_AFTER_S = 0.2  # the server answers the dot this long after it


class UnconfirmedCommit:
    """A commit point whose store never answers the mark (its Redis died meanwhile)."""

    async def prepare(self) -> None:
        """Nothing to wait for."""

    def write(self) -> None:
        """The mark is on its way."""

    async def confirm(self) -> None:
        raise RedisConnectionError("Connection closed by server.")


@pytest.fixture
async def mailer(smtp_server: SmtpTestServer) -> AsyncIterator[SmtpMailer]:
    smtp_server.delay_data(ANSWER_AFTER_S)
    mailer = SmtpMailer(smtp_server.smtp_config())
    yield mailer
    await mailer.close()


async def test_an_unconfirmed_mark_waits_for_the_servers_250_then_says_so(
    smtp_server: SmtpTestServer, mailer: SmtpMailer
) -> None:
    """The caller records such an email sent: it must be, so coachd does not hang up on a
    server that is about to take it (it used to, and lost that email in a failover)."""
    with pytest.raises(CommitUnconfirmed):
        await mailer.send(MESSAGE, SENDER, [CLIENT], commit=UnconfirmedCommit())
    assert [m.rcpt_tos for m in smtp_server.messages] == [[CLIENT]]


async def test_a_refused_dot_wins_over_an_unconfirmed_mark(
    smtp_server: SmtpTestServer, mailer: SmtpMailer
) -> None:
    smtp_server.fail_next(1, code=451)
    with pytest.raises(TransientSendError, match="451"):
        await mailer.send(MESSAGE, SENDER, [CLIENT], commit=UnconfirmedCommit())
    assert smtp_server.messages == []
