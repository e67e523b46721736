"""Failures in one place, as an operator sees them: `coachd status` (today's emails and the
last errors), `coachd dead-letters` (list, replay, drop) and `coachd failed` (list, retry),
on real Redis and a real SMTP server, with no redis-cli."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from daemon.cli import main
from daemon.commands import EXIT_INVALID, EXIT_OK
from daemon.inbox.deadletters import dead_letter
from daemon.store import keys
from tests.helpers.events import changed, created
from tests.helpers.firm import START
from tests.helpers.loop import Loop, leave_commit_mark

pytestmark = pytest.mark.integration

REMINDER_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # Tuesday 09:00 Madrid, due Thursday
STEP = "c1:1:reminder-2d"


@pytest.fixture(autouse=True)
def operator_env(redis_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in ("COACHD_SIGNING_KEY", "COACHD_CONFIG_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COACHD_REDIS_URL", redis_url)
    monkeypatch.setenv("COACHD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    yield


async def coachd(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the command as an operator would (in a thread: it runs its own event loop)."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def refused_reminder(loop: Loop) -> None:
    await loop.emit(created())
    await loop.consume()
    loop.smtp.refuse_recipient("ana@example.org", code=550)
    await loop.advance(REMINDER_AT)
    assert loop.messages == []


async def test_status_shows_todays_emails_by_outcome_and_the_last_errors(
    loop: Loop, capsys: pytest.CaptureFixture[str]
) -> None:
    await refused_reminder(loop)

    code, out, _ = await coachd(capsys, "status", "--json")
    assert code == EXIT_OK
    current = json.loads(out)
    assert current["emails_today"] == {"day": "2026-12-01", "sent": 0, "failed": 1, "unknown": 0}
    assert current["failed_steps"] == 1
    [error] = current["last_errors"]
    assert error["kind"] == "reminder"
    assert error["reason"].startswith("the mail server refused it (550, envelope refused: ")

    code, out, _ = await coachd(capsys, "status")
    assert code == EXIT_OK
    assert "emails today          sent 0, failed 1, unknown 0 (UTC day 2026-12-01)" in out
    assert "failed steps          1 (see `coachd failed`)" in out
    assert "  2026-12-01T08:00:00+00:00  reminder failed: the mail server refused it (550" in out
    assert "Traceback" not in out and "/" not in out.split("last errors")[1]


async def test_a_failed_step_retried_from_the_cli_reaches_the_server_exactly_once(
    loop: Loop, capsys: pytest.CaptureFixture[str]
) -> None:
    await refused_reminder(loop)

    code, out, _ = await coachd(capsys, "failed", "--json")
    assert code == EXIT_OK
    [step] = json.loads(out)
    assert (step["step_id"], step["kind"], step["outcome"], step["code"]) == (
        STEP,
        "reminder",
        "failed",
        550,
    )
    assert step["reason"].startswith("the mail server refused it (550, envelope refused: ")
    assert (step["refusal"], step["needs_force"]) == (None, False)
    code, out, _ = await coachd(capsys, "failed")
    assert f"    retry: coachd failed --retry {STEP}" in out

    loop.smtp.accept_recipient("ana@example.org")  # the relay's problem was put right
    code, out, _ = await coachd(capsys, "failed", "--retry", STEP)
    assert code == EXIT_OK
    assert out.startswith(f"step {STEP} (failed) is due again now; overdue-1d is planned again")
    code, _, err = await coachd(capsys, "failed", "--retry", STEP)
    assert (code, err) == (EXIT_INVALID, f"coachd: no failed step {STEP} (see `coachd failed`)\n")

    await loop.run_due()
    await loop.run_due()

    [sent] = loop.messages
    assert sent.rcpt_tos == ["ana@example.org"]
    state = await loop.commitment()
    assert (state["last_sent"], state["next_step"]) == ("reminder-2d", "overdue-1d")
    assert await loop.redis.get(keys.ledger("c1", 1, "reminder-2d")) == b"sent"
    code, out, _ = await coachd(capsys, "failed")
    assert out == "No steps whose email failed.\n"


async def test_an_unknown_outcome_is_retried_only_with_force_and_then_once(
    loop: Loop, capsys: pytest.CaptureFixture[str]
) -> None:
    """A worker wrote the final dot and was killed before the server's answer: whether the
    client has the email is unknown, so a retry needs the operator's --force."""
    await loop.emit(created())
    await loop.consume()
    key, claimed_at = keys.ledger("c1", 1, "reminder-2d"), int(REMINDER_AT.timestamp() * 1000)
    await leave_commit_mark(loop, key, claimed_at)
    await loop.advance(REMINDER_AT + timedelta(minutes=5))  # its lease has run out
    assert await loop.redis.get(key) == b"unknown"
    assert loop.messages == []

    code, out, _ = await coachd(capsys, "failed")
    assert "reminder  unknown" in out
    assert "    retry: only with --force, its outcome is unknown: the connection broke" in out
    code, _, err = await coachd(capsys, "failed", "--retry", STEP)
    assert code == EXIT_INVALID
    assert err == (
        f"coachd: step {STEP} is not retried: its outcome is unknown: the connection broke after "
        "the message was sent, so the client may have it; check the mail server's log for it, "
        "then retry with --force if it never left (add --force to send it anyway)\n"
    )
    await loop.run_due()
    assert loop.messages == []

    code, _, _ = await coachd(capsys, "failed", "--retry", STEP, "--force")
    assert code == EXIT_OK
    await loop.run_due()
    [resent] = loop.messages
    thread = (await loop.commitment())["thread"]
    # The first one may be out there as email 0 of the thread: this is email 1.
    assert resent.message["Message-ID"].startswith(f"<{thread}.1@")


