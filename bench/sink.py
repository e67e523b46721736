"""The benchmark's SMTP sink: an aiosmtpd server in its own process that counts what it accepts.

It runs in a separate process so its CPU is not the measured process's (pinned to a core of its
own where the machine has one, bench.pinning): the benchmark asks it over a pipe how many
messages it accepted, when the last one arrived and how much CPU it has used.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Self

from aiosmtpd.smtp import SMTP, Envelope, Session

from bench.pinning import pin
from daemon.demo.smtpsink import LocalSmtpServer

STATS = "stats"
STOP = "stop"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


class CountingHandler:
    """Accepts every message with 250 and counts it; keeps nothing else.

    It offers PIPELINING (RFC 2920) as production MTAs do; aiosmtpd itself does not say so
    but reads commands in order, which is all pipelining asks of it.
    """

    def __init__(self) -> None:
        self.pipelining = os.environ.get("BENCH_SINK_PIPELINING", "1") != "0"
        self.count = 0
        self.last_at = 0.0
        self._lock = threading.Lock()

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        return [responses[0], "250-PIPELINING", *responses[1:]] if self.pipelining else responses

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:
            self.count += 1
            self.last_at = time.time()
        return "250 OK"

    def stats(self) -> tuple[int, float]:
        with self._lock:
            return self.count, self.last_at


def serve(conn: Connection, cpus: frozenset[int] | None) -> None:
    """The sink process: start the server, send its port, answer STATS until STOP."""
    pin(0, cpus)  # before the server's thread starts, so it inherits the core
    handler = CountingHandler()
    controller = LocalSmtpServer(handler)
    controller.start()
    try:
        conn.send(int(controller.port))
        while (request := conn.recv()) != STOP:
            if request == STATS:
                # CPU of the whole process (the server runs in a thread), for CPU per message.
                conn.send((*handler.stats(), time.process_time()))
    finally:
        controller.stop()
        conn.close()


@dataclass(frozen=True)
class SinkStats:
    count: int
    last_at: float  # wall-clock time of the last accepted message (0 if none)
    cpu_s: float  # CPU seconds the sink process has used so far


class SinkProcess:
    """Starts the sink in a child process; `port` is where it listens."""

    def __init__(self, cpus: frozenset[int] | None = None) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=serve, args=(child, cpus), name="coachd-bench-sink")
        self.port = 0

    def stats(self) -> SinkStats:
        self._conn.send(STATS)
        count, last_at, cpu_s = self._conn.recv()
        return SinkStats(int(count), float(last_at), float(cpu_s))

    def __enter__(self) -> Self:
        self._process.start()
        if not self._conn.poll(START_TIMEOUT_S):
            self._process.kill()
            raise RuntimeError("the benchmark's SMTP sink did not start")
        self.port = int(self._conn.recv())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with contextlib.suppress(OSError):  # already gone
            self._conn.send(STOP)
        self._process.join(STOP_TIMEOUT_S)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._conn.close()
