"""The look-ahead: a worker with nothing due composes the steps due soon
(daemon.outbound.composeahead says what is kept and when it is used).

It runs only while the dispatcher finds nothing due, one sweep at a time and at most
`MAX_PER_SWEEP` steps per sweep, so it never competes with sends that are due. It writes
nothing but kept emails: no claim, no ledger entry, no change to any commitment; a step it
cannot compose (a broken template) is left to the due-time path, which says why.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import replace
from typing import cast

import structlog
from jinja2 import TemplateError
from redis.exceptions import RedisError

from daemon.outbound.composeahead import Precomposed, fingerprint, keep
from daemon.outbound.currentstep import current_firing, due_today_too
from daemon.outbound.delivery import composed
from daemon.outbound.firing import Services
from daemon.outbound.holdback import PROMPTS
from daemon.outbound.stepmail import learned_scores, step_questions
from daemon.store import keys
from jobs.composer import ComposeError

log = structlog.get_logger(__name__)

MAX_PER_SWEEP = 200  # composed per sweep
PAGE = 500
MAX_SCANNED_PER_SWEEP = 20_000  # bounds one sweep's reads when very many steps are due soon
MS_PER_S = 1000


class LookAhead:
    """Composes ahead the steps due within `services.compose_ahead_s`."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._sweeping: asyncio.Task[int] | None = None
        # Steps looked at already, by due time (ms): a sweep pages past them, not through them.
        self._seen: dict[str, int] = {}

    def start_sweep(self) -> None:
        """Start a sweep unless one is running (the dispatcher calls this when idle)."""
        if self._services.compose_ahead_s <= 0:
            return
        if self._sweeping is None or self._sweeping.done():
            self._sweeping = asyncio.create_task(self._sweep_quietly())

    async def stop(self) -> None:
        if self._sweeping is not None:
            self._sweeping.cancel()
            await asyncio.gather(self._sweeping, return_exceptions=True)

    async def _sweep_quietly(self) -> int:
        try:
            return await self.sweep()
        except RedisError as exc:  # the dispatcher says so too; the next idle poll tries again
            log.warning("compose_ahead_redis_unavailable", error=type(exc).__name__)
            return 0

    async def sweep(self) -> int:
        """Compose and keep each step due soon that has no kept email yet; how many."""
        redis = self._services.store.redis
        now_ms = int(time.time() * MS_PER_S)
        until_ms = now_ms + int(self._services.compose_ahead_s * MS_PER_S)
        self._seen = {i: at for i, at in self._seen.items() if at >= now_ms}
        kept_now = scanned = 0
        while scanned < MAX_SCANNED_PER_SWEEP and kept_now < MAX_PER_SWEEP:
            page = await cast(
                Awaitable[list[tuple[bytes, float]]],
                redis.zrangebyscore(
                    keys.STEP_SCHEDULE, now_ms, until_ms, start=scanned, num=PAGE, withscores=True
                ),
            )
            scanned += len(page)
            members = ((m.decode(), int(at)) for m, at in page)
            fresh = [(step_id, at) for step_id, at in members if step_id not in self._seen]
            async with redis.pipeline(transaction=False) as pipe:
                for step_id, _ in fresh:
                    pipe.exists(keys.precomposed(step_id))
                kept = await pipe.execute()
            for (step_id, at_ms), already in zip(fresh, kept, strict=True):
                if kept_now >= MAX_PER_SWEEP:
                    break  # the rest waits for the next sweep
                # Looked at once: kept, or left to the due-time path (superseded, broken).
                self._seen[step_id] = at_ms
                if not already:
                    kept_now += await self._compose_logged(step_id)
            if len(page) < PAGE:
                break
        return kept_now

    async def _compose_logged(self, step_id: str) -> int:
        try:
            return await self._compose(step_id)
        except RedisError:
            raise
        except Exception:  # a bug for one step: the due-time path composes it, and says
            log.exception("compose_ahead_failed", step_id=step_id)
            return 0

    async def _compose(self, step_id: str) -> int:
        services = self._services
        commitment_id, _, version = step_id.rpartition(":")
        loaded = await services.store.load(commitment_id)
        firing = await current_firing(services, loaded, int(version), None, ahead=True)
        if isinstance(firing, str):  # superseded or gone: the due-time path skips it
            return 0
        if firing.step.kind in PROMPTS:
            firing = replace(firing, companions=await due_today_too(firing))
        questions = step_questions(firing, await learned_scores(firing))
        try:
            message, recipient = await composed(firing, questions)
        except (ComposeError, TemplateError, TimeoutError):
            return 0  # composed again when due, where the failure is recorded
        email = Precomposed(fingerprint(firing), recipient, tuple(q.id for q in questions), message)
        if not await keep(redis=services.store.redis, step_id=step_id, email=email):
            return 0
        services.metrics.emails_composed_ahead.labels("kept").inc()
        return 1
