"""The step dispatcher on real Redis and SMTP: leases, retries, batches that settle together."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from daemon.outbound import dispatcher as dispatcher_module
from daemon.outbound.dispatcher import MAX_STARTS, StepDispatcher
from daemon.outbound.stepbatch import Settlement, StepBatch
from daemon.store import keys
from daemon.store.pipelining import AutoPipeline
from daemon.store.schedule import step_job_id
from daemon.worker import lease_ms
from tests.helpers.events import created
from tests.helpers.loop import Loop

pytestmark = pytest.mark.integration

REMINDER_DUE = timedelta(days=1, hours=1)  # START + this: the "standard" reminder is due


async def _clients(loop: Loop, count: int) -> list[str]:
    """`count` commitments of clients of their own, each with its reminder scheduled."""
    events = [
        created(f"e{n}", f"c{n}", client_id=f"client{n}", email=f"client{n}@example.org")
        for n in range(count)
    ]
    await loop.emit(*events)
    await loop.consume()
    return [step_job_id(f"c{n}", 1) for n in range(count)]


async def _scores(loop: Loop) -> dict[str, float]:
    entries = await loop.redis.zrange(keys.STEP_SCHEDULE, 0, -1, withscores=True)
    return {member.decode(): score for member, score in entries}


async def test_claimed_steps_are_leased_to_one_worker_until_the_lease_runs_out(loop: Loop) -> None:
    steps = await _clients(loop, 3)
    loop.traveller.shift(REMINDER_DUE)

    first = await loop.dispatcher.claim()
    second = await loop.dispatcher.claim()

    assert sorted(c.step_id for c in first) == steps
    assert second == []  # leased: invisible to every other worker meanwhile
    lease_end = loop.services.clock.now().timestamp() * 1000 + lease_ms(loop.services.job_timeout_s)
    assert set((await _scores(loop)).values()) == {lease_end}  # still scheduled, at its end
    loop.traveller.shift(timedelta(minutes=2))  # the lease (75 s) ran out: its worker died
    again = await loop.dispatcher.claim()
    assert sorted(c.step_id for c in again) == steps
    assert {c.tries for c in again} == {2}  # each start is counted, crash restarts too


async def test_a_batch_sends_each_email_once_and_settles_in_one_transaction(
    loop: Loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _clients(loop, 12)
    loop.traveller.shift(REMINDER_DUE)
    store = loop.services.store
    finished_together: list[int] = []
    finish_all = store.finish_all

    async def counting(finishes: list[Any]) -> None:
        finished_together.append(len(finishes))
        await finish_all(finishes)

    monkeypatch.setattr(store, "finish_all", counting)
    assert await loop.dispatcher.run_due() == 12

    assert sorted(m.rcpt_tos[0] for m in loop.messages) == sorted(
        f"client{n}@example.org" for n in range(12)
    )
    assert finished_together == [12]
    # Each commitment moved on to its next step (version 2), the fired ones left the schedule.
    assert sorted(await _scores(loop)) == sorted(step_job_id(f"c{n}", 2) for n in range(12))
    assert await loop.redis.hlen(keys.STEP_TRIES) == 0


async def test_a_transient_smtp_failure_puts_the_step_back_at_its_retry_time(loop: Loop) -> None:
    [step] = await _clients(loop, 1)
    loop.traveller.shift(REMINDER_DUE)
    loop.smtp.fail_next(1, code=451)

    await loop.dispatcher.run_due()

    assert loop.messages == []
    retry_at = (await _scores(loop))[step]
    expected = loop.services.clock.now().timestamp() * 1000 + loop.services.retry_base_s * 1000
    assert retry_at == pytest.approx(expected, abs=1000)
    assert await loop.redis.hget(keys.STEP_TRIES, step) == b"1"
    loop.traveller.shift(timedelta(seconds=loop.services.retry_base_s + 1))
    await loop.dispatcher.run_due()
    assert len(loop.messages) == 1
    assert await loop.redis.hget(keys.STEP_TRIES, step) is None


async def test_a_step_that_keeps_killing_its_worker_is_given_up(loop: Loop) -> None:
    [step] = await _clients(loop, 1)
    loop.traveller.shift(REMINDER_DUE)
    await loop.redis.hset(keys.STEP_TRIES, step, MAX_STARTS)  # started (and died) that often

    assert await loop.dispatcher.run_due() == 1

    assert loop.messages == []
    assert await _scores(loop) == {}
    assert await loop.redis.hget(keys.STEP_TRIES, step) is None


async def test_concurrent_commands_share_one_pipeline_and_errors_stay_with_their_caller(
    redis_url: str,
) -> None:
    redis = Redis.from_url(redis_url)
    commands = AutoPipeline(redis)
    pipelines: list[int] = []
    run = commands._run

    async def counting(batch: list[Any]) -> list[Any]:
        pipelines.append(len(batch))
        return await run(batch)

    commands._commands._run_batch = counting
    try:
        await redis.set("k", "v")
        await redis.hset("h", "f", "1")
        results = await asyncio.gather(
            commands.execute("GET", "k"),
            commands.hgetall("h"),
            commands.execute("HGET", "k", "f"),  # wrong type: this one fails alone
            return_exceptions=True,
        )
    finally:
        await redis.aclose()

    assert pipelines == [3]
    assert results[:2] == [b"v", {b"f": b"1"}]
    assert isinstance(results[2], ResponseError)


class _RecordingLedger:
    def __init__(self) -> None:
        self.recorded: list[int] = []

    async def record_all(self, outcomes: list[Any]) -> None:
        self.recorded.append(len(outcomes))


class _RecordingStore:
    def __init__(self) -> None:
        self.finished: list[int] = []

    async def finish_all(self, finishes: list[Any]) -> None:
        self.finished.append(len(finishes))


LONG_WAIT_S, SHORT_WAIT_S = 10.0, 0.05


async def test_a_batch_settles_at_once_when_every_running_step_waits_to_settle() -> None:
    ledger, store = _RecordingLedger(), _RecordingStore()
    batch = StepBatch(ledger, store, 3, max_wait_s=LONG_WAIT_S)  # type: ignore[arg-type]

    first = asyncio.create_task(batch.settle(Settlement()))
    for _ in range(10):  # let the loop turn: nothing may settle while two steps still run
        await asyncio.sleep(0)
    assert not first.done()
    batch.leave()  # one ended without settling (e.g. superseded)
    await asyncio.wait_for(asyncio.gather(first, batch.settle(Settlement())), LONG_WAIT_S / 2)

    assert (ledger.recorded, store.finished) == ([0], [0])  # one round for both


async def test_a_stuck_step_does_not_hold_up_the_rest_of_its_batch() -> None:
    ledger, store = _RecordingLedger(), _RecordingStore()
    batch = StepBatch(ledger, store, 2, max_wait_s=SHORT_WAIT_S)  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    started = loop.time()

    await asyncio.wait_for(batch.settle(Settlement()), LONG_WAIT_S)  # the other never settles

    assert loop.time() - started >= SHORT_WAIT_S
    assert store.finished == [0]


async def test_a_stuck_step_times_out_alone_and_stays_leased(
    loop: Loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    stuck, fine = await _clients(loop, 2)
    loop.traveller.shift(REMINDER_DUE)
    fire_step = dispatcher_module.fire_step

    async def hang_on_the_first(ctx: dict[str, Any], commitment_id: str, version: int) -> None:
        if ctx["job_id"] == stuck:
            await asyncio.Event().wait()  # an SMTP server that stopped answering
        await fire_step(ctx, commitment_id, version)

    monkeypatch.setattr(dispatcher_module, "fire_step", hang_on_the_first)
    services = dataclasses.replace(loop.services, job_timeout_s=1)
    lease = lease_ms(services.job_timeout_s)
    dispatcher = StepDispatcher(services, batch_size=10, poll_delay_s=0.01, lease_ms=lease)

    await dispatcher.run_due()

    assert [m.rcpt_tos for m in loop.messages] == [["client1@example.org"]]  # the other one went
    scores = await _scores(loop)
    assert fine not in scores  # done: its next step is a member of its own
    # The stuck one keeps its lease: it comes due again once the lease runs out.
    assert scores[stuck] == loop.services.clock.now().timestamp() * 1000 + lease
