"""Counting emails by outcome in the call that records the outcome: once each, bounded, and
with reasons a coach can read."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from daemon.outbound import tally
from daemon.outbound.delivery import fire_step
from daemon.outbound.ledger import Outcome, SendLedger
from daemon.outbound.tally import RECORD, Report, Tally, clean, plain_reason, record_call
from daemon.store import keys
from daemon.store.pipelining import AutoPipeline
from daemon.store.status import emails_on, last_errors
from tests.helpers.events import changed, created
from tests.helpers.firm import START
from tests.helpers.loop import Loop, fire_and_die_before_settling

REMINDER_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # the standard profile's, due 3 Dec
OVERDUE_1_AT = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
NOW_MS = int(START.timestamp() * 1000)
TODAY = START.date().isoformat()


def test_a_refusal_reads_as_the_servers_answer_without_addresses_or_paths() -> None:
    # smtpreply.reason has put "<address>" for the address the server echoed in <...>.
    reason = plain_reason("failed", "refused: 550", 550, "envelope refused: <<address>>: gone")
    assert reason == "the mail server refused it (550, envelope refused: <address>: gone)"


def test_giving_up_an_unknown_outcome_and_a_template_error_each_say_what_happened() -> None:
    gave_up = plain_reason("failed", "gave up after 8 tries: 451 x", 451, "data refused: busy")
    assert gave_up == (
        "the mail server kept deferring it or could not be reached; "
        "gave up (451, data refused: busy)"
    )
    unknown = plain_reason("unknown", "outcome unknown", None, "cut off after the message: EOF")
    assert unknown == (
        "no answer after the message was sent: it may have arrived, so not resent "
        "(cut off after the message: EOF)"
    )
    template = plain_reason(
        "failed", "could not compose: UndefinedError: 'x' is undefined in /srv/t/body.txt", None, ""
    )
    assert (
        template == "the email could not be written (UndefinedError): check the coach's templates"
    )
    assert plain_reason("sent", "", None, "") == ""


def test_a_reason_never_shows_a_path_a_source_position_or_a_second_line() -> None:
    raw = "connect failed: [SSL] certificate verify failed (_ssl.c:1006)\n  at /usr/lib/ssl/x.pem"
    assert clean(raw) == "connect failed: [SSL] certificate verify failed at <path>"


@pytest.mark.integration
async def test_a_sent_email_is_counted_once_even_when_its_job_runs_again(
    loop: Loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker died after recording "sent" but before moving the state on: the job runs
    again, finds the outcome, and counts nothing more."""
    await loop.emit(created())
    await loop.consume()
    loop.traveller.move_to(REMINDER_AT)
    version = int((await loop.commitment())["version"])

    await fire_and_die_before_settling(loop, monkeypatch, version, "reminder-2d")
    ctx = {"services": loop.services, "job_id": "again", "job_try": 1}
    assert await fire_step(ctx, "c1", version, "reminder-2d") == "recovered_sent"

    assert len(loop.messages) == 1
    day = REMINDER_AT.date().isoformat()
    assert await emails_on(loop.redis, day) == {"day": day, "sent": 1, "failed": 0, "unknown": 0}
    assert await last_errors(loop.redis) == []


@pytest.mark.integration
async def test_a_refused_email_is_counted_failed_with_its_reason_and_listed(loop: Loop) -> None:
    await loop.emit(created())
    await loop.consume()
    loop.smtp.refuse_recipient("ana@example.org", code=550)

    await loop.advance(REMINDER_AT)

    day = REMINDER_AT.date().isoformat()
    assert (await emails_on(loop.redis, day))["failed"] == 1
    [error] = await last_errors(loop.redis)
    assert (error["at"], error["kind"], error["outcome"]) == (
        "2026-12-01T08:00:00+00:00",
        "reminder",
        "failed",
    )
    assert error["reason"].startswith("the mail server refused it (550, envelope refused: ")
    assert "ana@example.org" not in json.dumps(error)
    assert set(error) == {"at", "kind", "outcome", "reason"}  # no ids: nothing to erase
    info = await loop.redis.hget(keys.FAILED_STEP_INFO, "c1:1:reminder-2d")
    assert info is not None
    assert json.loads(info)["code"] == 550
    assert (
        await loop.redis.zscore(keys.FAILED_STEPS, "c1:1:reminder-2d")
        == REMINDER_AT.timestamp() * 1000
    )


