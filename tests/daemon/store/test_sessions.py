"""When a session's brief is scheduled: the coach's hours, short notice, past sessions, off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from daemon.config.load import load_coach_config
from daemon.config.models import CoachConfig
from daemon.store import keys
from daemon.store.privacy import export_client
from daemon.store.sessions import brief_at
from jobs.events import EventRejected
from jobs.sessionevents import SessionScheduled
from tests.helpers.firm import FIRM_TOML
from tests.helpers.loop import Loop

BOOKED = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
STARTS = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)  # 11:00 in Madrid


def config(tmp_path: Path, extra: str = "") -> CoachConfig:
    path = tmp_path / "firm.toml"
    path.write_text(
        FIRM_TOML.replace('timezone = "Europe/Madrid"\n', f'timezone = "Europe/Madrid"\n{extra}', 1)
    )
    return load_coach_config(path)


def session(
    starts_at: datetime = STARTS, at: datetime = BOOKED, coach: str = "maria"
) -> SessionScheduled:
    return SessionScheduled(
        version=1,
        event_id="e1",
        occurred_at=at,
        type="session.scheduled",
        session_id="s1",
        client_id="ana",
        coach_id=coach,
        starts_at=starts_at,
    )


def test_the_coachs_hours_before_setting_is_used(tmp_path: Path) -> None:
    assert brief_at(session(), config(tmp_path)) == STARTS - timedelta(hours=2)
    assert brief_at(session(), config(tmp_path, "brief_hours_before = 3\n")) == STARTS - timedelta(
        hours=3
    )


def test_a_session_booked_at_short_notice_is_briefed_at_once(tmp_path: Path) -> None:
    booked = STARTS - timedelta(minutes=30)

    assert brief_at(session(at=booked), config(tmp_path)) == booked


def test_a_session_that_has_begun_gets_no_brief(tmp_path: Path) -> None:
    assert brief_at(session(at=STARTS + timedelta(minutes=1)), config(tmp_path)) is None


def test_brief_false_turns_briefs_off(tmp_path: Path) -> None:
    assert brief_at(session(), config(tmp_path, "brief = false\n")) is None


def test_an_unknown_coach_is_refused_with_the_configs_words(tmp_path: Path) -> None:
    with pytest.raises(EventRejected, match="no coach named 'nobody' in the coach config"):
        brief_at(session(coach="nobody"), config(tmp_path))


def test_the_hours_before_are_bounded(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="brief_hours_before"):
        config(tmp_path, "brief_hours_before = 73\n")


def event_json(event: SessionScheduled) -> dict[str, object]:
    return event.model_dump(mode="json")


@pytest.mark.integration
async def test_an_older_move_arriving_late_is_dead_lettered_as_stale(loop: Loop) -> None:
    newer = session(STARTS, at=BOOKED + timedelta(hours=1))
    older = session(STARTS + timedelta(days=1), at=BOOKED).model_copy(update={"event_id": "e0"})
    await loop.emit(event_json(newer), event_json(older))
    await loop.consume()

    [letter] = await loop.dead_letters()
    assert letter["reason"] == (
        "stale event for session s1: occurred_at 2026-11-30T07:00:00+00:00 is older than its"
        " last change at 2026-11-30T08:00:00+00:00"
    )
    stored = await loop.redis.hget(keys.session("s1"), "starts_at")  # type: ignore[misc]
    assert stored == STARTS.isoformat().encode()


@pytest.mark.integration
async def test_export_client_lists_their_sessions(loop: Loop) -> None:
    await loop.emit(event_json(session()))
    await loop.consume()

    exported = await export_client(loop.redis, "ana")

    assert exported["sessions"] == [
        {
            "session_id": "s1",
            "client_id": "ana",
            "coach_id": "maria",
            "starts_at": "2026-12-04T10:00:00+00:00",
        }
    ]
