"""End to end on real Redis and SMTP: events in, emails out at the right moments, exactly once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from daemon.config.load import load_coach_config
from daemon.errors import RetryLater
from daemon.outbound.coachmail import schedule_all_digests
from daemon.outbound.delivery import fire_step
from daemon.store import keys
from daemon.store.changes import Finish
from daemon.store.schedule import step_job_id
from jobs.composer import Composer
from jobs.questions import DEFAULT_BANK
from jobs.replytoken import verify_reply_token
from tests.helpers.events import changed, created
from tests.helpers.firm import SIGNING_KEY, START
from tests.helpers.loop import Loop, fire_and_die_before_settling, leave_commit_mark

pytestmark = pytest.mark.integration

# With the built-in "standard" profile and due Thursday 3 December (Madrid):
REMINDER_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # Tuesday 09:00 Madrid, 2 days before
OVERDUE_1_AT = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)  # Friday 09:00, 1 day overdue
OVERDUE_4_AT = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # Monday 09:00, 4 days overdue
SECOND = timedelta(seconds=1)


def text_of(loop: Loop, index: int) -> str:
    body = loop.messages[index].message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


async def test_reminder_goes_out_at_nine_local_and_not_a_second_before(loop: Loop) -> None:
    await loop.emit(created())
    await loop.consume()

    await loop.advance(REMINDER_AT - SECOND)
    assert loop.messages == []
    await loop.advance(REMINDER_AT)

    [sent] = loop.messages
    assert sent.rcpt_tos == ["ana@example.org"]
    bounce_token = sent.mail_from.removeprefix("bounces+").removesuffix("@reply.northstar.example")
    assert verify_reply_token(SIGNING_KEY, bounce_token, START.date()).seq == 0
    assert sent.message["Subject"].startswith("Your step: draft the grant proposal")
    assert "draft the grant proposal's first page" in text_of(loop, 0)
    assert "so the garden gets funded" in text_of(loop, 0)
    assert parsedate_to_datetime(sent.message["Date"]) == REMINDER_AT


async def test_overdue_prompts_ask_questions_thread_and_carry_a_valid_reply_token(
    loop: Loop,
) -> None:
    await loop.emit(created())
    await loop.consume()
    for moment in (REMINDER_AT, OVERDUE_1_AT, OVERDUE_4_AT):
        await loop.advance(moment)

    reminder, first, second = (m.message for m in loop.messages)
    assert first["In-Reply-To"] == reminder["Message-ID"]
    assert second["References"].split() == [reminder["Message-ID"], first["Message-ID"]]
    assert "?" in text_of(loop, 1)
    assert text_of(loop, 1) != text_of(loop, 2)
    assert first["Auto-Submitted"] == "auto-generated"
    token = first["Reply-To"].addresses[0].username.removeprefix("reply+")
    claims = verify_reply_token(SIGNING_KEY, token, START.date())
    state = await loop.commitment()
    assert claims.thread == state["thread"]
    assert claims.seq == 1
    assert state["unanswered"] == "2"


async def test_update_moves_the_schedule_and_the_old_step_never_fires(loop: Loop) -> None:
    await loop.emit(created())
    await loop.consume()
    await loop.emit(
        changed("commitment.updated", "e-moved", START + timedelta(hours=1), due_date="2026-12-10")
    )
    await loop.consume()

    assert await loop.redis.zcard(keys.STEP_SCHEDULE) == 1  # the superseded job was removed
    await loop.advance(REMINDER_AT + timedelta(days=1))
    assert loop.messages == []
    await loop.advance(datetime(2026, 12, 8, 8, 0, tzinfo=UTC))  # 2 days before the new date
    assert len(loop.messages) == 1
    assert (await loop.commitment())["due_date"] == "2026-12-10"


async def test_completion_stops_reminders_and_brings_the_reflection(loop: Loop) -> None:
    await loop.emit(created())
    await loop.consume()
    done_at = START + timedelta(hours=2)  # Monday 10:00 Madrid
    await loop.emit(changed("commitment.completed", "e-done", done_at))
    await loop.consume()

    await loop.advance(done_at + timedelta(hours=4))  # reflection_after_hours of "standard"
    await loop.advance(OVERDUE_4_AT)

    [reflection] = loop.messages
    assert "learn" in text_of(loop, 0).lower()
    assert parsedate_to_datetime(reflection.message["Date"]) == done_at + timedelta(hours=4)
    assert await loop.redis.zcard(keys.STEP_SCHEDULE) == 0


async def test_the_same_event_twice_is_applied_once_and_sends_once(loop: Loop) -> None:
    await loop.emit(created(), created())
    await loop.consume()
    await loop.advance(REMINDER_AT)

    assert len(loop.messages) == 1
    assert (await loop.commitment())["version"] == "2"  # created, then the reminder sent
    assert await loop.dead_letters() == []


async def test_a_job_run_again_after_a_crash_mid_finish_does_not_send_again(
    loop: Loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    await loop.emit(created())
    await loop.consume()
    loop.traveller.move_to(REMINDER_AT)
    state = await loop.commitment()
    ctx = {"services": loop.services, "job_id": "x", "job_try": 1}

    await fire_and_die_before_settling(loop, monkeypatch, int(state["version"]), state["next_step"])
    result = await fire_step(ctx, "c1", int(state["version"]), state["next_step"])

    assert result == "recovered_sent"
    assert len(loop.messages) == 1
    assert (await loop.commitment())["last_sent"] == "reminder-2d"


async def test_a_superseded_job_that_still_runs_sends_nothing(loop: Loop) -> None:
    await loop.emit(created())
    await loop.consume()
    old_version = int((await loop.commitment())["version"])
    await loop.emit(
        changed("commitment.updated", "e-words", START + SECOND, action="draft the first two pages")
    )
    await loop.consume()
    loop.traveller.move_to(REMINDER_AT)

    ctx = {"services": loop.services, "job_id": "old", "job_try": 1}
    assert await fire_step(ctx, "c1", old_version, "reminder-2d") == "skipped_superseded"
    await loop.run_due()
    assert len(loop.messages) == 1
    assert "draft the first two pages" in text_of(loop, 0)


async def test_invalid_events_are_dead_lettered_and_the_good_ones_around_them_applied(
    loop: Loop,
) -> None:
    report = await loop.emit(
        created("e1", "c1"), b"{not json", created("e2", "c2", due="x"), created("e3", "c3")
    )
    assert report.accepted == 2
    assert [n for n, _ in report.rejected] == [2, 3]
    # A producer writing to the stream directly, past `emit`'s validation:
    await loop.redis.xadd(keys.INBOX_STREAM, {"event": b'{"version": 7}'})
    await loop.redis.xadd(
        keys.INBOX_STREAM,
        {
            "event": json.dumps(
                changed("commitment.completed", "e4", START, commitment_id="nope")
            ).encode()
        },
    )
    await loop.consume()

    reasons = [d["reason"] for d in await loop.dead_letters()]
    assert reasons[0].startswith("not valid JSON")
    assert "due_date" in reasons[1]
    assert reasons[2] == "unsupported version 7; expected 1"
    assert reasons[3] == "unknown commitment nope"
    assert (await loop.commitment("c1"))["status"] == "active"
    assert (await loop.commitment("c3"))["status"] == "active"
    pending = await loop.redis.xpending(keys.INBOX_STREAM, keys.INBOX_GROUP)
    assert pending["pending"] == 0


async def test_an_older_update_never_overwrites_newer_state(loop: Loop) -> None:
    await loop.emit(created())
    await loop.emit(
        changed("commitment.updated", "e-new", START + timedelta(hours=2), due_date="2026-12-10")
    )
    await loop.emit(
        changed("commitment.updated", "e-old", START + timedelta(hours=1), due_date="2026-12-05")
    )
    await loop.consume()

    assert (await loop.commitment())["due_date"] == "2026-12-10"
    [dead] = await loop.dead_letters()
    assert dead["reason"].startswith("stale event for c1")


async def test_entries_left_pending_by_a_dead_consumer_are_reclaimed(loop: Loop) -> None:
    await loop.emit(created())
    # Another consumer reads the entry and dies before acknowledging it.
    await loop.redis.xreadgroup(keys.INBOX_GROUP, "dead-consumer", {keys.INBOX_STREAM: ">"})

    assert await loop.consumer.reclaim() == 1
    assert (await loop.commitment())["status"] == "active"
    pending = await loop.redis.xpending(keys.INBOX_STREAM, keys.INBOX_GROUP)
    assert pending["pending"] == 0


async def test_a_transient_smtp_failure_retries_and_delivers_once(loop: Loop) -> None:
    await loop.emit(created())
    await loop.consume()
    loop.smtp.fail_next(1, code=451)

    await loop.advance(REMINDER_AT)
    assert loop.messages == []
    await loop.advance(REMINDER_AT + timedelta(seconds=10))  # the first backoff
    assert len(loop.messages) == 1
    assert (await loop.commitment())["last_sent"] == "reminder-2d"


async def test_a_refused_recipient_is_recorded_and_not_retried(loop: Loop) -> None:
    await loop.emit(created())
    await loop.consume()
    loop.smtp.refuse_recipient("ana@example.org", code=550)

    with capture_logs() as logs:
        await loop.advance(REMINDER_AT)
    await loop.advance(REMINDER_AT + timedelta(hours=1))

    state = await loop.commitment()
    assert state["last_error"].startswith("reminder-2d: refused: 550")
    assert "ana@example.org" not in state["last_error"]
    assert state["next_step"] == "overdue-1d"
    assert await loop.redis.get(keys.ledger("c1", 1, "reminder-2d")) == b"failed"
    # An email the server refused is not counted: not sent, no question asked.
    assert "sent_count" not in state
    assert await loop.redis.hget(keys.client("ana"), "last_question") is None
    [refused] = [e for e in logs if e["event"] == "email_not_sent"]
    assert (refused["log_level"], refused["code"]) == ("warning", 550)
    assert refused["reason"].startswith("refused: 550")


async def test_opting_out_stops_everything(loop: Loop) -> None:
    await loop.emit(created())
    await loop.emit(
        {
            "version": 1,
            "event_id": "e-out",
            "type": "client.updated",
            "occurred_at": (START + SECOND).isoformat(),
            "client_id": "ana",
            "opted_out": True,
        }
    )
    await loop.consume()

    assert await loop.redis.zcard(keys.STEP_SCHEDULE) == 0
    await loop.advance(OVERDUE_4_AT)
    assert loop.messages == []


async def test_unanswered_prompts_make_coachd_go_quiet_and_tell_the_coach(loop: Loop) -> None:
    await loop.emit(created(profile="twice"))
    await loop.consume()
    for moment in (REMINDER_AT, OVERDUE_1_AT, OVERDUE_4_AT, OVERDUE_4_AT + timedelta(days=30)):
        await loop.advance(moment)

    recipients = [m.rcpt_tos[0] for m in loop.messages]
    assert recipients == ["ana@example.org"] * 3 + ["maria@northstar.example"]
    assert "Ana Ruiz" in loop.messages[3].message["Subject"]
    assert (await loop.commitment())["status"] == "quiet"


async def test_a_client_changing_time_zone_is_replanned_in_the_new_zone(loop: Loop) -> None:
    await loop.emit(created())
    await loop.emit(
        {
            "version": 1,
            "event_id": "e-tz",
            "type": "client.updated",
            "occurred_at": (START + SECOND).isoformat(),
            "client_id": "ana",
            "timezone": "America/New_York",
        }
    )
    await loop.consume()

    await loop.advance(REMINDER_AT)  # 09:00 in Madrid is 03:00 in New York: nothing yet
    assert loop.messages == []
    await loop.advance(datetime(2026, 12, 1, 14, 0, tzinfo=UTC))  # 09:00 in New York
    assert len(loop.messages) == 1


async def test_a_scheduled_step_is_one_member_per_version_scored_by_its_fire_time(
    loop: Loop,
) -> None:
    await loop.emit(created())
    await loop.consume()
    version = int((await loop.commitment())["version"])

    scheduled = await loop.redis.zrange(keys.STEP_SCHEDULE, 0, -1, withscores=True)
    assert scheduled == [(step_job_id("c1", version).encode(), REMINDER_AT.timestamp() * 1000)]
    assert await loop.redis.keys("arq:job:*") == []  # no payload: the state says it all


async def test_a_send_abandoned_before_its_point_of_no_return_is_sent_once_later(
    loop: Loop,
) -> None:
    await loop.emit(created())
    await loop.consume()
    state = await loop.commitment()
    # A worker claimed the reminder and was killed before the final "." of DATA.
    await loop.services.ledger.claim(
        keys.ledger("c1", 1, "reminder-2d"), "dead-worker", int(REMINDER_AT.timestamp() * 1000)
    )
    ctx = {"services": loop.services, "job_id": "x", "job_try": 1}
    loop.traveller.move_to(REMINDER_AT + timedelta(minutes=5))  # the claim's lease has expired

    assert await fire_step(ctx, "c1", int(state["version"]), "reminder-2d") == "sent"
    assert len(loop.messages) == 1
    assert await loop.redis.get(keys.ledger("c1", 1, "reminder-2d")) == b"sent"


async def test_a_send_abandoned_after_its_final_dot_is_recorded_unknown_and_never_resent(
    loop: Loop,
) -> None:
    """The dot went out and nobody saw the server's answer: it may have taken the email or
    refused it. Neither resent nor called sent: `unknown`, and the coach's digest says so."""
    await loop.emit(created())
    await loop.consume()
    state = await loop.commitment()
    key, claimed_at = keys.ledger("c1", 1, "reminder-2d"), int(REMINDER_AT.timestamp() * 1000)
    # A worker wrote the final "." and was killed before the server's answer came.
    await leave_commit_mark(loop, key, claimed_at)
    ctx = {"services": loop.services, "job_id": "x", "job_try": 1}
    loop.traveller.move_to(REMINDER_AT + timedelta(minutes=5))

    result = await fire_step(ctx, "c1", int(state["version"]), "reminder-2d")

    assert result == "recovered_unknown"
    assert loop.messages == []
    assert await loop.redis.get(key) == b"unknown"
    after = await loop.commitment()
    assert (after["last_sent"], after["next_step"]) == ("reminder-2d", "overdue-1d")
    assert "final dot" in after["last_error"]
    [digest_entry] = await loop.redis.lrange(keys.digest_entries("maria"), 0, -1)
    assert b"undelivered" in digest_entry
    counted = {"kind": "reminder", "outcome": "unknown"}  # here: the dead worker could not
    assert loop.services.metrics.registry.get_sample_value("coachd_emails_total", counted) == 1


