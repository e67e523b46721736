"""The learning loop's records, written by the real loop on real Redis and SMTP: each email
sent, the first reply to it, and the completion (daemon.store.learning)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from daemon.store import keys
from daemon.store.privacy import erase_now, export_client
from jobs.questions import DEFAULT_BANK
from tests.helpers.events import changed, created
from tests.helpers.firm import SIGNING_KEY, firm_file
from tests.helpers.loop import Loop

pytestmark = pytest.mark.integration

REMINDER_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # Tuesday 09:00 Madrid
OVERDUE_1_AT = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)  # Friday 09:00 Madrid


def reply(event_id: str, at: datetime, **fields: Any) -> dict[str, Any]:
    return changed("reply.received", event_id, at, kind="reply", source="smtp", **fields)


async def records(loop: Loop, client_id: str = "ana") -> list[dict[str, Any]]:
    """Oldest first (the list is newest first)."""
    raw = await loop.redis.lrange(keys.learning(client_id), 0, -1)
    return [json.loads(r) for r in reversed(raw)]


async def counts(loop: Loop, key: str) -> dict[str, int]:
    raw = await loop.redis.hgetall(key)  # type: ignore[misc]
    return {k.decode(): int(v) for k, v in raw.items()}


async def test_each_email_is_recorded_with_its_questions_hour_weekday_and_template(
    loop: Loop,
) -> None:
    await loop.emit(created())
    await loop.consume()
    await loop.advance(REMINDER_AT)
    await loop.advance(OVERDUE_1_AT)

    reminder, overdue = await records(loop)
    assert (reminder["t"], reminder["id"], reminder["co"], reminder["q"]) == (
        "s",
        "c1:0",
        "maria",
        [],
    )
    assert (reminder["h"], reminder["w"], reminder["k"], reminder["st"]) == (
        9,
        1,
        "reminder",
        "reminder-2d",
    )
    assert (overdue["id"], overdue["h"], overdue["w"], overdue["k"]) == ("c1:1", 9, 4, "overdue")
    assert overdue["at"] == int(OVERDUE_1_AT.timestamp())
    [[question_id, reason, depth]] = overdue["q"]
    # The first email about an overdue action is light: depth 1, and its reason comes along.
    assert (depth, reason in {"partnering", "why", "resources", "self_trust", "story"}) == (1, True)
    assert await counts(loop, keys.question_counts("ana")) == {f"s:{question_id}": 1}
    assert await counts(loop, keys.FIRM_QUESTION_COUNTS) == {f"s:{question_id}": 1}


async def test_the_first_reply_answers_the_last_email_and_completion_is_marked(loop: Loop) -> None:
    await loop.emit(created())
    await loop.consume()
    await loop.advance(REMINDER_AT)
    await loop.advance(OVERDUE_1_AT)
    await loop.emit(reply("r1", OVERDUE_1_AT + timedelta(hours=5), intent="note", text="Hmm."))
    await loop.emit(reply("r2", OVERDUE_1_AT + timedelta(hours=7), intent="done", text="Done!"))
    await loop.consume()

    kinds = [
        (r["t"], r.get("id", r.get("c")), r.get("i"), r.get("hr")) for r in await records(loop)
    ]
    # The note answers the overdue email after 5 hours; "done" answers nothing more (the email
    # was answered already) but completes the commitment.
    assert kinds == [
        ("s", "c1:0", None, None),
        ("s", "c1:1", None, None),
        ("a", "c1:1", "note", 5.0),
        ("d", "c1", None, None),
    ]
    [question_id] = [q for q, _, _ in (await records(loop))[1]["q"]]
    assert await counts(loop, keys.question_counts("ana")) == {
        f"s:{question_id}": 1,
        f"a:{question_id}": 1,
    }
    assert "last_email" not in await loop.redis.hgetall(keys.client("ana"))  # type: ignore[misc]


async def test_an_auto_reply_answers_nothing_and_a_completion_event_is_marked(loop: Loop) -> None:
    await loop.emit(created())
    await loop.consume()
    await loop.advance(OVERDUE_1_AT)
    await loop.emit(changed("reply.received", "r1", OVERDUE_1_AT, kind="auto_reply", source="smtp",
                            text="I am out of the office."))  # fmt: skip
    await loop.emit(changed("commitment.completed", "e2", OVERDUE_1_AT + timedelta(days=1)))
    await loop.consume()

    assert [r["t"] for r in await records(loop)] == ["s", "d"]
    done = (await records(loop))[-1]
    assert done["at"] == int((OVERDUE_1_AT + timedelta(days=1)).timestamp())


async def test_a_clients_records_are_capped_and_cost_few_bytes(loop: Loop) -> None:
    """LEARNING_KEEP bounds a client's list whatever they are sent; the bytes are measured."""
    await loop.emit(created())
    await loop.consume()
    await loop.advance(REMINDER_AT)
    await loop.advance(OVERDUE_1_AT)
    key = keys.learning("ana")
    sample = await loop.redis.lindex(key, 0)
    assert sample is not None
    async with loop.redis.pipeline(transaction=False) as pipe:
        for _ in range(keys.LEARNING_KEEP + 50):
            pipe.lpush(key, sample)
            pipe.ltrim(key, 0, keys.LEARNING_KEEP - 1)
        await pipe.execute()
    assert await loop.redis.llen(key) == keys.LEARNING_KEEP
    per_record = await loop.redis.memory_usage(key) / keys.LEARNING_KEEP  # type: ignore[operator]
    assert 100 < len(sample) < 160 and per_record < 160  # README: ~142 bytes a record


