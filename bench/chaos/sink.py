"""The chaos SMTP sink in its own process: faults at random, and a record of what it kept.

The harness asks it over a pipe which client ports have a transaction open (to kill a
worker mid-send), what it accepted, and how many faults of each kind it injected.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from dataclasses import asdict
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any, Self

from aiosmtpd.smtp import SMTP

from bench.chaos.faults import Accepted, ChaosSMTP, Faults, Hold, RecordingHandler
from daemon.demo.smtpsink import LocalSmtpServer

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
OPEN_PORTS, ACCEPTED, INJECTED, STOP_FAULTS, STOP = "open", "accepted", "injected", "calm", "stop"
HOLD = "hold:"  # + a Hold value


class _ChaosServer(LocalSmtpServer):
    def factory(self) -> SMTP:
        return ChaosSMTP(self.handler, **self.SMTP_kwargs)


def _answer(faults: Faults, request: str) -> Any:
    if request == OPEN_PORTS:
        return faults.open_ports()
    if request == ACCEPTED:
        return [asdict(a) for a in faults.snapshot()[0]]
    if request == INJECTED:
        return faults.snapshot()[1]
    if request == STOP_FAULTS:
        faults.stop()
    if request.startswith(HOLD):
        faults.hold_next(Hold(request.removeprefix(HOLD)))
    return None


def serve(conn: Connection, seed: int, rate: float) -> None:
    """The sink process: start the server, send its port, answer requests until STOP."""
    faults = Faults(seed, rate)
    controller = _ChaosServer(RecordingHandler(faults))
    controller.start()
    try:
        conn.send(int(controller.port))
        while (request := conn.recv()) != STOP:
            conn.send(_answer(faults, request))
    finally:
        controller.stop()
        conn.close()


class ChaosSink:
    """Starts the sink in a child process; `port` is where it listens once entered."""

    def __init__(self, seed: int, rate: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=serve, args=(child, seed, rate), name="coachd-chaos-sink"
        )
        self.port = 0

    def _ask(self, request: str) -> Any:
        self._conn.send(request)
        return self._conn.recv()

    def open_ports(self) -> set[int]:
        """Client ports whose transaction (MAIL to the answer to the dot) is still open."""
        ports: set[int] = self._ask(OPEN_PORTS)
        return ports

    def accepted(self) -> list[Accepted]:
        return [Accepted(**item) for item in self._ask(ACCEPTED)]

    def injected(self) -> dict[str, int]:
        counts: dict[str, int] = self._ask(INJECTED)
        return counts

    def hold_next(self, hold: Hold) -> None:
        """Hold the next transaction open (see faults.Hold)."""
        self._ask(HOLD + hold.value)

    def stop_faults(self) -> None:
        self._ask(STOP_FAULTS)

    def __enter__(self) -> Self:
        self._process.start()
        if not self._conn.poll(START_TIMEOUT_S):
            self._process.kill()
            raise RuntimeError("the chaos SMTP sink did not start")
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
