"""A coach's own templates render off the event loop under a time limit: a template that
never finishes fails its one email (the coach hears why) and stalls nothing else."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from daemon.outbound import delivery
from daemon.outbound.mailer import SmtpMailer
from daemon.worker import Identity
from tests.helpers.events import created
from tests.helpers.firm import FIRM_TOML, SIGNING_KEY
from tests.helpers.loop import Loop, running_loop
from tests.helpers.smtp import SmtpTestServer

pytestmark = pytest.mark.integration

REMINDER_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
async def coach_templates_loop(
    tmp_path: Path, redis_url: str, smtp_server: SmtpTestServer
) -> AsyncIterator[Loop]:
    """The test firm with a templates folder of its own (empty: the defaults fill in)."""
    (tmp_path / "tpl").mkdir()
    config = tmp_path / "firm.toml"
    config.write_text(FIRM_TOML.replace("[firm]\n", '[firm]\ntemplates_dir = "tpl"\n', 1))
    identity = Identity("coach@northstar.example", "reply.northstar.example", SIGNING_KEY)
    mailer = SmtpMailer(smtp_server.smtp_config())
    async with running_loop(redis_url, smtp_server, config, mailer, identity) as running:
        yield running


async def test_a_template_that_never_finishes_fails_its_email_without_stalling_the_loop(
    coach_templates_loop: Loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = coach_templates_loop
    release = threading.Event()

    def stuck(*_args: object) -> tuple[bytes, str]:
        release.wait(timeout=5)  # a render that does not end, released when the test ends
        raise AssertionError("the step should have stopped waiting")

    monkeypatch.setattr(delivery, "compose_step", stuck)
    monkeypatch.setattr(delivery, "RENDER_TIMEOUT_S", 0.3)
    await loop.emit(created())
    await loop.consume()
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    try:
        await loop.advance(REMINDER_AT)
    finally:
        ticker.cancel()
        release.set()

    assert ticks >= 10  # the loop ran on while the render was stuck
    assert time.monotonic() - started < 3
    state = await loop.commitment()
    assert "could not compose: TimeoutError" in state["last_error"]
    assert loop.messages == []