async def test_a_claim_still_within_its_lease_makes_the_job_wait_not_send(loop: Loop) -> None:
    await loop.emit(created())
    await loop.consume()
    state = await loop.commitment()
    loop.traveller.move_to(REMINDER_AT)
    await loop.services.ledger.claim(
        keys.ledger("c1", 1, "reminder-2d"), "live-worker", int(REMINDER_AT.timestamp() * 1000)
    )
    ctx = {"services": loop.services, "job_id": "x", "job_try": 1}

    with pytest.raises(RetryLater):
        await fire_step(ctx, "c1", int(state["version"]), "reminder-2d")
    assert loop.messages == []


async def test_cancellation_stops_everything_for_that_commitment_only(loop: Loop) -> None:
    await loop.emit(created(), created("e-other", "c2", client_id="bo", email="bo@example.org"))
    await loop.emit(changed("commitment.cancelled", "e-cancel", START + SECOND))
    await loop.consume()

    await loop.advance(OVERDUE_4_AT)

    assert {m.rcpt_tos[0] for m in loop.messages} == {"bo@example.org"}
    assert (await loop.commitment("c1"))["status"] == "cancelled"
    assert await loop.redis.zcard(keys.STEP_SCHEDULE) == 1  # c2's next step only


async def test_a_broken_coach_template_is_recorded_and_the_plan_goes_on(
    loop: Loop, tmp_path: Path
) -> None:
    overrides = tmp_path / "maria-templates" / "reminder"
    overrides.mkdir(parents=True)
    (overrides / "subject.txt").write_text("{{ no_such_variable }}")
    loop.services._composers[None] = Composer(overrides.parent)
    await loop.emit(created())
    await loop.consume()

    await loop.advance(REMINDER_AT)

    assert loop.messages == []
    state = await loop.commitment()
    assert state["last_error"].startswith("reminder-2d: could not compose: UndefinedError")
    assert state["next_step"] == "overdue-1d"


