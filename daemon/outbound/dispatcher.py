"""Firing due steps in batches: claim many at once under a lease, fire them side by side.

Claiming moves each due member's score a lease ahead, in one Lua call: the steps stay in
the schedule, invisible to other workers while this one fires them. A worker that dies
leaves them there; they come due again when the lease runs out and another worker fires
them (the send ledger keeps each email single, as with any job that runs twice).

Stopping (`stop`, on SIGTERM) claims nothing more and closes the send gate: a step that has
not started its SMTP transaction is given back, due at once for the next worker. Sends in
flight get the grace period; then `wind_down` cuts them off (see daemon.outbound.sendgate).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any

import structlog
from redis.exceptions import RedisError

from daemon.errors import RetryLater, StepGivenBack
from daemon.heartbeat import Heartbeat
from daemon.outbound.delivery import ARQ_MAX_TRIES, fire_step
from daemon.outbound.firing import Services
from daemon.outbound.lookahead import LookAhead
from daemon.outbound.stepbatch import StepBatch
from daemon.store import keys

log = structlog.get_logger(__name__)

# Take up to ARGV[2] members due by ARGV[1] (ms); push their scores to ARGV[3] (the lease's
# end), count this start of each, and return them with that count. Counting at the start
# (as arq does) makes a step that keeps killing its worker stop after MAX_STARTS.
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if #due == 0 then return {} end
local leased = {}
for i, member in ipairs(due) do
  leased[2 * i - 1] = ARGV[3]
  leased[2 * i] = member
end
redis.call('ZADD', KEYS[1], unpack(leased))
local claimed = {}
for i, member in ipairs(due) do
  claimed[2 * i - 1] = member
  claimed[2 * i] = redis.call('HINCRBY', KEYS[2], member, 1)
end
return claimed
"""
# Put a step to retry back at ARGV[2] (ms), unless it was superseded (removed) meanwhile.
_RETRY = """
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
end
"""
MS_PER_S = 1000
# Batches in flight at once: one is being claimed and loaded while another waits on SMTP.
BATCHES_IN_FLIGHT = 2
ERROR_BACKOFF_S = 1.0
# Starts of one step (crash restarts included) before it is given up, as arq's max_tries.
MAX_STARTS = ARQ_MAX_TRIES
# After the cut-off, how long the steps it ended get to record what became of them.
CUT_OFF_WAIT_S = 5.0


@dataclass(frozen=True, slots=True)
class Claimed:
    """A step this worker holds: `<commitment>:<version>`, and which start of it this is."""

    step_id: str
    tries: int

    @property
    def commitment_id(self) -> str:
        return self.step_id.rpartition(":")[0]

    @property
    def version(self) -> int:
        return int(self.step_id.rpartition(":")[2])


@dataclass(frozen=True, slots=True)
class Fired:
    """What became of one claimed step: done (whatever the outcome), or to run again."""

    claimed: Claimed
    retry_in_s: float | None = None
    given_back: bool = False  # not started (the worker is stopping): this start is not counted


