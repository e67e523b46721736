"""A batch of steps fired together settles together: ledger outcomes, then state, in bulk.

Steps of one batch send at different moments (an SMTP pool serialises them), so waiting
for "the same loop turn" would settle them one by one. A batch knows how many of its steps
are still running; once every one of them is waiting to settle (or has ended), all their
outcomes go in one pipeline and all their state changes in one transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from daemon.outbound.ledger import LedgerOutcome, SendLedger
from daemon.store.changes import Finish
from daemon.store.commitments import Store

# A step stuck longer than this (an SMTP timeout) does not hold up the others' settling.
MAX_WAIT_S = 0.5


@dataclass(frozen=True, slots=True)
class Settlement:
    """What a fired step leaves behind: outcomes for the ledger first, then its (and its
    companions') commitments moved on. If we die in between, a re-run finds the outcome."""

    outcomes: tuple[LedgerOutcome, ...] = ()
    finishes: tuple[Finish, ...] = ()


async def settle_all(ledger: SendLedger, store: Store, settlements: Sequence[Settlement]) -> None:
    await ledger.record_all([o for s in settlements for o in s.outcomes])
    await store.finish_all([f for s in settlements for f in s.finishes])


class StepBatch:
    """The settling point of `size` steps fired side by side (see the module docstring)."""

    def __init__(
        self, ledger: SendLedger, store: Store, size: int, *, max_wait_s: float = MAX_WAIT_S
    ) -> None:
        self._ledger = ledger
        self._store = store
        self._running = size
        self._max_wait_s = max_wait_s
        self._waiting: list[tuple[Settlement, asyncio.Future[None]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Task[None]] = set()

    async def settle(self, settlement: Settlement) -> None:
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((settlement, future))
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._max_wait_s, self._flush)
        self._flush_if_all_waiting()
        await future

    def leave(self) -> None:
        """One step of the batch has ended (settled or not)."""
        self._running -= 1
        self._flush_if_all_waiting()

    def _flush_if_all_waiting(self) -> None:
        if self._waiting and len(self._waiting) >= self._running:
            self._flush()

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._waiting = self._waiting, []
        if batch:
            task = asyncio.create_task(self._settle(batch))
            self._flushes.add(task)  # a reference, so the task is not collected mid-flight
            task.add_done_callback(self._flushes.discard)

    async def _settle(self, batch: list[tuple[Settlement, asyncio.Future[None]]]) -> None:
        try:
            await settle_all(self._ledger, self._store, [s for s, _ in batch])
        except Exception as exc:  # each step handles it as its own (e.g. Redis went away)
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for _, future in batch:
            if not future.done():
                future.set_result(None)
