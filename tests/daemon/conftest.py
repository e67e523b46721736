"""Fixtures for the daemon tests: the test firm's coach file, the whole loop on real servers,
the HTTP app with POST /events on, and logging put back as it was."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import structlog

from daemon.outbound.mailer import SmtpMailer
from daemon.worker import Identity
from tests.helpers.eventposts import SECRETS
from tests.helpers.firm import FIRM_TOML, SIGNING_KEY
from tests.helpers.loop import Loop, running_loop
from tests.helpers.smtp import SmtpTestServer
from tests.helpers.webhooks import Edge, webhook_servers


@pytest.fixture
def firm_config(tmp_path: Path) -> Path:
    """The test firm's coach file, in the test's own directory."""
    path = tmp_path / "firm.toml"
    path.write_text(FIRM_TOML)
    return path


@pytest.fixture
async def loop(
    redis_url: str, smtp_server: SmtpTestServer, firm_config: Path
) -> AsyncIterator[Loop]:
    """The whole loop on the clean Redis and the recording SMTP server, time frozen at START."""
    identity = Identity("coach@northstar.example", "reply.northstar.example", SIGNING_KEY)
    mailer = SmtpMailer(smtp_server.smtp_config())
    async with running_loop(redis_url, smtp_server, firm_config, mailer, identity) as running:
        yield running


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Leave the root logger and structlog as other tests expect them (after configure_logging)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


@pytest.fixture
async def door(redis_url: str) -> AsyncIterator[Edge]:
    """The HTTP app with POST /events on, on a free port, over the test's clean Redis."""
    async with webhook_servers(redis_url) as start:
        yield await start(SECRETS)
