"""Reloading coach files on SIGHUP: a broken file keeps the last good config running."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from jinja2 import TemplateError

from daemon.config.load import CoachConfigError, format_problems, load_coach_config
from daemon.outbound.coachmail import schedule_all_digests
from daemon.outbound.firing import Services
from jobs.composer import ComposeError

log = structlog.get_logger(__name__)


async def reload_config(services: Services, path: Path) -> bool:
    """Load the coach files again; on any problem keep the running config and say why."""
    try:
        config = await asyncio.to_thread(load_coach_config, path)
        services.replace_config(config)
    except CoachConfigError as exc:
        # File names and key paths only: coach files hold no client data.
        log.error("config_reload_failed", problems=format_problems(exc.problems).splitlines())
        return False
    except (ComposeError, TemplateError) as exc:
        log.error("config_reload_failed", problems=[f"templates: {type(exc).__name__}: {exc}"])
        return False
    await schedule_all_digests(services)  # a new coach gets their digest
    log.info("config_reloaded", coaches=len(config.coaches), profiles=len(config.profiles))
    return True


@asynccontextmanager
async def reload_on_sighup(services: Services, path: Path) -> AsyncIterator[None]:
    """While the block runs, SIGHUP reloads the coach files (`systemctl reload coachd`)."""
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[bool]] = set()

    def reload() -> None:
        task = loop.create_task(reload_config(services, path))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    loop.add_signal_handler(signal.SIGHUP, reload)
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