async def test_failed_refuses_unknown_and_malformed_ids_and_a_lone_force(
    loop: Loop, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = await coachd(capsys, "failed", "--retry", "c9:1:reminder-2d")
    assert (code, err) == (
        EXIT_INVALID,
        "coachd: no failed step c9:1:reminder-2d (see `coachd failed`)\n",
    )
    code, _, err = await coachd(capsys, "failed", "--retry", "c9-reminder")
    assert (code, err) == (
        EXIT_INVALID,
        "coachd: 'c9-reminder' is not a step id (they look like ana-grant:1:overdue-4d; "
        "see `coachd failed`)\n",
    )
    code, _, err = await coachd(capsys, "failed", "--force")
    assert (code, err) == (EXIT_INVALID, "coachd: --force goes with --retry ID\n")


async def test_a_refused_retry_says_why_and_changes_nothing(
    loop: Loop, capsys: pytest.CaptureFixture[str]
) -> None:
    await refused_reminder(loop)
    opt_out = changed("commitment.completed", "e-done", REMINDER_AT)
    await loop.emit(opt_out)
    await loop.consume()
    before = await loop.commitment()

    code, out, _ = await coachd(capsys, "failed")
    assert "    retry: no, the commitment is completed now" in out
    code, _, err = await coachd(capsys, "failed", "--retry", STEP)
    assert (code, err) == (
        EXIT_INVALID,
        f"coachd: step {STEP} is not retried: the commitment is completed now\n",
    )
    assert await loop.commitment() == before
    assert await loop.redis.get(keys.ledger("c1", 1, "reminder-2d")) == b"failed"


async def test_dead_letters_are_listed_with_reasons_and_replayed_in_order(
    loop: Loop, capsys: pytest.CaptureFixture[str]
) -> None:
    # Completing a commitment the inbox does not know yet: refused with the reason.
    await loop.emit(changed("commitment.completed", "e-done", START))
    await loop.consume()

    code, out, _ = await coachd(capsys, "dead-letters", "--json")
    assert code == EXIT_OK
    listed = json.loads(out)
    assert listed["total"] == 1
    [letter] = listed["dead_letters"]
    assert (letter["reason"], letter["replayable"]) == ("unknown commitment c1", True)
    first = letter["entry_id"]
    code, out, _ = await coachd(capsys, "dead-letters")
    assert "    event:  commitment.completed e-done" in out
    assert f"    replay: coachd dead-letters --retry {first}" in out

    # Replayed while still unknown: it fails again and is a dead letter again, with its reason.
    code, out, _ = await coachd(capsys, "dead-letters", "--retry", first)
    assert code == EXIT_OK
    assert out.startswith(f"dead letter {first} replayed as inbox entry ")
    await loop.consume()
    [again] = await loop.redis.xrange(keys.DEAD_LETTER_STREAM)
    second = again[0].decode()
    assert second != first
    assert again[1][b"reason"] == b"unknown commitment c1"

    # Once the commitment exists, the replay applies like any event, after those before it.
    await loop.emit(created())
    await loop.consume()
    code, _, _ = await coachd(capsys, "dead-letters", "--retry", second)
    assert code == EXIT_OK
    await loop.consume()
    assert (await loop.commitment())["status"] == "completed"
    assert await loop.redis.xlen(keys.DEAD_LETTER_STREAM) == 0
    code, _, err = await coachd(capsys, "dead-letters", "--retry", second)
    assert (code, err) == (
        EXIT_INVALID,
        f"coachd: no dead letter {second} (see `coachd dead-letters`)\n",
    )


async def test_dead_letters_that_cannot_apply_are_not_replayed_but_can_be_dropped(
    loop: Loop, capsys: pytest.CaptureFixture[str]
) -> None:
    await loop.emit(b'{"version": 1, "type": "nope"}')
    await dead_letter(
        loop.redis, b"message-id <x@y> from smtp", "reply rejected: bad token", "smtp"
    )
    await dead_letter(loop.redis, b"", "client erased", "inbox 1-0")
    invalid, refused, erased = [
        e[0].decode() for e in await loop.redis.xrange(keys.DEAD_LETTER_STREAM)
    ]

    code, out, _ = await coachd(capsys, "dead-letters")
    assert out.startswith("3 dead letter(s); the newest 3, newest first (times UTC):")
    assert "    event:  (no event kept)" in out
    for entry_id, why in [
        (
            invalid,
            "the event itself is invalid (see its reason) and would only come back; "
            "correct it and `coachd emit` it, then --drop this one\n",
        ),
        (refused, "it is a refused reply, kept for inspection, not an event; --drop removes it\n"),
        (erased, "it keeps no event (it was about an erased client); --drop removes it\n"),
    ]:
        code, _, err = await coachd(capsys, "dead-letters", "--retry", entry_id)
        assert code == EXIT_INVALID
        assert err == f"coachd: dead letter {entry_id} is not replayed: {why}"

    code, out, _ = await coachd(capsys, "dead-letters", "--drop", invalid)
    assert (code, out) == (EXIT_OK, f"dead letter {invalid} dropped\n")
    assert await loop.redis.xlen(keys.DEAD_LETTER_STREAM) == 2
    code, _, err = await coachd(capsys, "dead-letters", "--drop", invalid)
    assert (code, err) == (
        EXIT_INVALID,
        f"coachd: no dead letter {invalid} (see `coachd dead-letters`)\n",
    )
    code, _, err = await coachd(capsys, "dead-letters", "--drop", "latest")
    assert (code, err) == (
        EXIT_INVALID,
        "coachd: 'latest' is not a dead letter id (they look like 1764489600000-0; "
        "see `coachd dead-letters`)\n",
    )
    code, _, err = await coachd(capsys, "dead-letters", "--retry", refused, "--drop", erased)
    assert (code, err) == (EXIT_INVALID, "coachd: --retry and --drop cannot go together\n")


async def test_an_empty_dead_letter_stream_says_so(
    loop: Loop, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = await coachd(capsys, "dead-letters")
    assert (code, out) == (EXIT_OK, "No dead letters.\n")


async def test_dead_letters_lists_the_newest_first_and_as_many_as_asked(
    loop: Loop, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(3):
        await dead_letter(loop.redis, b"", f"reason {n}", "test")

    code, out, _ = await coachd(capsys, "dead-letters", "--json", "--limit", "2")
    listed = json.loads(out)
    assert (code, listed["total"]) == (EXIT_OK, 3)
    assert [d["reason"] for d in listed["dead_letters"]] == ["reason 2", "reason 1"]
    with pytest.raises(SystemExit) as exited:
        main(["dead-letters", "--limit", "0"])
    assert exited.value.code == 2  # argparse's usage error
    assert "argument --limit: '0' is not a positive whole number" in capsys.readouterr().err