async def test_after_two_days_of_downtime_only_the_latest_missed_prompt_goes_out(
    loop: Loop,
) -> None:
    await loop.emit(created())
    await loop.consume()
    # Nothing ran from Monday until Monday a week later, 11:00 Madrid: the reminder and
    # two prompts were missed.
    await loop.advance(OVERDUE_4_AT + timedelta(hours=2))

    assert len(loop.messages) == 1
    assert "?" in text_of(loop, 0)  # a prompt, not a stale "coming up" reminder
    state = await loop.commitment()
    assert (state["last_sent"], state["next_step"]) == ("overdue-4d", "overdue-9d")


async def test_a_refused_email_reaches_the_coach_in_the_digest(loop: Loop) -> None:
    await loop.emit(created())
    await loop.consume()
    await schedule_all_digests(loop.services)
    loop.smtp.refuse_recipient("ana@example.org", code=550)

    await loop.advance(REMINDER_AT)
    await loop.advance(datetime(2026, 12, 1, 16, 0, tzinfo=UTC))  # Tuesday 17:00 Madrid

    [digest] = loop.messages
    assert digest.rcpt_tos == ["maria@northstar.example"]
    body = digest.message.get_body(preferencelist=("plain",))
    assert body is not None
    text = str(body.get_content())
    assert "Emails that did not, or may not, reach the client" in text
    # In the coach's words; the server's reply (code, address, phase) stays in the log.
    assert (
        "Ana Ruiz: draft the grant proposal's first page (the reminder was not sent: their mail"
        " server says the address does not exist or takes no mail)"
    ) in " ".join(text.split())
    assert "550" not in text
    assert "refused:" not in text


