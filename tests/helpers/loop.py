"""coachd's whole loop on real servers, driven step by step: inbox, store, arq worker and SMTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from arq.connections import ArqRedis
from arq.utils import timestamp_ms
from arq.worker import Worker

from daemon.clock import SystemClock
from daemon.config.load import load_coach_config
from daemon.inbox.stream import InboxConsumer, PublishReport, ensure_group, publish
from daemon.outbound.delivery import fire_step
from daemon.outbound.dispatcher import StepDispatcher
from daemon.outbound.firing import Services
from daemon.outbound.mailer import SmtpMailer
from daemon.store import keys
from daemon.store.schedule import connect
from daemon.worker import (
    Identity,
    WorkerOptions,
    build_dispatcher,
    build_services,
    build_worker,
)
from tests.helpers.firm import START
from tests.helpers.smtp import RecordedMessage, SmtpTestServer

MAX_ROUNDS = 50


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


async def leave_commit_mark(loop: Loop, key: str, claimed_at_ms: int) -> None:
    """What a worker killed after writing the final dot, before any reply, leaves."""
    ledger = loop.services.ledger
    assert await ledger.claim(key, "dead-worker", claimed_at_ms) is None
    commit = ledger.commit_point(key, "dead-worker", claimed_at_ms)
    await commit.prepare()
    commit.write()
    await commit.confirm()


async def fire_and_die_before_settling(
    loop: Loop, monkeypatch: pytest.MonkeyPatch, version: int, step: str
) -> None:
    """Fire the step with a worker that dies after the server's 250 and the ledger's
    "sent", before the commitment moves on: the job will run again."""

    async def crash(*_: object, **__: object) -> None:
        raise ConnectionError("worker died after the SMTP server said 250")

    ctx = {"services": loop.services, "job_id": "x", "job_try": 1}
    with monkeypatch.context() as patch:
        patch.setattr(loop.services.store, "finish_all", crash)
        with pytest.raises(ConnectionError):
            await fire_step(ctx, "c1", version, step)


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
        consumer = InboxConsumer(
            redis, services.store, "test-consumer", reclaim_idle_ms=0, metrics=services.metrics
        )
        try:
            yield Loop(redis, services, worker, dispatcher, consumer, smtp_server, traveller)
        finally:
            await mailer.close()
            await redis.aclose()
