"""Secrets and addresses never show in logs, reprs or error messages, over a whole real flow."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from daemon.cli import main
from daemon.config.load import load_coach_config
from daemon.demo.smtpsink import LocalSmtpServer
from daemon.edges import identity_from, imap_config_from, smtp_config_from, webhook_secrets
from daemon.errors import SendError, SettingsError
from daemon.inbound.intake import ReplyIntake
from daemon.inbound.webhooks import build_http_app
from daemon.logs import configure_logging
from daemon.outbound.coachmail import schedule_all_digests
from daemon.outbound.mailer import SmtpMailer
from daemon.settings import Settings
from tests.helpers.events import created
from tests.helpers.loop import Loop, running_loop
from tests.helpers.smtp import LOOPBACK, RecordingHandler, SmtpTestServer

pytestmark = pytest.mark.integration

SMTP_USER = "smtp-user-7Hq2"
SECRETS = {
    "signing_key": "SIGNING-KEY-d41d8cd98f00b204e9800998ecf8427e",
    "smtp_password": "SMTP-PASSWORD-5f4dcc3b5aa765d61d8327deb8",
    "imap_password": "IMAP-PASSWORD-e99a18c428cb38d5f260853678",
    "postmark_token": "POSTMARK-TOKEN-0cc175b9c0f1b6a831c399e2",
    "mailgun_signing_key": "MAILGUN-KEY-92eb5ffee6ae2fec3ad71c777531",
    "sendgrid_token": "SENDGRID-TOKEN-4a8a08f09d37b73795649038",
}
CLIENT, COACH = "ana@example.org", "maria@northstar.example"
ADDRESSES = (CLIENT, COACH, "ana", "maria@")  # local parts too: a redactor might miss half
REMINDER_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # Tuesday 09:00 Madrid
DIGEST_AT = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # Tuesday 17:00 Madrid


def settings_for(smtp: SmtpTestServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_tls": "none",
        "smtp_user": SMTP_USER,
        "smtp_timeout_s": 2.0,
        "imap_host": "imap.northstar.example",
        "imap_user": "replies",
        **SECRETS,
    }
    return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]


def authenticator(
    _server: SMTP, _session: Session, _envelope: Envelope, _mechanism: str, data: object
) -> AuthResult:
    """Only the configured user and password get in."""
    expected = LoginPassword(SMTP_USER.encode(), SECRETS["smtp_password"].encode())
    return AuthResult(success=data == expected, handled=False)  # aiosmtpd answers 235 / 535


@pytest.fixture
def auth_smtp() -> Iterator[SmtpTestServer]:
    """The tests' recording SMTP server, requiring a login (allowed without TLS, on loopback)."""
    handler = RecordingHandler()
    controller = LocalSmtpServer(handler, authenticator=authenticator, auth_require_tls=False)
    controller.start()
    try:
        yield SmtpTestServer(host=LOOPBACK, port=controller.port, handler=handler)
    finally:
        controller.stop()


@pytest.fixture
async def secret_loop(
    redis_url: str, auth_smtp: SmtpTestServer, firm_config: Path
) -> AsyncIterator[Loop]:
    """The `loop` fixture, wired from Settings the way `coachd run` wires it."""
    settings = settings_for(auth_smtp)
    mailer = SmtpMailer(smtp_config_from(settings))
    identity = identity_from(settings, load_coach_config(firm_config))
    async with running_loop(redis_url, auth_smtp, firm_config, mailer, identity) as running:
        yield running


def assert_nothing_leaks(text: str, *extra: str) -> None:
    for leak in (*SECRETS.values(), SMTP_USER, *ADDRESSES, *extra):
        assert leak not in text, leak


def a_reply(to: str, words: str) -> str:
    return (
        f"From: Ana Ruiz <{CLIENT}>\r\nTo: <{to}>\r\nSubject: Re: Your step\r\n"
        "Date: Tue, 01 Dec 2026 10:00:00 +0100\r\nMessage-ID: <r1@mail.example.org>\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{words}\r\n"
    )


