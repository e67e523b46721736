"""A client's data on request: export shows all of it; erasure leaves no trace of it anywhere."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import redis as redis_sync
from redis.asyncio import Redis

from daemon.cli import main
from daemon.commands import EXIT_OK
from daemon.inbound.intake import ReplyIntake
from daemon.inbound.message import InboundMessage
from daemon.store import keys
from daemon.store.privacy import ERASED_REASON, erase_event, export_client
from tests.helpers.events import changed
from tests.helpers.firm import START
from tests.helpers.loop import Loop

pytestmark = pytest.mark.integration

REMINDER_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # Tuesday 09:00 Madrid
REPLIES_AT = REMINDER_AT + timedelta(hours=2)
OVERDUE_AT = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)  # Friday 09:00 Madrid

ANA = "cl-ana7"
ANA_NAME = "Ana Ruiz"
ANA_EMAIL = "ana.ruiz@example.org"
ANA_GRANT, ANA_WALK = "ana7-grant", "ana7-walk"
BEN = "cl-ben3"
BEN_EMAIL = "ben.okafor@example.net"
BEN_BOOK = "ben3-book"


def created(event_id: str, commitment_id: str, client: str, due: str) -> dict[str, Any]:
    name, email = (ANA_NAME, ANA_EMAIL) if client == ANA else ("Ben Okafor", BEN_EMAIL)
    return {
        "version": 1,
        "event_id": event_id,
        "occurred_at": START.isoformat(),
        "type": "commitment.created",
        "commitment_id": commitment_id,
        "coach_id": "maria",
        "client": {"client_id": client, "name": name, "email": email, "timezone": "Europe/Madrid"},
        "action": "draft the first page",
        "due_date": due,
    }


def reply(event_id: str, commitment_id: str, intent: str, text: str) -> dict[str, Any]:
    return changed(
        "reply.received",
        event_id,
        REPLIES_AT,
        commitment_id,
        kind="reply",
        intent=intent,
        text=text,
        source="smtp",
    )


async def two_clients_with_history(loop: Loop) -> None:
    """Ana: two commitments, a reminder, a note, a blocked reply (a notice waits), dead
    letters about her; Ben: one commitment, a reminder, a note, a dead letter of his own."""
    await loop.emit(
        created("e1", ANA_GRANT, ANA, "2026-12-03"),
        created("e2", ANA_WALK, ANA, "2026-12-10"),
        created("e3", BEN_BOOK, BEN, "2026-12-03"),
    )
    await loop.consume()
    await loop.advance(REMINDER_AT)
    await loop.emit(
        reply("e4", ANA_GRANT, "note", f"Half done. {ANA_NAME}, {ANA_EMAIL}"),
        reply("e5", ANA_WALK, "blocked", "I'm stuck, no time at all."),
        reply("e6", BEN_BOOK, "note", "Going well."),
        created("e7", ANA_GRANT, ANA, "2026-12-05"),  # exists already: a dead letter about Ana
        b'{"type": "commitment.updated", "commitment_id": "ana7-grant", "due_date": "soon"}',
        b'{"type": "commitment.updated", "commitment_id": "ben3-book", "due_date": "soon"}',
    )
    await loop.consume()


async def every_stored_text(redis: Redis) -> list[str]:
    """Every key name and every value of every key, whatever its type, as text."""
    texts: list[str] = []
    async for raw_key in redis.scan_iter(count=1000):
        key = raw_key.decode()
        kind = (await redis.type(key)).decode()
        values: list[bytes] = []
        if kind == "string":
            values = [await redis.get(key) or b""]
        elif kind == "hash":
            pairs = await redis.hgetall(key)  # type: ignore[misc]
            values = [*pairs.keys(), *pairs.values()]
        elif kind == "list":
            values = await redis.lrange(key, 0, -1)  # type: ignore[misc]
        elif kind == "set":
            values = list(await redis.smembers(key))  # type: ignore[misc]
        elif kind == "zset":
            values = await redis.zrange(key, 0, -1)
        elif kind == "stream":
            for _, fields in await redis.xrange(key):
                values += [*fields.keys(), *fields.values()]
        else:
            raise AssertionError(f"unexpected key type {kind} for {key}")
        texts += [key, *(v.decode(errors="replace") for v in values)]
    return texts


async def traces_of_ana(redis: Redis, threads: list[str]) -> list[str]:
    needles = [ANA, ANA_GRANT, ANA_WALK, ANA_EMAIL, ANA_NAME, *threads]
    return [
        text
        for text in await every_stored_text(redis)
        if any(n.casefold() in text.casefold() for n in needles)
    ]


async def erase_ana(loop: Loop) -> None:
    await loop.emit(erase_event(ANA, REPLIES_AT).model_dump_json().encode())
    await loop.consume()


async def test_export_shows_the_client_their_commitments_history_steps_and_digest(
    loop: Loop,
) -> None:
    await two_clients_with_history(loop)

    exported = await export_client(loop.redis, ANA)

    assert (exported["client"]["name"], exported["client"]["email"]) == (ANA_NAME, ANA_EMAIL)
    grant, walk = exported["commitments"]
    assert (grant["commitment_id"], walk["commitment_id"]) == (ANA_GRANT, ANA_WALK)
    assert grant["record"]["client_id"] == ANA
    assert [h["text"] for h in grant["history"]] == [f"Half done. {ANA_NAME}, {ANA_EMAIL}"]
    assert grant["scheduled"][0]["job_id"].startswith(f"{ANA_GRANT}:")
    # Moments are stored as epoch microseconds; the export shows them as ISO text.
    next_at = datetime.fromisoformat(grant["record"]["next_at"])
    assert next_at == datetime.fromisoformat(grant["scheduled"][0]["fire_at"])
    assert list(grant["sent"].values()) == ["sent"]  # the reminder's ledger entry
    assert walk["notices"][0]["text"] == "I'm stuck, no time at all."
    assert {e["commitment_id"] for e in exported["digest_entries"]} == {ANA_GRANT, ANA_WALK}
    dead = [e for e in exported["stream_entries"] if e["stream"] == keys.DEAD_LETTER_STREAM]
    assert len(dead) == 2  # the duplicate creation and the bad update; not Ben's
    assert keys.client(ANA) in exported["keys_read"]
    assert keys.history(ANA_GRANT) in exported["keys_read"]


async def test_erasure_through_the_inbox_leaves_no_trace_and_ben_carries_on(loop: Loop) -> None:
    await two_clients_with_history(loop)
    threads = [(await loop.commitment(c))["thread"] for c in (ANA_GRANT, ANA_WALK)]
    assert await traces_of_ana(loop.redis, threads)  # the check does see Ana before

    await erase_ana(loop)

    assert await traces_of_ana(loop.redis, threads) == []
    ben = await export_client(loop.redis, BEN)
    assert ben["client"]["email"] == BEN_EMAIL
    assert [h["text"] for h in ben["commitments"][0]["history"]] == ["Going well."]
    assert ben["commitments"][0]["scheduled"]
    assert [e["commitment_id"] for e in ben["digest_entries"]] == [BEN_BOOK]
    assert len(await loop.dead_letters()) == 1  # Ben's bad update stays for inspection
    sent_before = len(loop.messages)
    await loop.advance(OVERDUE_AT)
    sent_after = [m.rcpt_tos for m in loop.messages[sent_before:]]
    assert [BEN_EMAIL] in sent_after  # Ben's overdue prompt went out
    assert all(r == [BEN_EMAIL] for r in sent_after)  # nothing for Ana, no notice about her


async def test_a_failed_email_is_exported_and_erased_with_the_client(loop: Loop) -> None:
    """`coachd failed` lists steps by commitment id: the list is part of the client's data."""
    await loop.emit(
        created("e1", ANA_GRANT, ANA, "2026-12-03"), created("e3", BEN_BOOK, BEN, "2026-12-03")
    )
    await loop.consume()
    loop.smtp.refuse_recipient(ANA_EMAIL, code=550)
    loop.smtp.refuse_recipient(BEN_EMAIL, code=550)
    await loop.advance(REMINDER_AT)

    [grant] = (await export_client(loop.redis, ANA))["commitments"]
    [(step_id, failed)] = grant["failed"].items()
    assert (step_id, failed["outcome"], failed["code"]) == (
        f"{ANA_GRANT}:1:reminder-2d",
        "failed",
        550,
    )
    threads = [(await loop.commitment(ANA_GRANT))["thread"]]
    await erase_ana(loop)

    assert await traces_of_ana(loop.redis, threads) == []
    assert await loop.redis.zrange(keys.FAILED_STEPS, 0, -1) == [
        f"{BEN_BOOK}:1:reminder-2d".encode()
    ]
    assert await loop.redis.hkeys(keys.FAILED_STEP_INFO) == [f"{BEN_BOOK}:1:reminder-2d".encode()]


