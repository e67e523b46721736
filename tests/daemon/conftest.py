"""The whole loop on real servers: inbox, store, arq worker and SMTP, with time moved by tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from arq.connections import ArqRedis
from arq.utils import timestamp_ms
from arq.worker import Worker

from daemon.clock import SystemClock
from daemon.config.load import load_coach_config
from daemon.inbox.stream import InboxConsumer, PublishReport, ensure_group, publish
from daemon.outbound.dispatcher import StepDispatcher
from daemon.outbound.firing import Services
from daemon.outbound.mailer import SmtpMailer
from daemon.store import keys
from daemon.worker import (
    Identity,
    WorkerOptions,
    build_dispatcher,
    build_services,
    build_worker,
    connect,
)

if TYPE_CHECKING:
    from conftest import RecordedMessage, SmtpTestServer

# Monday 30 November 2026, 08:00 in Madrid.
START = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
SIGNING_KEY = b"test-signing-key-0123456789-abcdefghij"
MAX_ROUNDS = 50

FIRM_TOML = """
[firm]
name = "Northstar Coaching"
from_address = "coach@northstar.example"
reply_domain = "reply.northstar.example"

[coaches.maria]
name = "Maria Lopez"
email = "maria@northstar.example"
timezone = "Europe/Madrid"

[profiles.twice]
reminders_before_due_days = [2]
overdue_prompt_days = [1, 4]
stop_after_unanswered = 2
questions_per_prompt = 2
"""


def created(
    event_id: str = "e-created",
    commitment_id: str = "c1",
    *,
    due: str = "2026-12-03",
    at: datetime = START,
    client_id: str = "ana",
    email: str = "ana@example.org",
    zone: str = "Europe/Madrid",
    profile: str | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "version": 1,
        "event_id": event_id,
        "occurred_at": at.isoformat(),
        "type": "commitment.created",
        "commitment_id": commitment_id,
        "coach_id": "maria",
        "client": {"client_id": client_id, "name": "Ana Ruiz", "email": email, "timezone": zone},
        "action": "draft the grant proposal's first page",
        "why": "so the garden gets funded",
        "due_date": due,
    }
    if profile:
        event["profile"] = profile
    return event


def changed(
    event_type: str, event_id: str, at: datetime, commitment_id: str = "c1", **fields: Any
) -> dict[str, Any]:
    return {
        "version": 1,
        "event_id": event_id,
        "occurred_at": at.isoformat(),
        "type": event_type,
        "commitment_id": commitment_id,
        **fields,
    }


@dataclass
class Loop:
    """Drives coachd's real parts step by step; time only moves when a test moves it."""

    redis: ArqRedis
    services: Services
    worker: Worker
    dispatcher: StepDispatcher
    consumer: InboxConsumer
    smtp: SmtpTestServer
    traveller: time_machine.Coordinates

    @property
    def messages(self) -> list[RecordedMessage]:
        return self.smtp.messages

    async def emit(self, *events: dict[str, Any] | bytes) -> PublishReport:
        lines = [e if isinstance(e, bytes) else json.dumps(e).encode() for e in events]
        return await publish(self.redis, lines)

    async def consume(self) -> None:
        """Apply everything in the inbox."""
        while await self.consumer.consume_once(">", block_ms=None):
            pass

    async def advance(self, to: datetime) -> None:
        """Move time to `to` and run every step that is due by then."""
        self.traveller.move_to(to)
        await self.run_due()

    async def run_due(self) -> None:
        """Fire every due step (the dispatcher) and run every due coach email (arq)."""
        for _ in range(MAX_ROUNDS):
            fired = await self.dispatcher.run_due()
            await self.worker._poll_iteration()  # arq's own poll, one round at a time
            running = [t for t in self.worker.tasks.values() if not t.done()]
            if running:
                await asyncio.gather(*running)
                continue
            if not fired and not await self.redis.zcount(keys.JOB_QUEUE, "-inf", timestamp_ms()):
                return
        raise AssertionError("steps kept coming due")

    async def commitment(self, commitment_id: str = "c1") -> dict[str, str]:
        raw = await self.redis.hgetall(keys.commitment(commitment_id))  # type: ignore[misc]
        return {k.decode(): v.decode() for k, v in raw.items()}

    async def dead_letters(self) -> list[dict[str, str]]:
        entries = await self.redis.xrange(keys.DEAD_LETTER_STREAM)
        return [
            {k.decode(): v.decode(errors="replace") for k, v in fields.items()}
            for _, fields in entries
        ]


@pytest.fixture
def firm_config(tmp_path: Path) -> Path:
    path = tmp_path / "firm.toml"
    path.write_text(FIRM_TOML)
    return path


@pytest.fixture
async def loop(
    redis_url: str, smtp_server: SmtpTestServer, firm_config: Path
) -> AsyncIterator[Loop]:
    identity = Identity("coach@northstar.example", "reply.northstar.example", SIGNING_KEY)
    mailer = SmtpMailer(smtp_server.smtp_config())
    async with running_loop(redis_url, smtp_server, firm_config, mailer, identity) as running:
        yield running


@asynccontextmanager
async def running_loop(
    redis_url: str,
    smtp_server: SmtpTestServer,
    firm_config: Path,
    mailer: SmtpMailer,
    identity: Identity,
) -> AsyncIterator[Loop]:
    """The whole loop wired the way `coachd run` wires it, with time frozen at START."""
    with time_machine.travel(START, tick=False) as traveller:
        redis = await connect(redis_url)
        config = load_coach_config(firm_config)
        services = build_services(redis, config, mailer, SystemClock(), identity)
        options = WorkerOptions(handle_signals=False)
        worker = build_worker(redis, services, options)
        dispatcher = build_dispatcher(services, options)
        await ensure_group(redis)
        consumer = InboxConsumer(redis, services.store, "test-consumer", reclaim_idle_ms=0)
        try:
            yield Loop(redis, services, worker, dispatcher, consumer, smtp_server, traveller)
        finally:
            await mailer.close()
            await redis.aclose()
