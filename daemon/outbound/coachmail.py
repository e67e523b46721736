"""Emails to coaches: an immediate notice (blocked, stop, bounce) and the daily digest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import structlog
from redis.asyncio import Redis

from daemon.config.models import Coach
from daemon.outbound.delivery import DURABLE_SHARE, MAX_SEND_TRIES, retry_delay_s
from daemon.outbound.digestinsights import weekly_lines
from daemon.outbound.firing import Services
from daemon.outbound.ledger import LedgerEntry, Outcome
from daemon.outbound.sendonce import Attempted, JobTry, claim_once, send_claimed, settle_abandoned
from daemon.outbound.stepmail import (
    client_contact,
    coach_reply_to,
    email_date,
    format_due_date,
)
from daemon.outbound.tally import STOPPED_ANSWERING, Report, Tally
from daemon.store import keys
from daemon.store.records import read_commitments
from daemon.store.redisio import read_hash
from daemon.store.schedule import SEND_DIGEST, StepQueue
from jobs.composer import Envelope
from jobs.state import Commitment, Status
from jobs.step import StepKind

log = structlog.get_logger(__name__)


async def send_coach_notice(ctx: dict[str, Any], notice_id: str) -> str:
    """Tell the coach at once that a client is blocked, asked to stop, or cannot be reached."""
    services: Services = ctx["services"]
    redis = services.store.redis
    notice = await read_hash(redis, keys.notice(notice_id))
    loaded = await services.store.load(notice.get("commitment_id", "")) if notice else None
    if loaded is None:
        log.info("notice_skipped", notice_id=notice_id, reason="gone",
                 commitment_id=notice.get("commitment_id"))  # fmt: skip
        return "skipped"
    commitment, client = loaded
    coach = services.config.coach(commitment.coach_id)
    context = (
        base_context(services, coach, commitment)
        | client_contact(client)
        | {
            "client_name": client.name,
            "headline": notice["headline"],
            "reply_text": notice.get("text", ""),
        }
    )
    digest_id = hashlib.sha256(notice_id.encode()).hexdigest()[:16]
    outcome = await send_to_coach(
        ctx,
        StepKind.COACH_NOTICE,
        (commitment.coach_id, commitment.commitment_id),
        context,
        ledger_key=keys.sent("notice", notice_id),
        message_key=f"notice.{digest_id}",
        due=datetime.fromisoformat(notice["at"]) if "at" in notice else services.clock.now(),
        # The coach's answer goes straight to the client, unless their address bounces.
        reply_to=coach_reply_to(client),
    )
    await redis.delete(keys.notice(notice_id))
    return outcome


async def send_digest(ctx: dict[str, Any], coach_id: str, day: str) -> str:
    """The coach's daily digest; nothing to say, no email. Schedules the next one."""
    services: Services = ctx["services"]
    redis = services.store.redis
    coach = services.config.coach(coach_id)
    entries = [json.loads(e) for e in await _list(redis, keys.digest_entries(coach_id))]
    commitments = await _coach_commitments(services, coach_id)
    today = date.fromisoformat(day)
    context = base_context(services, coach, None) | digest_sections(entries, commitments, today)
    due = datetime.combine(today, coach.digest_at, tzinfo=coach.zone)
    client_ids = sorted({c.client_id for c, _ in commitments})
    context["insights"] = await weekly_lines(redis, coach_id, client_ids, today, due)
    outcome = "empty"
    if any(context[name] for name in ("replies", "overdue", "quiet", "completed", "undelivered")):
        outcome = await send_to_coach(
            ctx,
            StepKind.DIGEST,
            (coach_id, None),  # about all the coach's commitments, not one
            context,
            ledger_key=keys.sent("digest", f"{coach_id}:{day}"),
            message_key=f"digest.{coach_id}.{day}",
            due=due,
        )
    if entries:
        # Only what this digest showed: entries added meanwhile wait for the next one.
        await cast(Awaitable[str], redis.ltrim(keys.digest_entries(coach_id), len(entries), -1))
    await schedule_digest(services, coach_id, coach, after=services.clock.now())
    return outcome


def digest_sections(
    entries: list[dict[str, Any]], commitments: list[tuple[Commitment, str]], today: date
) -> dict[str, list[dict[str, Any]]]:
    """What the digest lists: replies and completions since the last one, overdue, quiet.

    `commitments` pairs each of the coach's commitments with its client's name.
    """
    overdue = [
        {
            "client_name": name,
            "action": c.action,
            "days": (today - c.due_date).days,
            "moved": c.renegotiations,
        }
        for c, name in commitments
        if c.status is Status.ACTIVE and c.due_date < today
    ]
    return {
        "replies": [e for e in entries if e["kind"] == "reply"],
        "undelivered": [e for e in entries if e["kind"] == "undelivered"],
        "completed": [e for e in entries if e["kind"] == "completed"],
        "overdue": sorted(overdue, key=lambda o: -int(o["days"])),
        "quiet": [
            {"client_name": name, "action": c.action}
            for c, name in commitments
            if c.status is Status.QUIET
        ],
    }


async def schedule_digest(
    services: Services, coach_id: str, coach: Coach, *, after: datetime
) -> None:
    """Schedule the coach's next digest (idempotent: its job id names the coach and day)."""
    if not coach.digest:
        return
    local = after.astimezone(coach.zone)
    day = local.date() if local.time() < coach.digest_at else local.date() + timedelta(days=1)
    at = datetime.combine(day, coach.digest_at, tzinfo=coach.zone)
    queue: StepQueue = services.store.queue
    async with services.store.redis.pipeline(transaction=True) as pipe:
        queue.add_job(
            pipe,
            SEND_DIGEST,
            f"digest:{coach_id}:{day}",
            (coach_id, day.isoformat()),
            at.astimezone(UTC),
        )
        await pipe.execute()


