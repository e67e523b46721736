"""`coachd demo`: a week of three clients' commitments in under a minute, all embedded."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import email.utils
import json
import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
from aiosmtpd.smtp import SMTP, Envelope, Session

from daemon.clock import ScaledClock
from daemon.config.load import load_coach_config
from daemon.demo.smtpsink import LocalSmtpServer
from daemon.inbound.intake import ReplyIntake
from daemon.inbound.receiver import receiving
from daemon.inbox.stream import publish
from daemon.outbound.coachmail import schedule_all_digests
from daemon.outbound.mailer import SmtpConfig, SmtpMailer
from daemon.store.embedded import EmbeddedRedis
from daemon.store.schedule import connect
from daemon.worker import (
    Identity,
    WorkerOptions,
    build_dispatcher,
    build_services,
    build_worker,
    inbox_consumer,
    step_dispatcher,
)

DEMO_CONFIG = Path(__file__).parent / "firm"
# Monday 30 November 2026, 07:00 UTC: the demo's week starts here, whatever today is.
DEMO_START = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
# 7.5 days of the demo's clock pass in about 45 seconds.
DEMO_SPEED = 14_400.0
# The script is over by Monday 7 December, 16:00 UTC; the wall clock bounds it too.
DEMO_END = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
DEMO_TIMEOUT_S = 60.0
# Clients: Ana 4 (reminder, 2 prompts, reflection), Ben 4 (reminder, 2 prompts, the answer to
# "stuck"), Chloé 1 (reminder for her new date); coaches: James's notice, Maria's digests.
EXPECTED_EMAILS = 11
MAX_REPLY_BYTES = 1024 * 1024
POLL_S = 0.05


@dataclass(frozen=True)
class ScriptedEvent:
    at: datetime
    event: dict[str, Any]


def _client(client_id: str, name: str, email_address: str, zone: str) -> dict[str, str]:
    return {"client_id": client_id, "name": name, "email": email_address, "timezone": zone}


# What the coaches' system sends during the demo week: (hours after the start, type, fields).
_EVENTS: tuple[tuple[int, str, dict[str, Any]], ...] = (
    (
        0,
        "commitment.created",
        {
            "commitment_id": "ana-grant",
            "coach_id": "maria",
            "client": _client("ana", "Ana Ruiz", "ana@example.org", "Europe/Madrid"),
            "action": "draft the grant proposal's first page",
            "why": "so the community garden gets its funding",
            "due_date": "2026-12-02",
        },
    ),
    (
        0,
        "commitment.created",
        {
            "commitment_id": "ben-calls",
            "coach_id": "james",
            "client": _client("ben", "Ben Carter", "ben@example.org", "America/New_York"),
            "action": "call three former colleagues about the job market",
            "due_date": "2026-12-01",
        },
    ),
    (
        0,
        "commitment.created",
        {
            "commitment_id": "chloe-mentor",
            "coach_id": "maria",
            "client": _client("chloe", "Chloé Martin", "chloe@example.org", "Europe/Madrid"),
            "action": "book a first session with a mentor",
            "due_date": "2026-12-03",
        },
    ),
    # The coach and Chloé agree a new date before the first reminder went out.
    (20, "commitment.updated", {"commitment_id": "chloe-mentor", "due_date": "2026-12-07"}),
)


def demo_script() -> list[ScriptedEvent]:
    """What the coaches' system sends during the demo week, in order."""
    scripted = []
    for number, (hours, kind, fields) in enumerate(_EVENTS, start=1):
        at = DEMO_START + timedelta(hours=hours)
        body = {
            "version": 1,
            "event_id": f"demo-{number}",
            "occurred_at": at.isoformat(),
            "type": kind,
            **fields,
        }
        scripted.append(ScriptedEvent(at, body))
    return scripted


@dataclass(frozen=True)
class ScriptedReply:
    """A client answering the last email they got, as they would from their phone."""

    at: datetime
    client_email: str
    text: str


def demo_replies() -> list[ScriptedReply]:
    t0 = DEMO_START
    return [
        # Ben answers his second prompt (Friday, New York): something is in the way.
        ScriptedReply(
            t0 + timedelta(days=4, hours=9),
            "ben@example.org",
            "Honestly I'm stuck - no time this week with the move.",
        ),
        # Ana answers her Saturday prompt: done.
        ScriptedReply(
            t0 + timedelta(days=5, hours=8),
            "ana@example.org",
            "Done! I sent the first page to the foundation this morning.",
        ),
    ]


class MailFolder:
    """The demo's SMTP receiver: writes each message as .eml and prints a line about it."""

    def __init__(self, folder: Path, clock: ScaledClock) -> None:
        self.folder = folder
        self.clock = clock
        self.count = 0
        self.last_to: dict[str, EmailMessage] = {}

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.count += 1
        recipient = str(message["To"].addresses[0].username)
        path = self.folder / f"{self.count:02d}-{recipient}.eml"
        path.write_bytes(raw)
        self.last_to[message["To"].addresses[0].addr_spec] = message
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
    print("(clients reply by email to the reply address coachd gave them; coachd reads it)\n")
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
    options = WorkerOptions(max_jobs=20, poll_delay_s=POLL_S, handle_signals=False)
    worker = build_worker(redis, services, options)
    intake = ReplyIntake(redis, identity.signing_key, identity.reply_domain, clock)
    try:
        async with (
            receiving(
                intake,
                identity.reply_domain,
                "127.0.0.1",
                0,
                lmtp=False,
                max_message_bytes=MAX_REPLY_BYTES,
            ) as reply_port,
            inbox_consumer(redis, services),
            step_dispatcher(build_dispatcher(services, options)),
        ):
            await schedule_all_digests(services)
            running = asyncio.create_task(worker.async_run())
            await _play(redis, clock, receiver, reply_port)
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
    finally:
        await mailer.close()
        await redis.aclose()


async def _play(redis: Any, clock: ScaledClock, receiver: MailFolder, reply_port: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEMO_TIMEOUT_S
    events, replies = demo_script(), demo_replies()
    while loop.time() < deadline and clock.now() < DEMO_END:
        while events and events[0].at <= clock.now():
            await publish(redis, [json.dumps(events.pop(0).event).encode()])
        while replies and replies[0].at <= clock.now():
            await _reply(replies.pop(0), receiver, reply_port, clock)
        await asyncio.sleep(POLL_S)


async def _reply(reply: ScriptedReply, receiver: MailFolder, port: int, clock: ScaledClock) -> None:
    """Answer the last email the client got, the way a mail program would."""
    original = receiver.last_to[reply.client_email]
    answer = EmailMessage()
    answer["From"] = original["To"]
    answer["To"] = original["Reply-To"]
    answer["Subject"] = f"Re: {original['Subject']}"
    answer["Date"] = email.utils.format_datetime(clock.now())
    answer["Message-ID"] = email.utils.make_msgid(domain="example.org")
    answer["In-Reply-To"] = original["Message-ID"]
    answer["References"] = original["Message-ID"]
    quoted = "\n".join(f"> {line}" for line in _plain(original).splitlines())
    answer.set_content(
        f"{reply.text}\n\nOn {original['Date']}, {original['From']} wrote:\n{quoted}\n"
    )
    print(f"    <- {original['To']} replies: {reply.text}", flush=True)
    await aiosmtplib.send(answer, hostname="127.0.0.1", port=port, start_tls=False)


def _plain(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return str(body.get_content()) if body is not None else ""