class StepDispatcher:
    """Claims due steps `batch_size` at a time and fires each batch's steps concurrently."""

    def __init__(
        self,
        services: Services,
        *,
        batch_size: int,
        poll_delay_s: float,
        lease_ms: int,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        self._services = services
        self._heartbeat = heartbeat or Heartbeat()
        self._redis = services.store.redis
        self._batch_size = batch_size
        self._poll_delay_s = poll_delay_s
        self._lease_ms = lease_ms
        self.fired = 0  # steps handled since start (whatever their outcome)
        self.gate = services.gate
        self._look_ahead = LookAhead(services)  # composes what is due soon while idle
        self._stopping = asyncio.Event()
        self._stopped_at = 0.0

    def stop(self) -> None:
        """Claim no more steps and start no new SMTP transaction; those in flight go on."""
        if not self._stopping.is_set():
            self._stopped_at = asyncio.get_running_loop().time()
            self._stopping.set()
            self.gate.close()

    async def wind_down(self, running: asyncio.Task[None], grace_s: float) -> None:
        """Stop, and wait for `running` (this dispatcher's `run`) until `grace_s` after the
        stop; then cut off the sends still in flight and wait for their outcomes."""
        self.stop()
        left_s = self._stopped_at + grace_s - asyncio.get_running_loop().time()
        done, _ = await asyncio.wait({running}, timeout=max(left_s, 0.0))
        if not done:
            log.warning("sends_cut_off", count=self.gate.cut_off(), grace_s=grace_s)
            done, _ = await asyncio.wait({running}, timeout=CUT_OFF_WAIT_S)
        if done:
            running.result()
            return
        # Stuck outside SMTP (Redis?): their leases bring the steps back; the ledger says
        # what became of their emails.
        log.error("steps_abandoned_at_stop")
        running.cancel()
        await asyncio.wait({running})

    async def run(self) -> None:
        """Fire due steps until stopped; batches in flight are finished first."""
        stop = self._stopping
        slots = asyncio.Semaphore(BATCHES_IN_FLIGHT)
        batches: set[asyncio.Task[None]] = set()
        try:
            while not stop.is_set():
                await slots.acquire()
                if stop.is_set():
                    break
                claimed = await self._claim_or_wait(stop)
                if not claimed:
                    slots.release()
                    continue
                task = asyncio.create_task(self._fire_batch(claimed))
                batches.add(task)

                def batch_done(done: asyncio.Task[None]) -> None:
                    batches.discard(done)
                    slots.release()

                task.add_done_callback(batch_done)
        finally:
            await self._look_ahead.stop()
            if batches:
                await asyncio.gather(*batches, return_exceptions=True)

    async def run_due(self) -> int:
        """Fire everything due now, batch after batch; returns how many steps (tests)."""
        total = 0
        while claimed := await self.claim():
            await self._fire_batch(claimed)
            total += len(claimed)
        return total

    async def claim(self) -> list[Claimed]:
        """Lease up to a batch of due steps to this worker."""
        now_ms = int(time.time() * MS_PER_S)
        reply = await self._redis.eval(  # type: ignore[misc]
            _CLAIM,
            2,
            keys.STEP_SCHEDULE,
            keys.STEP_TRIES,
            str(now_ms),
            str(self._batch_size),
            str(now_ms + self._lease_ms),
        )
        return [Claimed(reply[i].decode(), int(reply[i + 1])) for i in range(0, len(reply), 2)]

    async def _claim_or_wait(self, stop: asyncio.Event) -> list[Claimed]:
        self._heartbeat.beat()  # /readyz: the loop turns (a hung claim stops it)
        try:
            claimed = await self.claim()
        except RedisError as exc:
            log.warning("steps_redis_unavailable", error=type(exc).__name__)
            claimed, delay = [], ERROR_BACKOFF_S
        else:
            delay = self._poll_delay_s
        if not claimed:
            self._look_ahead.start_sweep()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
        return claimed

    async def _fire_batch(self, batch: list[Claimed]) -> None:
        services = self._services
        settling = StepBatch(services.ledger, services.store, len(batch))
        fired = await asyncio.gather(*(self._fire(claimed, settling) for claimed in batch))
        try:
            await self._settle(fired)
        except RedisError as exc:
            # The steps stay leased: they come due again when the lease runs out.
            log.warning("steps_not_settled", error=type(exc).__name__, count=len(fired))
        self.fired += len(fired)
        services.metrics.steps_fired.inc(len(fired))

    async def _fire(self, claimed: Claimed, batch: StepBatch) -> Fired:
        if claimed.tries > MAX_STARTS:
            log.error("step_abandoned", step_id=claimed.step_id, starts=claimed.tries)
            batch.leave()
            return Fired(claimed)
        ctx: dict[str, Any] = {
            "services": self._services,
            "job_id": claimed.step_id,
            "job_try": claimed.tries,
            "batch": batch,
            "gate": self.gate,
        }
        timeout_s = self._services.job_timeout_s
        try:
            # A timeout scope, not wait_for: that would run each step in a second task.
            async with asyncio.timeout(timeout_s):
                await fire_step(ctx, claimed.commitment_id, claimed.version)
        except StepGivenBack:
            log.info("step_given_back", step_id=claimed.step_id)
            return Fired(claimed, 0.0, given_back=True)
        except RetryLater as retry:
            return Fired(claimed, retry.defer_s)
        except TimeoutError:
            # Stuck (an SMTP server that stopped answering): it comes back when its lease
            # (longer than this timeout) runs out; the ledger says what became of its email.
            log.error("step_timed_out", step_id=claimed.step_id, timeout_s=timeout_s)
            return Fired(claimed, self._lease_ms / MS_PER_S)
        except Exception:  # a bug in one step must not stop the others (nor the worker)
            log.exception("step_failed", step_id=claimed.step_id)
        finally:
            batch.leave()
        return Fired(claimed)

    async def _settle(self, fired: list[Fired]) -> None:
        """Forget finished steps (their next step, if any, is already scheduled) and put
        those to retry back at their new time."""
        now_ms = int(time.time() * MS_PER_S)
        done = [item.claimed.step_id for item in fired if item.retry_in_s is None]
        async with self._redis.pipeline(transaction=False) as pipe:
            if done:
                pipe.zrem(keys.STEP_SCHEDULE, *done)
                pipe.hdel(keys.STEP_TRIES, *done)
            for item in fired:
                if item.retry_in_s is not None:
                    at_ms = now_ms + int(item.retry_in_s * MS_PER_S)
                    pipe.eval(_RETRY, 1, keys.STEP_SCHEDULE, item.claimed.step_id, str(at_ms))
                if item.given_back:
                    pipe.hincrby(keys.STEP_TRIES, item.claimed.step_id, -1)
            await pipe.execute()