@pytest.mark.integration
async def test_an_email_that_carries_two_steps_counts_once_and_lists_both_if_refused(
    loop: Loop,
) -> None:
    await loop.emit(created(), created("e-second", "c2"))
    await loop.emit(changed("commitment.updated", "e-words", START, "c2", action="call them"))
    await loop.consume()
    loop.smtp.refuse_recipient("ana@example.org", code=550)

    await loop.advance(REMINDER_AT)  # both reminders go in one email

    assert (await emails_on(loop.redis, REMINDER_AT.date().isoformat()))["failed"] == 1
    assert len(await last_errors(loop.redis)) == 1
    listed = await loop.redis.zrange(keys.FAILED_STEPS, 0, -1)
    assert sorted(listed) == [b"c1:1:reminder-2d", b"c2:1:reminder-2d"]


@pytest.mark.integration
async def test_an_outcome_a_stale_attempt_cannot_record_is_not_counted(redis: Redis) -> None:
    """Counting rides on the ledger's compare-and-set: a run whose claim was taken over
    records nothing and counts nothing, so the count cannot drift from the ledger."""
    ledger = SendLedger(redis, AutoPipeline(redis))
    key = keys.ledger("c1", 1, "reminder-2d")
    assert await ledger.claim(key, "ours", NOW_MS) is None
    abandoned = await ledger.peek(key)
    assert abandoned is not None
    assert await ledger.take_over(key, abandoned, "newer", NOW_MS + 1)
    report = Report(Tally("reminder", "c1:1:reminder-2d"), "refused")

    assert not await ledger.finish(key, "ours", NOW_MS, Outcome.FAILED, report)

    assert await redis.keys(keys.emails_on("*")) == []
    assert await redis.exists(keys.EMAIL_ERRORS, keys.FAILED_STEPS) == 0


@pytest.mark.integration
async def test_errors_and_failed_steps_are_bounded(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tally, "FAILED_KEPT", 3)
    for n in range(12):
        await _record(redis, f"c{n}:1:reminder-2d", "failed", NOW_MS + n)

    errors = await last_errors(redis)
    assert len(errors) == tally.ERRORS_KEPT
    assert errors[0]["reason"] == "reason 11"  # newest first
    assert await redis.zrange(keys.FAILED_STEPS, 0, -1) == [
        b"c9:1:reminder-2d",
        b"c10:1:reminder-2d",
        b"c11:1:reminder-2d",
    ]
    assert await redis.hlen(keys.FAILED_STEP_INFO) == 3
    assert await redis.ttl(keys.emails_on(TODAY)) == keys.EMAIL_DAY_TTL_S


@pytest.mark.integration
async def test_a_failed_step_leaves_the_list_once_its_ledger_entry_has_expired(
    redis: Redis,
) -> None:
    await _record(redis, "old:1:reminder-2d", "failed", NOW_MS)
    later = NOW_MS + int(timedelta(seconds=keys.LEDGER_TTL_S + 1).total_seconds() * 1000)
    await _record(redis, "new:1:reminder-2d", "unknown", later)

    assert await redis.zrange(keys.FAILED_STEPS, 0, -1) == [b"new:1:reminder-2d"]
    assert await redis.hkeys(keys.FAILED_STEP_INFO) == [b"new:1:reminder-2d"]


async def _record(redis: Redis, step_id: str, outcome: str, now_ms: int) -> None:
    key = keys.ledger(*_parts(step_id))
    await redis.set(key, "claimed|a|1")
    n = step_id.split(":", maxsplit=1)[0].removeprefix("c")
    report = Report(Tally("reminder", step_id), f"reason {n}")
    script, script_keys, args = record_call(
        key, ("claimed|a|1", "committing|a|1"), outcome, report, now_ms
    )
    assert script == RECORD
    assert await redis.eval(script, len(script_keys), *script_keys, *args) == 1  # type: ignore[misc]


def _parts(step_id: str) -> tuple[str, int, str]:
    commitment_id, gen, step = step_id.split(":")
    return commitment_id, int(gen), step