async def test_a_late_reply_or_creation_is_refused_without_keeping_its_data(loop: Loop) -> None:
    await two_clients_with_history(loop)
    threads = [(await loop.commitment(c))["thread"] for c in (ANA_GRANT, ANA_WALK)]
    await erase_ana(loop)
    letters_before = len(await loop.dead_letters())

    await loop.emit(
        reply("e8", ANA_GRANT, "done", f"Done! {ANA_NAME}"),
        created("e9", "ana7-new", ANA, "2026-12-20"),
    )
    await loop.consume()

    late = (await loop.dead_letters())[letters_before:]
    assert [(d["reason"], d["event"]) for d in late] == [(ERASED_REASON, "")] * 2
    assert await traces_of_ana(loop.redis, [*threads, "ana7-new"]) == []


async def test_an_email_reply_after_erasure_finds_nothing_and_keeps_no_body(loop: Loop) -> None:
    await two_clients_with_history(loop)
    reminder = next(m.message for m in loop.messages if m.rcpt_tos == [ANA_EMAIL])
    threads = [(await loop.commitment(c))["thread"] for c in (ANA_GRANT, ANA_WALK)]
    await erase_ana(loop)
    answer = EmailMessage()
    answer["From"] = f"{ANA_NAME} <{ANA_EMAIL}>"
    answer["To"] = str(reminder["Reply-To"])
    answer["Subject"] = f"Re: {reminder['Subject']}"
    answer["Message-ID"] = "<late-1@mail.example.org>"
    answer["In-Reply-To"] = str(reminder["Message-ID"])
    answer.set_content(f"Done! {ANA_NAME}")

    intake = ReplyIntake(loop.redis, loop.services.signing_key, "reply.northstar.example")
    await intake(InboundMessage(answer.as_bytes(), (str(reminder["Reply-To"]),), "smtp"))
    await loop.consume()

    assert (await loop.dead_letters())[-1]["reason"].startswith("reply rejected:")
    assert await traces_of_ana(loop.redis, threads) == []


