"""`coachd demo`: a week of three clients' commitments in under a minute, all embedded."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import secrets
import tempfile
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import aiosmtplib

from daemon.clock import ScaledClock
from daemon.config.load import load_coach_config
from daemon.demo.mailfolder import MailFolder
from daemon.demo.script import DEMO_END, DEMO_START, ScriptedReply, demo_replies, demo_script
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
# 7.5 days of the demo's clock pass in about 45 seconds.
DEMO_SPEED = 14_400.0
# The wall clock bounds the demo too (at DEMO_SPEED; a faster demo gets proportionally less).
DEMO_TIMEOUT_S = 60.0
# Clients: Ana 4 (reminder, 2 prompts, reflection), Ben 4 (reminder, 2 prompts, the answer to
# "stuck"), Chloé 1 (reminder for her new date); coaches: James's notice and his brief before
# his session with Ben, Maria's digests.
EXPECTED_EMAILS = 12
MAX_REPLY_BYTES = 1024 * 1024
POLL_S = 0.05
# An email is shown this long (wall clock) after the moment it is dated: long enough for
# every email of that moment to have arrived, so they are shown in order.
SHOW_AFTER_S = 0.5


class ReplyClock:
    """The demo intake's clock: while a scripted reply is being read, its scripted moment.

    A reply's moment becomes its event's `occurred_at`, and the notice and answer it causes
    are due then: so they are dated the minute the client wrote, run to run, rather than
    whenever the fast clock had got to by the time the reply was read.
    """

    def __init__(self, clock: ScaledClock) -> None:
        self._clock = clock
        self.held: datetime | None = None

    def now(self) -> datetime:
        return self.held or self._clock.now()

    def real(self, moment: datetime) -> datetime:
        return self._clock.real(moment)


def run_demo(out: Path | None, speed: float = DEMO_SPEED) -> int:
    folder = out or Path(f"coachd-demo-{datetime.now():%Y%m%d-%H%M%S}")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"coachd demo: one week of three clients' commitments, emails written to {folder}/")
    print("(clients reply by email to the reply address coachd gave them; coachd reads it)\n")
    received = asyncio.run(_run(folder, speed))
    print(f"\n{received} emails in {folder.resolve()} (open them with any mail program).")
    return 0 if received >= EXPECTED_EMAILS else 1


async def _run(folder: Path, speed: float) -> int:
    clock = ScaledClock(DEMO_START, speed)
    receiver = MailFolder(folder)
    controller = LocalSmtpServer(receiver)
    controller.start()
    try:
        port = int(controller.port)
        with tempfile.TemporaryDirectory(prefix="coachd-demo-") as data:
            async with EmbeddedRedis(Path(data)) as server:
                await _drive(server.url, port, clock, receiver)
    finally:
        controller.stop()
    receiver.flush()
    return receiver.written


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
    replying = ReplyClock(clock)
    intake = ReplyIntake(redis, identity.signing_key, identity.reply_domain, replying)
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
            await _play(redis, clock, receiver, (reply_port, replying))
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
    finally:
        await mailer.close()
        await redis.aclose()


async def _play(
    redis: Any, clock: ScaledClock, receiver: MailFolder, replies_to: tuple[int, ReplyClock]
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEMO_TIMEOUT_S * DEMO_SPEED / clock.speed
    show_after = timedelta(seconds=SHOW_AFTER_S * clock.speed)
    events, replies = demo_script(), demo_replies()
    while loop.time() < deadline and clock.now() < DEMO_END:
        while events and events[0].at <= clock.now():
            await publish(redis, [json.dumps(events.pop(0).event).encode()])
        while replies and replies[0].at <= clock.now():
            await _reply(replies.pop(0), receiver, *replies_to)
        receiver.flush(until=clock.now() - show_after)
        await asyncio.sleep(POLL_S)


async def _reply(reply: ScriptedReply, receiver: MailFolder, port: int, clock: ReplyClock) -> None:
    """Answer the last email the client got, the way a mail program would."""
    original = receiver.last_to(reply.client_email, before=reply.at)
    if original is None:
        return
    # Written in the client's zone (their email's Date has it), at the scripted moment.
    written_at = reply.at.astimezone(parsedate_to_datetime(str(original["Date"])).tzinfo)
    answer = EmailMessage()
    answer["From"] = original["To"]
    answer["To"] = original["Reply-To"]
    answer["Subject"] = f"Re: {original['Subject']}"
    answer["Date"] = email.utils.format_datetime(written_at)
    answer["Message-ID"] = email.utils.make_msgid(domain="example.org")
    answer["In-Reply-To"] = original["Message-ID"]
    answer["References"] = original["Message-ID"]
    quoted = "\n".join(f"> {line}" for line in _plain(original).splitlines())
    answer.set_content(
        f"{reply.text}\n\nOn {original['Date']}, {original['From']} wrote:\n{quoted}\n"
    )
    line = f"    <- {reply.at:%a %d %b %H:%M} UTC  {original['To']} replies: {reply.text}"
    receiver.note_reply(reply.at, line)
    clock.held = reply.at  # the intake reads it at its scripted moment (see ReplyClock)
    try:
        await aiosmtplib.send(answer, hostname="127.0.0.1", port=port, start_tls=False)
    finally:
        clock.held = None


def _plain(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return str(body.get_content()) if body is not None else ""