async def schedule_all_digests(services: Services) -> None:
    """At start-up: every coach has their next digest scheduled, whatever happened before."""
    now = services.clock.now()
    for coach_id, coach in services.config.coaches.items():
        await schedule_digest(services, coach_id, coach, after=now)


def base_context(services: Services, coach: Coach, commitment: Commitment | None) -> dict[str, Any]:
    context: dict[str, Any] = {"firm_name": services.config.firm.name, "coach_name": coach.name}
    if commitment is not None:
        context |= {
            "action": commitment.action,
            "why": commitment.why,
            "due_date": format_due_date(
                commitment.due_date, services.clock.now().astimezone(coach.zone).date()
            ),
        }
    return context


async def send_to_coach(
    ctx: dict[str, Any],
    kind: StepKind,
    about: tuple[str, str | None],
    context: dict[str, Any],
    *,
    ledger_key: str,
    message_key: str,
    due: datetime,
    reply_to: str | None = None,
) -> str:
    """Render and send one email to a coach, at most once (daemon.outbound.sendonce).

    `about` is the coach's id and the commitment's the email is about (None for a digest):
    every line logged while it is sent carries them."""
    services: Services = ctx["services"]
    coach_id, commitment_id = about
    ids = {"coach_id": coach_id} | ({"commitment_id": commitment_id} if commitment_id else {})
    with structlog.contextvars.bound_contextvars(job_id=ctx.get("job_id"), kind=kind.value, **ids):
        envelope = _envelope(services, coach_id, message_key, due, reply_to)
        composer = services.composer_for(coach_id)
        message = composer.compose(envelope, composer.render(kind, context))
        held = await claim_once(services.ledger, ledger_key)
        if isinstance(held, LedgerEntry):
            return await _after_earlier_attempt(services, kind, ledger_key, held, Tally(kind.value))
        claim = held.counted_as(Tally(kind.value))
        attempted = await send_claimed(
            claim,
            services.mailer,
            message,
            # Bounces of coach emails go to the firm's own address, where a person reads them:
            # coachd's reply domain takes only the bounces+<token>@ of client emails.
            (services.from_address, [envelope.to_address]),
            _job_try(ctx),
            gate=services.gate,
            metrics=services.metrics,
        )
        if not await claim.finish(attempted):
            log.error("coach_email_outcome_not_recorded", outcome=attempted.outcome.value)
        services.metrics.email(kind, attempted.outcome.value)
        _log_attempted(kind, attempted)
        return attempted.outcome.value


def _envelope(
    services: Services, coach_id: str, message_key: str, due: datetime, reply_to: str | None
) -> Envelope:
    """To the coach, its Message-ID named by `message_key`, dated when it was due."""
    coach = services.config.coach(coach_id)
    return Envelope(
        from_name=services.config.firm.name,
        from_address=services.from_address,
        to_name=coach.name,
        to_address=coach.email,
        message_id=f"<{message_key}@{services.reply_domain}>",
        date=email_date(services.clock, due, coach.zone),
        reply_to=reply_to,
    )


def _job_try(ctx: dict[str, Any]) -> JobTry:
    services: Services = ctx["services"]
    number = int(ctx.get("job_try", 1))
    return JobTry(
        number=number,
        last=number >= MAX_SEND_TRIES,
        retry_in_s=retry_delay_s(number, services.retry_base_s),
        record_within_s=services.job_timeout_s * DURABLE_SHARE,
    )


async def _after_earlier_attempt(
    services: Services, kind: StepKind, key: str, previous: LedgerEntry, tally: Tally
) -> str:
    """An earlier run settled this email, or wrote its commit mark and died unanswered."""
    if previous.outcome is not Outcome.COMMITTING:
        log.info("coach_email_already_settled", outcome=previous.outcome.value)
        return f"already_{previous.outcome.value}"
    # The dot went out and no reply was seen: the coach may have it. Not resent (a
    # duplicate notice is worse than a missed one), and not claimed as sent either.
    report = Report(tally, STOPPED_ANSWERING)
    await settle_abandoned(services.ledger, key, previous, Outcome.UNKNOWN, report)
    services.metrics.email(kind, Outcome.UNKNOWN.value)  # its own run died before counting
    log.warning("coach_email_recovered", outcome=Outcome.UNKNOWN.value)
    return f"recovered_{Outcome.UNKNOWN.value}"


def _log_attempted(kind: StepKind, attempted: Attempted) -> None:
    if attempted.outcome is Outcome.SENT:
        log.info("coach_email_sent", kind=kind.value)
        return
    log.warning(
        "coach_email_not_sent",
        kind=kind.value,
        outcome=attempted.outcome.value,
        code=attempted.code,
        reason=attempted.reason,
    )


async def _coach_commitments(services: Services, coach_id: str) -> list[tuple[Commitment, str]]:
    """The coach's commitments, each with its client's name (two pipelined round trips)."""
    redis = services.store.redis
    commitments = await read_commitments(redis, keys.coach_commitments(coach_id))
    async with redis.pipeline(transaction=False) as pipe:
        for commitment in commitments:
            pipe.hget(keys.client(commitment.client_id), "name")
        names = await pipe.execute()
    return [(c, (n or b"").decode()) for c, n in zip(commitments, names, strict=True)]


async def _list(redis: Redis, key: str) -> list[bytes]:
    return await cast(Awaitable[list[bytes]], redis.lrange(key, 0, -1))