async def test_a_clients_learning_records_are_exported_and_erased_with_them(loop: Loop) -> None:
    await loop.emit(created())
    await loop.consume()
    await loop.advance(OVERDUE_1_AT)
    exported = await export_client(loop.redis, "ana")
    assert [r["id"] for r in exported["learning"]] == ["c1:0"]
    assert list(exported["question_counts"].values()) == ["1"]

    await erase_now(loop.redis, "ana", SIGNING_KEY)
    assert not await loop.redis.exists(keys.learning("ana"), keys.question_counts("ana"))
    # The firm's counters name no one: they stay.
    assert await loop.redis.exists(keys.FIRM_QUESTION_COUNTS)


LEARNING_PROFILE = """
[profiles.learning]
learn_questions = true
"""


@pytest.fixture
def firm_config(tmp_path: Path) -> Path:
    """The test firm with a profile that has the learning loop on."""
    return firm_file(tmp_path, LEARNING_PROFILE)


async def test_with_learn_questions_the_question_the_client_answers_is_asked(loop: Loop) -> None:
    """Ana and Ben answered "resources-easier" every time and the other questions never: Ana's first
    overdue prompt (after a reminder) asks it; Ben's profile has no learning, his does not."""
    favoured = "resources-easier"
    async with loop.redis.pipeline(transaction=False) as pipe:
        for client_id in ("ana", "ben"):
            for question in DEFAULT_BANK.questions:
                answered = 8 if question.id == favoured else 0
                pipe.hset(keys.question_counts(client_id), f"s:{question.id}", 8)
                pipe.hset(keys.question_counts(client_id), f"a:{question.id}", answered)
        await pipe.execute()
    ben = created("e2", "b1", client_id="ben", email="ben@example.org")
    await loop.emit(created(profile="learning"), ben)
    await loop.consume()
    await loop.advance(REMINDER_AT)
    await loop.advance(OVERDUE_1_AT)

    [ana_asked] = [r["q"] for r in await records(loop) if r["q"]]
    [ben_asked] = [r["q"] for r in await records(loop, "ben") if r["q"]]
    assert (ana_asked[0][0], ben_asked[0][0] != favoured) == (favoured, True)


async def test_a_stop_is_recorded_but_teaches_no_question_to_be_asked(loop: Loop) -> None:
    await loop.emit(created())
    await loop.consume()
    await loop.advance(OVERDUE_1_AT)
    await loop.emit(reply("r1", OVERDUE_1_AT + timedelta(hours=1), intent="stop", text="Stop."))
    await loop.consume()

    assert [(r["t"], r.get("i")) for r in await records(loop)] == [("s", None), ("a", "stop")]
    assert [k for k in await counts(loop, keys.question_counts("ana")) if k.startswith("a:")] == []