async def test_a_clients_prompts_due_the_same_day_go_out_as_one_email(loop: Loop) -> None:
    await loop.emit(created(), created("e-second", "c2"))
    await loop.emit(
        changed(
            "commitment.updated",
            "e-words",
            START + SECOND,
            commitment_id="c2",
            action="call the foundation about the deadline",
        )
    )
    await loop.consume()

    await loop.advance(REMINDER_AT)  # both reminders are due Tuesday 09:00
    assert len(loop.messages) == 1
    assert "Also on your list today:" in text_of(loop, 0)
    assert "draft the grant proposal's first page" in text_of(loop, 0)
    assert "call the foundation about the deadline" in text_of(loop, 0)
    first, second = await loop.commitment("c1"), await loop.commitment("c2")
    assert (first["last_sent"], second["last_sent"]) == ("reminder-2d", "reminder-2d")

    await loop.advance(REMINDER_AT + timedelta(days=1))  # nothing was left for Wednesday
    assert len(loop.messages) == 1
    await loop.advance(OVERDUE_1_AT)  # and the first prompts, Friday, again together
    assert len(loop.messages) == 2
    assert "Also on your list today:" in text_of(loop, 1)


async def test_the_firms_unsubscribe_url_becomes_a_one_click_list_unsubscribe(
    loop: Loop, firm_config: Path
) -> None:
    text = firm_config.read_text().replace(
        'reply_domain = "reply.northstar.example"',
        'reply_domain = "reply.northstar.example"\n'
        'unsubscribe_url = "https://northstar.example/stop/"',
        1,
    )
    firm_config.write_text(text)
    loop.services.replace_config(load_coach_config(firm_config))
    await loop.emit(created())
    await loop.consume()
    await loop.advance(REMINDER_AT)

    [sent] = loop.messages
    token = sent.message["Reply-To"].addresses[0].username.removeprefix("reply+")
    assert str(sent.message["List-Unsubscribe"]).startswith(
        f"<https://northstar.example/stop/{token}>, <mailto:unsubscribe+{token}@"
    )
    assert sent.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_an_event_applied_between_the_final_dot_and_settling_keeps_the_bookkeeping(
    loop: Loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The event bumps the version under the step's feet; the email it sent is still
    counted, so the next one gets a Message-ID of its own and the question is remembered."""
    await loop.emit(created())
    await loop.consume()
    await loop.advance(REMINDER_AT)
    store = loop.services.store
    settle = store.finish_all

    async def event_first(finishes: list[Finish]) -> None:
        await loop.emit(changed("commitment.updated", "e-why", REMINDER_AT, why="a new why"))
        await loop.consume()
        await settle(finishes)

    with monkeypatch.context() as patch:
        patch.setattr(store, "finish_all", event_first)
        await loop.advance(OVERDUE_1_AT)
    await loop.advance(OVERDUE_4_AT)

    message_ids = [str(m.message["Message-ID"]) for m in loop.messages]
    assert len(message_ids) == 3
    assert len(set(message_ids)) == 3  # RFC 5322 §3.6.4: each email its own Message-ID
    assert (await loop.commitment())["sent_count"] == "3"
    assert await loop.redis.hget(keys.client("ana"), "last_question") is not None
    ledger = await loop.redis.get(keys.ledger("c1", 1, "overdue-1d"))
    assert ledger == b"sent"


def questions_in(loop: Loop, index: int) -> list[str]:
    return [line[4:] for line in text_of(loop, index).splitlines() if line.startswith("  - ")]


async def test_back_to_back_two_question_prompts_never_repeat_a_question(loop: Loop) -> None:
    """Issue 15 item 12: both questions of an email are remembered, not just the first."""
    await loop.emit(created(profile="twice"))
    await loop.consume()
    for moment in (REMINDER_AT, OVERDUE_1_AT, OVERDUE_4_AT):
        await loop.advance(moment)

    first, second = questions_in(loop, 1), questions_in(loop, 2)
    assert (len(first), len(second)) == (2, 2)
    assert set(first) & set(second) == set()
    remembered = await loop.redis.hget(keys.client("ana"), "last_question")
    assert remembered is not None
    assert len(remembered.split()) == 2


async def test_a_due_date_long_past_is_dead_lettered_with_its_reason(loop: Loop) -> None:
    """Issue 15 item 10: a typo'd year never reaches the client."""
    await loop.redis.xadd(
        keys.INBOX_STREAM, {"event": json.dumps(created(due="2025-12-03")).encode()}
    )
    await loop.consume()

    [dead] = await loop.dead_letters()
    assert "due_date 2025-12-03 is 362 days before the event" in dead["reason"]
    assert "past_due_ok" in dead["reason"]
    assert await loop.redis.exists(keys.client("ana")) == 0


async def test_a_deliberate_past_due_date_opens_lightly_and_shows_its_year(loop: Loop) -> None:
    """Issue 15 item 10: the first email, a year overdue, asks a light partnering question
    (never "what story do you tell yourself") and writes the date with its year."""
    await loop.emit({**created(due="2025-12-03"), "past_due_ok": True})
    await loop.consume()
    await loop.advance(START + SECOND)

    [_] = loop.messages
    [question] = questions_in(loop, 0)
    partnering = {q.text for q in DEFAULT_BANK.questions if q.reason == "partnering"}
    assert question in {q.text for q in DEFAULT_BANK.questions if q.depth == 1} & partnering
    assert "Wednesday 3 December 2025" in text_of(loop, 0)