async def test_a_whole_flow_logs_ids_but_no_secret_token_or_address(
    secret_loop: Loop, capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    loop = secret_loop
    configure_logging("json", "DEBUG")
    # The test's own HTTP client logs the URLs it requests: not coachd's logs.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = settings_for(loop.smtp)
    await schedule_all_digests(loop.services)
    await loop.emit(created())
    await loop.consume()
    await loop.advance(REMINDER_AT)
    reply_to = str(loop.messages[0].message["Reply-To"])
    token = reply_to.split("+")[1].split("@", maxsplit=1)[0]

    intake = ReplyIntake(loop.redis, loop.services.signing_key, "reply.northstar.example")
    app = build_http_app(
        sink=intake,
        unsubscribe=intake.unsubscribe,
        secrets=webhook_secrets(settings),
        max_body_bytes=1 << 20,
    )
    payload = {"RawEmail": a_reply(reply_to, "Halfway there, the intro is hard."), "From": CLIENT}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://coachd"
    ) as http:
        refused = await http.post("/inbound/postmark", json=payload, auth=("pm", "wrong"))
        accepted = await http.post(
            "/inbound/postmark", json=payload, auth=("pm", SECRETS["postmark_token"])
        )
        forged = await http.post("/inbound/mailgun", data={"signature": "x", "token": "y"})
        page = await http.get(f"/unsubscribe/{token}")
    await loop.consume()
    await loop.advance(DIGEST_AT)

    assert [r.status_code for r in (refused, accepted, forged, page)] == [401, 200, 403, 200]
    assert [m.rcpt_tos for m in loop.messages] == [[CLIENT], [COACH]]  # reminder, digest
    logged = capsys.readouterr().err
    events = {json.loads(line)["event"] for line in logged.splitlines()}
    expected = {"event_applied", "reply_accepted", "inbound_accepted", "webhook_rejected"}
    assert expected <= events
    assert_nothing_leaks(logged, token, "Halfway there")


async def test_a_refused_smtp_login_says_so_without_the_user_password_or_recipient(
    auth_smtp: SmtpTestServer, capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    configure_logging("json", "DEBUG")
    config = replace(smtp_config_from(settings_for(auth_smtp)), password="WRONG-" + "x" * 20)
    mailer = SmtpMailer(config)
    try:
        with pytest.raises(SendError) as failed:
            await mailer.send(b"Subject: hi\r\n\r\nhi\r\n", "coach@northstar.example", [CLIENT])
    finally:
        await mailer.close()

    assert failed.value.code == 535
    assert_nothing_leaks(f"{failed.value} {failed.value!r}", "WRONG-")
    assert_nothing_leaks(capsys.readouterr().err, "WRONG-")


def test_reprs_and_dumps_of_settings_and_configs_hold_no_secret() -> None:
    smtp = SmtpTestServer(LOOPBACK, 2525, RecordingHandler())
    settings = settings_for(smtp)
    imap = imap_config_from(settings)
    assert imap is not None
    shown = [
        repr(settings),
        str(settings),
        settings.model_dump_json(),
        json.dumps(settings.model_dump(), default=str),
        repr(smtp_config_from(settings)),
        repr(imap),
        repr(webhook_secrets(settings)),
    ]
    for text in shown:
        for secret in SECRETS.values():
            assert secret not in text, (secret, text)


def test_a_too_short_signing_key_is_refused_without_repeating_it(firm_config: Path) -> None:
    smtp = SmtpTestServer(LOOPBACK, 2525, RecordingHandler())
    short = "SHORT-KEY-31337"
    with pytest.raises(SettingsError) as refused:
        identity_from(settings_for(smtp, signing_key=short), load_coach_config(firm_config))
    assert "COACHD_SIGNING_KEY" in str(refused.value)
    assert short not in str(refused.value)


def test_invalid_settings_are_reported_without_the_secrets_beside_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(f"COACHD_{name.upper()}", value)
    monkeypatch.setenv("COACHD_SMTP_PORT", "not-a-port")
    monkeypatch.chdir(Path(__file__).parent)  # no .env here

    assert main(["status"]) != 0

    captured = capsys.readouterr()
    assert "COACHD_SMTP_PORT" in captured.err
    assert_nothing_leaks(captured.out + captured.err)


def test_the_worker_identity_repr_holds_no_signing_key(firm_config: Path) -> None:
    smtp = SmtpTestServer(LOOPBACK, 2525, RecordingHandler())
    identity = identity_from(settings_for(smtp), load_coach_config(firm_config))
    assert SECRETS["signing_key"] not in repr(identity)


def test_the_worker_services_repr_holds_no_signing_key(secret_loop: Loop) -> None:
    assert SECRETS["signing_key"] not in repr(secret_loop.services)
