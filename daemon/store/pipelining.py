"""Coalescing: what many concurrent tasks ask of Redis in one event-loop turn goes as one batch.

The dispatcher fires a batch of steps side by side, each written as plain sequential code
(load, reserve, claim, finish). Each task's Redis call waits here until the end of the
current loop turn; then every call queued meanwhile is sent in one pipeline (or one
transaction), and the tasks wake together, so their next calls coalesce too. Sequential
code, pipelined cost: a step pays a few commands' packing, not a few round trips.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from redis.asyncio import Redis

Request = TypeVar("Request")
Result = TypeVar("Result")


class Coalescer(Generic[Request, Result]):
    """Collects requests made in one loop turn and hands them to `run_batch` together.

    `run_batch` returns one result per request, in order; a result that is an exception
    is raised in its own caller only. If `run_batch` itself raises, every caller in the
    batch gets that error.
    """

    def __init__(self, run_batch: Callable[[list[Request]], Awaitable[Sequence[Any]]]) -> None:
        self._run_batch = run_batch
        self._queued: list[tuple[Request, asyncio.Future[Result]]] = []
        self._flushes: set[asyncio.Task[None]] = set()

    async def submit(self, request: Request) -> Result:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        if not self._queued:
            loop.call_soon(self._flush)
        self._queued.append((request, future))
        return await future

    def _flush(self) -> None:
        batch, self._queued = self._queued, []
        task = asyncio.create_task(self._deliver(batch))
        self._flushes.add(task)  # a reference, so the task is not collected mid-flight
        task.add_done_callback(self._flushes.discard)

    async def _deliver(self, batch: list[tuple[Request, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._run_batch([request for request, _ in batch])
        except BaseException as exc:  # handed to every waiting caller
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # its caller was cancelled meanwhile
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)


Command = tuple[Any, ...]


class AutoPipeline:
    """Redis commands from concurrent tasks, sent as one non-transactional pipeline per turn.

    Only for commands that are correct in any interleaving (reads, SET NX, Lua scripts):
    a pipeline is not a transaction.
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._commands: Coalescer[Command, Any] = Coalescer(self._run)

    async def execute(self, *args: Any) -> Any:
        """Run one command (redis-py's reply parsing applies, as for `execute_command`)."""
        return await self._commands.submit(args)

    async def hgetall(self, key: str) -> dict[bytes, bytes]:
        result: dict[bytes, bytes] = await self.execute("HGETALL", key)
        return result

    async def eval(self, script: str, keys: Sequence[str], args: Sequence[str | int]) -> Any:
        # EVAL, not EVALSHA: Redis caches the compiled script by its text's hash anyway, and
        # a restarted Redis (empty script cache) needs no NOSCRIPT round trip.
        return await self.execute("EVAL", script, len(keys), *keys, *args)

    async def _run(self, commands: list[Command]) -> list[Any]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for command in commands:
                pipe.execute_command(*command)
            results: list[Any] = await pipe.execute(raise_on_error=False)
        return results