async def test_erasing_twice_changes_nothing_more(loop: Loop) -> None:
    await two_clients_with_history(loop)
    await erase_ana(loop)
    before = Counter(await every_stored_text(loop.redis))

    again = erase_event(ANA, REPLIES_AT + timedelta(minutes=1))
    await loop.emit(again.model_dump_json().encode())
    await loop.consume()

    after = Counter(await every_stored_text(loop.redis))
    assert before - after == Counter()
    assert after - before == Counter([keys.event_seen(again.event_id), "1"])  # applied, once


def test_the_commands_export_erase_now_and_publish_the_erase_event(
    redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("COACHD_REDIS_URL", redis_url)
    monkeypatch.setenv("COACHD_SIGNING_KEY", "k" * 40)
    monkeypatch.setenv("COACHD_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    client = redis_sync.Redis.from_url(redis_url)
    client.hset(keys.client(ANA), mapping={"client_id": ANA, "name": ANA_NAME})

    assert main(["export-client", ANA, "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["client"]["name"] == ANA_NAME
    assert main(["erase-client", ANA, "--now"]) == EXIT_OK
    assert capsys.readouterr().out.startswith("erased: the client, 0 commitment(s)")
    assert not client.exists(keys.client(ANA))
    assert main(["erase-client", ANA]) == EXIT_OK
    [(_, fields)] = client.xrange(keys.INBOX_STREAM)
    event = json.loads(fields[b"event"])
    assert (event["type"], event["client_id"]) == ("client.erased", ANA)
    client.close()


def test_the_commands_refuse_what_is_not_a_client_id(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["erase-client", "ana*"])
    assert "'ana*' is not a client id" in capsys.readouterr().err
