"""The coach's pre-session brief: composed at its moment from fresh state, sent once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from daemon.outbound.coachmail import send_to_coach
from daemon.outbound.firing import Services
from daemon.store import keys
from daemon.store.briefdata import read_brief_inputs
from daemon.store.sessions import brief_due, read_session
from jobs.brief import compose_brief, reader_context
from jobs.step import StepKind

log = structlog.get_logger(__name__)


async def send_brief(ctx: dict[str, Any], session_id: str, starts_at: str) -> str:
    """Brief the coach on the session's client; a moved or cancelled session's job skips."""
    services: Services = ctx["services"]
    redis = services.store.redis
    session = await read_session(redis, session_id)
    if session is None or session.starts_at != datetime.fromisoformat(starts_at):
        # Cancelled, or moved (the move scheduled its own job): this one is stale.
        log.info("brief_skipped", session_id=session_id, reason="moved_or_cancelled")
        return "skipped"
    found = await read_brief_inputs(
        redis, services.config, session.client_id, services.clock.now(), session.starts_at
    )
    if found is None or session.coach_id not in services.config.coaches:
        log.info("brief_skipped", session_id=session_id, reason="client_or_coach_unknown")
        return "skipped"
    inputs, _ = found
    coach = services.config.coach(session.coach_id)
    context = reader_context(services.config.firm.name, coach.name) | compose_brief(inputs)
    stamp = int(session.starts_at.timestamp())
    return await send_to_coach(
        ctx,
        StepKind.BRIEF,
        (session.coach_id, None),
        context,
        # Keyed by the start too: a session moved after its brief went gets a new one.
        ledger_key=keys.sent("brief", f"{session_id}:{stamp}"),
        message_key=f"brief.{session_id}.{stamp}",
        due=brief_due(session.starts_at, session.coach_id, services.config),
    )
