"""The benchmark's child processes: coachd worker processes, and fillers that build a backlog."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Self

from bench.fixtures import (
    BenchEnv,
    coachd_dispatcher,
    coachd_services,
    dispatching,
    pending_events,
)
from bench.paths import ingest
from daemon import loop
from daemon.logs import configure_logging
from daemon.outbound.mailer import NullMailer

READY = "ready"
STOP = "stop"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
# Backlog events are published and applied (the inbox's batched path) this many at a time.
FILL_CHUNK = 20_000


def worker_process(conn: Connection, env: BenchEnv) -> None:
    """A `coachd run`-like worker process: fires steps into the sink until told to stop."""
    configure_logging("json", "WARNING")
    loop.run(_serve_worker(conn, env), env.event_loop)


async def _serve_worker(conn: Connection, env: BenchEnv) -> None:
    async with (
        coachd_services(env, env.mailer()) as services,
        dispatching(coachd_dispatcher(services, env)),
    ):
        conn.send(READY)
        await asyncio.to_thread(conn.recv)
    conn.close()


class WorkerProcesses:
    """`count` worker processes on the bench Redis; entering waits until all of them poll."""

    def __init__(self, env: BenchEnv, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._conns: list[Connection] = []
        self._processes: list[BaseProcess] = []
        for n in range(count):
            parent, child = context.Pipe()
            self._conns.append(parent)
            self._processes.append(
                context.Process(target=worker_process, args=(child, env), name=f"bench-worker-{n}")
            )

    def __enter__(self) -> Self:
        for process in self._processes:
            process.start()
        for conn in self._conns:
            if not conn.poll(START_TIMEOUT_S) or conn.recv() != READY:
                raise RuntimeError("a benchmark worker process did not start")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for conn in self._conns:
            with contextlib.suppress(OSError):  # that child is already gone
                conn.send(STOP)
        for process in self._processes:
            process.join(STOP_TIMEOUT_S)
            if process.is_alive():
                process.kill()
                process.join()
        for conn in self._conns:
            conn.close()


def fill_process(env: BenchEnv, prefix: str, start: int, stop: int, now: datetime) -> None:
    """Create pending commitments `prefix<start>` … `prefix<stop - 1>` through the inbox."""
    configure_logging("json", "WARNING")
    asyncio.run(_fill(env, prefix, start, stop, now))


async def _fill(env: BenchEnv, prefix: str, start: int, stop: int, now: datetime) -> None:
    async with coachd_services(env, NullMailer()) as services:
        for lo in range(start, stop, FILL_CHUNK):
            events = pending_events(prefix, lo, min(lo + FILL_CHUNK, stop), now)
            await ingest(services.store, events, f"fill-{start}")


def fill_backlog(
    env: BenchEnv, prefix: str, span: tuple[int, int], now: datetime, processes: int
) -> None:
    """Fill in parallel processes (setup, not measured: a backlog of 1M takes a while)."""
    context = multiprocessing.get_context("spawn")
    start, stop = span
    bounds = [start + (stop - start) * k // processes for k in range(processes + 1)]
    children = [
        context.Process(target=fill_process, args=(env, prefix, lo, hi, now))
        for lo, hi in itertools.pairwise(bounds)
        if hi > lo
    ]
    for child in children:
        child.start()
    for child in children:
        child.join()
    failed = [c.exitcode for c in children if c.exitcode != 0]
    if failed:
        raise RuntimeError(f"a backlog filler failed (exit codes {failed})")
