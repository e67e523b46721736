"""Coach notices and digests are sent at most once, by the same protocol as clients' steps."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from daemon.errors import RetryLater
from daemon.outbound.coachmail import send_digest
from daemon.outbound.tally import STOPPED_ANSWERING
from daemon.store import keys
from daemon.store.schedule import SEND_NOTICE, notice_job_id
from daemon.store.status import emails_on, last_errors
from tests.helpers.events import created
from tests.helpers.firm import START
from tests.helpers.loop import Loop, leave_commit_mark

pytestmark = pytest.mark.integration

COACH = "maria"
COACH_ADDRESS = "maria@northstar.example"
NOTICE = "n-1"
NOTICE_KEY = keys.sent("notice", NOTICE)
DAY = "2026-11-30"
DIGEST_KEY = keys.sent("digest", f"{COACH}:{DAY}")
AFTER_THE_LEASE = timedelta(minutes=5)  # the worker's lease is 75 s
POLL_S = 0.01
WAIT_S = 5


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def ctx_of(loop: Loop, job_try: int = 1) -> dict[str, Any]:
    return {"services": loop.services, "job_id": "test-job", "job_try": job_try}


async def queue_notice(loop: Loop) -> None:
    """A coach notice about commitment c1, its job due now (as a reply would leave it)."""
    await loop.emit(created())
    await loop.consume()
    notice = {"commitment_id": "c1", "headline": "Ana Ruiz is blocked", "text": "Stuck."}
    await loop.redis.hset(keys.notice(NOTICE), mapping=notice)  # type: ignore[misc]
    async with loop.redis.pipeline(transaction=True) as pipe:
        now = loop.services.clock.now()
        loop.services.store.queue.add_job(pipe, SEND_NOTICE, notice_job_id(NOTICE), (NOTICE,), now)
        await pipe.execute()


async def add_digest_entry(loop: Loop) -> None:
    entry = {"kind": "reply", "at": START.isoformat(), "commitment_id": "c1"}
    entry |= {"client_name": "Ana Ruiz", "action": "draft", "intent": "progress"}
    entry |= {"text": "Half done.", "moved": 0}
    await loop.redis.rpush(keys.digest_entries(COACH), json.dumps(entry))  # type: ignore[misc]


async def test_a_notice_a_dead_worker_claimed_is_sent_once_by_the_next_run(loop: Loop) -> None:
    """The claimant died before the point of no return: once its lease ran out, send."""
    await queue_notice(loop)
    await loop.services.ledger.claim(NOTICE_KEY, "dead-worker", ms(START))
    loop.traveller.move_to(START + AFTER_THE_LEASE)

    await loop.run_due()

    assert [m.rcpt_tos for m in loop.messages] == [[COACH_ADDRESS]]
    assert "Ana Ruiz" in loop.messages[0].message["Subject"]
    assert await loop.redis.get(NOTICE_KEY) == b"sent"


async def test_a_notice_claimed_within_its_lease_is_retried_later_not_sent_now(
    loop: Loop,
) -> None:
    """A claim still within its lease may be in flight: wait for it; once it is known to
    be abandoned, take over and send once."""
    await queue_notice(loop)
    await loop.services.ledger.claim(NOTICE_KEY, "live-worker", ms(START))

    await loop.run_due()

    assert loop.messages == []
    [(job_id, score)] = await loop.redis.zrange(keys.JOB_QUEUE, 0, -1, withscores=True)
    assert job_id == notice_job_id(NOTICE).encode()
    assert score > ms(START)  # deferred: arq runs it again later
    loop.traveller.move_to(START + AFTER_THE_LEASE)  # the live worker never finished
    await loop.run_due()
    assert [m.rcpt_tos for m in loop.messages] == [[COACH_ADDRESS]]
    assert await loop.redis.get(NOTICE_KEY) == b"sent"


async def test_a_notice_whose_commit_mark_got_no_reply_is_recorded_unknown_not_resent(
    loop: Loop,
) -> None:
    await queue_notice(loop)
    await leave_commit_mark(loop, NOTICE_KEY, ms(START))
    loop.traveller.move_to(START + AFTER_THE_LEASE)

    await loop.run_due()

    assert loop.messages == []
    assert await loop.redis.get(NOTICE_KEY) == b"unknown"
    assert await loop.redis.exists(keys.notice(NOTICE)) == 0  # handled: not queued again
    # Counted by the run that found it: the one that sent it died before it could.
    counted = {"kind": "coach_notice", "outcome": "unknown"}
    assert loop.services.metrics.registry.get_sample_value("coachd_emails_total", counted) == 1


async def test_a_digest_whose_first_run_died_before_sending_goes_out_once(loop: Loop) -> None:
    """Run 1 claimed and was killed before the dot; run 2 sends; run 3 has nothing left."""
    await loop.emit(created())
    await loop.consume()
    await add_digest_entry(loop)
    await loop.services.ledger.claim(DIGEST_KEY, "dead-worker", ms(START))
    loop.traveller.move_to(START + AFTER_THE_LEASE)

    assert await send_digest(ctx_of(loop), COACH, DAY) == "sent"
    assert await send_digest(ctx_of(loop), COACH, DAY) == "empty"  # its entries were shown

    assert [m.rcpt_tos for m in loop.messages] == [[COACH_ADDRESS]]
    assert await loop.redis.get(DIGEST_KEY) == b"sent"


async def test_two_runs_of_one_digest_at_once_send_it_once(loop: Loop) -> None:
    """The second run finds the first in flight: it waits (RetryLater) instead of sending."""
    await loop.emit(created())
    await loop.consume()
    await add_digest_entry(loop)
    loop.smtp.delay_data(0.5)  # the first run waits for the reply to its final dot
    first = asyncio.create_task(send_digest(ctx_of(loop), COACH, DAY))
    async with asyncio.timeout(WAIT_S):  # until the first run is mid-transaction
        while not (await loop.redis.exists(DIGEST_KEY) and loop.smtp.ports_mid_transaction()):
            await asyncio.sleep(POLL_S)

    with pytest.raises(RetryLater):
        await send_digest(ctx_of(loop), COACH, DAY)
    assert await first == "sent"
    assert await send_digest(ctx_of(loop, job_try=2), COACH, DAY) == "empty"
    assert [m.rcpt_tos for m in loop.messages] == [[COACH_ADDRESS]]


async def test_a_refused_coach_email_is_logged_as_a_warning_with_code_and_reason(
    loop: Loop,
) -> None:
    await queue_notice(loop)
    loop.smtp.refuse_recipient(COACH_ADDRESS, code=550)

    with capture_logs() as logs:
        await loop.run_due()

    [failure] = [e for e in logs if e["event"] == "coach_email_not_sent"]
    assert (failure["log_level"], failure["code"]) == ("warning", 550)
    assert (failure["outcome"], failure["kind"]) == ("failed", "coach_notice")
    assert failure["reason"].startswith("envelope refused: ")
    assert "maria@" not in failure["reason"]
    assert await loop.redis.get(NOTICE_KEY) == b"failed"


async def test_coach_email_lines_name_the_coach_and_a_notice_its_commitment(loop: Loop) -> None:
    await queue_notice(loop)
    await add_digest_entry(loop)

    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        await loop.run_due()
        assert await send_digest(ctx_of(loop), COACH, DAY) == "sent"

    sent = [e for e in logs if e["event"] == "coach_email_sent"]
    assert [(e["kind"], e["coach_id"], e.get("commitment_id")) for e in sent] == [
        ("coach_notice", COACH, "c1"),
        ("digest", COACH, None),  # about all of the coach's commitments, not one
    ]


async def test_coach_emails_are_counted_and_their_errors_listed_but_not_as_steps(
    loop: Loop,
) -> None:
    """`coachd status` counts coach notices and digests with the clients' emails; they are
    not client steps, so `coachd failed` does not list them."""
    await queue_notice(loop)
    await leave_commit_mark(loop, NOTICE_KEY, ms(START))
    loop.traveller.move_to(START + AFTER_THE_LEASE)
    await loop.run_due()  # the notice: recorded unknown
    await add_digest_entry(loop)
    assert await send_digest(ctx_of(loop), COACH, DAY) == "sent"
    assert await send_digest(ctx_of(loop, job_try=2), COACH, DAY) == "empty"

    assert await emails_on(loop.redis, DAY) == {"day": DAY, "sent": 1, "failed": 0, "unknown": 1}
    [error] = await last_errors(loop.redis)
    assert (error["kind"], error["outcome"], error["reason"]) == (
        "coach_notice",
        "unknown",
        STOPPED_ANSWERING,
    )
    assert await loop.redis.exists(keys.FAILED_STEPS) == 0
