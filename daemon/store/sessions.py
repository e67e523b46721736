"""Coaching sessions in Redis: booking, moving or cancelling one (re)schedules its brief."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from daemon.config.load import CoachConfig, ConfigLookupError
from daemon.store import keys
from daemon.store.redisio import read_hash
from daemon.store.schedule import SEND_BRIEF, StepQueue, brief_job_id, drop_job
from jobs.briefmoment import brief_moment
from jobs.commitment import reject_stale
from jobs.events import EventRejected
from jobs.sessionevents import SessionCancelled, SessionEvent, SessionScheduled


@dataclass(frozen=True, slots=True)
class Session:
    session_id: str
    client_id: str
    coach_id: str
    starts_at: datetime
    changed_at: datetime | None = None  # the occurred_at of the event that set it

    @classmethod
    def from_record(cls, session_id: str, record: dict[str, str]) -> Session:
        changed = record.get("changed_at")
        return cls(
            session_id,
            record["client_id"],
            record["coach_id"],
            datetime.fromisoformat(record["starts_at"]),
            datetime.fromisoformat(changed) if changed else None,
        )

    def to_json(self) -> dict[str, str]:
        return {
            "session_id": self.session_id,
            "client_id": self.client_id,
            "coach_id": self.coach_id,
            "starts_at": self.starts_at.isoformat(),
        }


async def read_session(conn: Redis | Pipeline, session_id: str) -> Session | None:
    raw = await read_hash(conn, keys.session(session_id))
    return Session.from_record(session_id, raw) if raw else None


async def previous_session_start(redis: Redis, client_id: str, before: datetime) -> datetime | None:
    """When the client's last session before `before` started (None: this is their first)."""
    found = await cast(
        Awaitable[list[tuple[bytes, float]]],
        redis.zrevrangebyscore(
            keys.client_sessions(client_id),
            f"({before.timestamp()}",
            "-inf",
            start=0,
            num=1,
            withscores=True,
        ),
    )
    return datetime.fromtimestamp(found[0][1], UTC) if found else None


async def client_sessions(redis: Redis, client_id: str) -> list[Session]:
    """The client's sessions kept (the newest keys.SESSIONS_KEPT), earliest first."""
    ids = await cast(Awaitable[list[bytes]], redis.zrange(keys.client_sessions(client_id), 0, -1))
    found = [await read_session(redis, i.decode()) for i in ids]
    return [s for s in found if s is not None]


async def apply_session_event(
    pipe: Pipeline, event: SessionEvent, config: CoachConfig, queue: StepQueue
) -> None:
    """Inside apply_event's WATCH: record the session and (re)schedule, or drop, its brief."""
    key = keys.session(event.session_id)
    await pipe.watch(key)
    earlier = await read_session(pipe, event.session_id)
    if earlier is not None:
        reject_stale(event.occurred_at, earlier.changed_at, f"session {event.session_id}")
    if isinstance(event, SessionCancelled):
        if earlier is None:
            raise EventRejected(f"session {event.session_id} is not scheduled")
        pipe.multi()  # type: ignore[no-untyped-call]
        _forget(pipe, earlier)
        return
    due = brief_at(event, config)
    pipe.multi()  # type: ignore[no-untyped-call]
    if earlier is not None:
        _forget(pipe, earlier)  # a moved session: its old brief goes, the new one comes
    starts = event.starts_at.astimezone(UTC)
    pipe.hset(
        key,
        mapping={
            "client_id": event.client_id,
            "coach_id": event.coach_id,
            "starts_at": starts.isoformat(),
            "changed_at": event.occurred_at.isoformat(),
        },
    )
    sessions = keys.client_sessions(event.client_id)
    pipe.zadd(sessions, {event.session_id: starts.timestamp()})
    pipe.zremrangebyrank(sessions, 0, -keys.SESSIONS_KEPT - 1)
    if due is not None:
        args = (event.session_id, starts.isoformat())
        queue.add_job(pipe, SEND_BRIEF, brief_job_id(event.session_id), args, due)


def brief_at(event: SessionScheduled, config: CoachConfig) -> datetime | None:
    """When the session's brief is due; None when the coach takes none or it is too late."""
    try:
        coach = config.coach(event.coach_id)
        at = brief_due(event.starts_at, event.coach_id, config)
    except ConfigLookupError as exc:
        raise EventRejected(str(exc)) from None
    if not coach.brief or event.starts_at <= event.occurred_at:
        return None  # a session recorded after it began still counts as "the last session"
    # Booked at short notice: the brief goes at once (its moment has passed, the session not).
    return max(at, event.occurred_at.astimezone(UTC))


def brief_due(starts_at: datetime, coach_id: str, config: CoachConfig) -> datetime:
    """The brief's moment by the coach's settings (jobs.briefmoment); ConfigLookupError."""
    coach = config.coach(coach_id)
    window = config.profile(coach.profile).send_window
    return brief_moment(starts_at, coach.brief_hours_before, window, coach.digest_at, coach.zone)


def _forget(pipe: Pipeline, session: Session) -> None:
    pipe.delete(keys.session(session.session_id))
    pipe.zrem(keys.client_sessions(session.client_id), session.session_id)
    drop_job(pipe, brief_job_id(session.session_id))
