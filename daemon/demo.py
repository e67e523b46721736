"""`coachd demo`: a week of three clients' commitments in under a minute, all embedded."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import json
import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from daemon.clock import ScaledClock
from daemon.coachconfig import load_coach_config
from daemon.embedded_redis import EmbeddedRedis
from daemon.ingest import publish
from daemon.mailer import SmtpConfig, SmtpMailer
from daemon.smtpsink import LocalSmtpServer
from daemon.worker import (
    Identity,
    WorkerOptions,
    build_services,
    build_worker,
    connect,
    inbox_consumer,
)

DEMO_CONFIG = Path(__file__).parent / "demo_config"
# Monday 30 November 2026, 07:00 UTC: the demo's week starts here, whatever today is.
DEMO_START = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
# 7.5 days of the demo's clock pass in about 45 seconds.
DEMO_SPEED = 14_400.0
DEMO_TIMEOUT_S = 60.0
EXPECTED_EMAILS = 10
POLL_S = 0.05


@dataclass(frozen=True)
class ScriptedEvent:
    at: datetime
    event: dict[str, Any]


def _client(client_id: str, name: str, email_address: str, zone: str) -> dict[str, str]:
    return {"client_id": client_id, "name": name, "email": email_address, "timezone": zone}


def demo_script() -> list[ScriptedEvent]:
    """What the coaches' system sends during the demo week, in order."""
    t0 = DEMO_START

    def event(n: int, at: datetime, kind: str, **fields: Any) -> ScriptedEvent:
        body = {
            "version": 1,
            "event_id": f"demo-{n}",
            "occurred_at": at.isoformat(),
            "type": kind,
            **fields,
        }
        return ScriptedEvent(at, body)

    return [
        event(
            1,
            t0,
            "commitment.created",
            commitment_id="ana-grant",
            coach_id="maria",
            client=_client("ana", "Ana Ruiz", "ana@example.org", "Europe/Madrid"),
            action="draft the grant proposal's first page",
            why="so the community garden gets its funding",
            due_date="2026-12-02",
        ),
        event(
            2,
            t0,
            "commitment.created",
            commitment_id="ben-calls",
            coach_id="james",
            client=_client("ben", "Ben Carter", "ben@example.org", "America/New_York"),
            action="call three former colleagues about the job market",
            due_date="2026-12-01",
        ),
        event(
            3,
            t0,
            "commitment.created",
            commitment_id="chloe-mentor",
            coach_id="maria",
            client=_client("chloe", "Chloé Martin", "chloe@example.org", "Europe/Madrid"),
            action="book a first session with a mentor",
            due_date="2026-12-03",
        ),
        # The coach and Chloé agree a new date before the first reminder went out.
        event(
            4,
            t0 + timedelta(hours=20),
            "commitment.updated",
            commitment_id="chloe-mentor",
            due_date="2026-12-07",
        ),
        # Ana replies to her coach that the page is written.
        event(
            5, t0 + timedelta(days=5, hours=8), "commitment.completed", commitment_id="ana-grant"
        ),
    ]


class MailFolder:
    """The demo's SMTP receiver: writes each message as .eml and prints a line about it."""

    def __init__(self, folder: Path, clock: ScaledClock) -> None:
        self.folder = folder
        self.clock = clock
        self.count = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.count += 1
        recipient = str(message["To"].addresses[0].username)
        path = self.folder / f"{self.count:02d}-{recipient}.eml"
        path.write_bytes(raw)
        print(_describe(self.count, self.clock.now(), message, path.name), flush=True)
        return "250 OK"


def _describe(n: int, at: datetime, message: EmailMessage, filename: str) -> str:
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    questions = [line.strip(" -*") for line in text.splitlines() if line.strip().endswith("?")]
    lines = [
        f"{n:2d}. {at:%a %d %b %H:%M} UTC  to {message['To']}",
        f"    {message['Subject']}  [{filename}]",
    ]
    lines += [f"    asks: {q}" for q in questions[:2]]
    return "\n".join(lines)


def run_demo(out: Path | None) -> int:
    folder = out or Path(f"coachd-demo-{datetime.now():%Y%m%d-%H%M%S}")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"coachd demo: one week of three clients' commitments, emails written to {folder}/")
    received = asyncio.run(_run(folder))
    print(f"\n{received} emails in {folder.resolve()} (open them with any mail program).")
    return 0 if received >= EXPECTED_EMAILS else 1


async def _run(folder: Path) -> int:
    clock = ScaledClock(DEMO_START, DEMO_SPEED)
    receiver = MailFolder(folder, clock)
    controller = LocalSmtpServer(receiver)
    controller.start()
    try:
        port = int(controller.port)
        with tempfile.TemporaryDirectory(prefix="coachd-demo-") as data:
            async with EmbeddedRedis(Path(data)) as server:
                await _drive(server.url, port, clock, receiver)
    finally:
        controller.stop()
    return receiver.count


async def _drive(url: str, smtp_port: int, clock: ScaledClock, receiver: MailFolder) -> None:
    config = load_coach_config(DEMO_CONFIG)
    identity = Identity(
        config.firm.from_address, config.firm.reply_domain, secrets.token_urlsafe(32).encode()
    )
    redis = await connect(url)
    mailer = SmtpMailer(SmtpConfig("127.0.0.1", smtp_port, "none"))
    services = build_services(redis, config, mailer, clock, identity)
    worker = build_worker(
        redis, services, WorkerOptions(max_jobs=20, poll_delay_s=POLL_S, handle_signals=False)
    )
    try:
        async with inbox_consumer(redis, services.store):
            running = asyncio.create_task(worker.async_run())
            await _play(redis, clock, receiver)
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
    finally:
        await mailer.close()
        await redis.aclose()


async def _play(redis: Any, clock: ScaledClock, receiver: MailFolder) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEMO_TIMEOUT_S
    script = demo_script()
    while loop.time() < deadline and receiver.count < EXPECTED_EMAILS:
        while script and script[0].at <= clock.now():
            await publish(redis, [json.dumps(script.pop(0).event).encode()])
        await asyncio.sleep(POLL_S)
