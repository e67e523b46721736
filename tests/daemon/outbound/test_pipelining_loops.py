"""Pipelined sessions on any event loop: the protocol that keeps replies is there from the
connection's first byte (uvloop binds `data_received` when the connection is made)."""

from __future__ import annotations

import asyncio
import importlib.util
from email.message import EmailMessage

import aiosmtplib
import pytest

from daemon.outbound.mailer import SmtpMailer
from daemon.outbound.smtpenvelope import KeepingProtocol
from tests.helpers.smtp import SmtpTestServer

pytestmark = pytest.mark.integration

SENDS = 300


def message(index: int) -> bytes:
    built = EmailMessage()
    built["From"] = "coach@firm.example"
    built["To"] = "client@example.org"
    built["Subject"] = f"step {index}"
    built.set_content("How is the first step going?\n")
    return built.as_bytes()


async def send_many(server: SmtpTestServer) -> None:
    mailer = SmtpMailer(server.smtp_config(pool_size=4))
    try:
        await asyncio.gather(
            *(mailer.send(message(i), "coach@firm.example", ["client@example.org"]) for i in
              range(SENDS))
        )  # fmt: skip
    finally:
        await mailer.close()


async def test_aiosmtplib_builds_the_keeping_protocol_when_it_connects(
    pipelining_smtp_server: SmtpTestServer,
) -> None:
    client = aiosmtplib.SMTP(hostname=pipelining_smtp_server.host, port=pipelining_smtp_server.port)
    await client.connect()
    try:
        assert type(client.protocol) is KeepingProtocol
    finally:
        client.close()


@pytest.mark.skipif(importlib.util.find_spec("uvloop") is None, reason="uvloop not installed")
def test_pipelined_sends_all_arrive_on_uvloop(pipelining_smtp_server: SmtpTestServer) -> None:
    import uvloop

    uvloop.run(send_many(pipelining_smtp_server))  # hung on lost replies before the fix

    assert len(pipelining_smtp_server.messages) == SENDS
