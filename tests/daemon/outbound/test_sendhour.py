"""The learned send hour on the real loop, real Redis and SMTP: with `learn_send_hour` an
overdue prompt goes at the hour the client answers at, within the window; the hours are
counted as the emails go and are answered, exported and erased with the client."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from daemon.store import keys
from daemon.store.privacy import erase_now, export_client
from jobs.choosing import Counts, sampled_hour
from jobs.planner import open_hours
from tests.helpers.events import changed, created
from tests.helpers.firm import SIGNING_KEY, firm_file
from tests.helpers.loop import Loop

pytestmark = pytest.mark.integration

MADRID = ZoneInfo("Europe/Madrid")
REMINDERS_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # Tuesday 09:00 Madrid: both reminders
WINDOW_OPENS = datetime(2026, 12, 4, 7, 0, tzinfo=UTC)  # Friday 08:00 Madrid: overdue-1d's day
USUAL_AT = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)  # 09:00 Madrid, the built-in send_at
ANSWERED_HOUR = 17
LEARNING_HOURS = """
[profiles.hours]
learn_send_hour = true
"""


@pytest.fixture
def firm_config(tmp_path: Path) -> Path:
    """The test firm with a profile that learns the send hour."""
    return firm_file(tmp_path, LEARNING_HOURS)


async def hour_counts(loop: Loop, key: str) -> dict[str, int]:
    raw = await loop.redis.hgetall(key)  # type: ignore[misc]
    return {k.decode(): int(v) for k, v in raw.items()}


async def answered_at_five_before(loop: Loop, *client_ids: str) -> None:
    """Eight prompts at each hour of the window, only those at 17:00 answered."""
    async with loop.redis.pipeline(transaction=False) as pipe:
        for client_id in client_ids:
            for hour in range(8, 20):
                pipe.hset(keys.hour_counts(client_id), f"s:{hour}", 8)
                pipe.hset(keys.hour_counts(client_id), f"a:{hour}", 8 * (hour == ANSWERED_HOUR))
        await pipe.execute()


def local_date(loop: Loop, index: int) -> datetime:
    return parsedate_to_datetime(str(loop.messages[index].message["Date"])).astimezone(MADRID)


def reply(event_id: str, at: datetime, **fields: Any) -> dict[str, Any]:
    return changed("reply.received", event_id, at, kind="reply", source="smtp", **fields)


async def test_the_prompt_goes_at_the_hour_the_client_answers_and_the_hour_is_counted(
    loop: Loop,
) -> None:
    """Ana (hours learned) and Ben (the built-in profile) answered only at 17:00 before: Ana's
    first overdue prompt waits from the window's start until the hour drawn for her, Ben's
    goes at 09:00 as always."""
    await answered_at_five_before(loop, "ana", "ben")
    ben = created("e2", "b1", client_id="ben", email="ben@example.org")
    await loop.emit(created(profile="hours"), ben)
    await loop.consume()
    await loop.advance(REMINDERS_AT)
    await loop.advance(WINDOW_OPENS)
    await loop.advance(USUAL_AT)

    assert [m.rcpt_tos for m in loop.messages[2:]] == [["ben@example.org"]]
    mine = Counts.from_hash(
        {k: str(v) for k, v in (await hour_counts(loop, keys.hour_counts("ana"))).items()}
    )
    hours = open_hours(loop.services.config.profile("hours"), WINDOW_OPENS, MADRID)
    expected = sampled_hour(hours, mine, Counts({}, {}), "ana:2026-12-04")
    assert expected in (16, 17, 18)  # the hour she answers at, or one next to it
    assert expected is not None
    waiting = datetime.fromtimestamp(int((await loop.commitment())["next_at"]) / 1e6, UTC)
    assert waiting == hours[expected].astimezone(UTC)

    await loop.advance(waiting)
    assert [m.rcpt_tos for m in loop.messages[3:]] == [["ana@example.org"]]
    assert local_date(loop, 3).hour == expected
    assert (await hour_counts(loop, keys.hour_counts("ana")))[f"s:{expected}"] == 9
    assert (await hour_counts(loop, keys.FIRM_HOUR_COUNTS)) == {f"s:{expected}": 1, "s:9": 1}

    await loop.emit(reply("r1", waiting + timedelta(hours=1), intent="note", text="Working on it."))
    await loop.consume()
    assert (await hour_counts(loop, keys.hour_counts("ana")))[f"a:{expected}"] == 8 * (
        expected == ANSWERED_HOUR
    ) + 1


async def test_a_clients_hour_counts_are_exported_and_erased_with_them(loop: Loop) -> None:
    await answered_at_five_before(loop, "ana")
    await loop.emit(created(profile="hours"))
    await loop.consume()

    exported = await export_client(loop.redis, "ana")
    assert exported["hour_counts"][f"a:{ANSWERED_HOUR}"] == "8"
    assert keys.hour_counts("ana") in exported["keys_read"]
    await erase_now(loop.redis, "ana", SIGNING_KEY)
    assert not await loop.redis.exists(keys.hour_counts("ana"))
    assert json.dumps(exported)  # plain data
