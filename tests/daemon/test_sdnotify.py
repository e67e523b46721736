"""systemd's notify protocol: READY=1 once both loops have turned, WATCHDOG=1 pings at half the
interval, STOPPING=1 on the way out; a real `coachd run` under a stand-in for systemd's socket."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.heartbeat import Heartbeats
from daemon.sdnotify import Notifier, systemd_notifications, watchdog_interval_s
from tests.helpers import procs
from tests.helpers.smtp import SmtpTestServer


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[socket.socket]:
    """What systemd listens on: a datagram socket at a path."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    sock.settimeout(0.05)
    yield sock
    sock.close()


def received(sock: socket.socket, until: float, count: int | None = None) -> list[str]:
    """The states sent to `sock` before the monotonic time `until` (or the first `count`)."""
    states: list[str] = []
    while time.monotonic() < until and len(states) != count:
        try:
            states.append(sock.recv(4096).decode())
        except TimeoutError:
            continue
    return states


def test_the_watchdog_interval_is_half_of_systemds_and_only_for_this_process() -> None:
    mine = str(os.getpid())

    assert watchdog_interval_s({"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": mine}) == 1.5
    assert watchdog_interval_s({"WATCHDOG_USEC": "3000000"}) == 1.5
    assert watchdog_interval_s({"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "0"}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "soon"}) is None
    assert watchdog_interval_s({}) is None


def test_an_abstract_socket_name_is_reached(tmp_path: Path) -> None:
    name = f"coachd-test-{os.getpid()}-{tmp_path.name}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        Notifier("@" + name).notify("READY=1")
        assert sock.recv(64) == b"READY=1"


def test_a_socket_that_is_gone_is_logged_not_raised(tmp_path: Path) -> None:
    Notifier(str(tmp_path / "nobody-listens")).notify("READY=1")  # no exception


async def test_ready_waits_for_both_loops_then_pings_and_says_stopping(
    notify_socket: socket.socket,
) -> None:
    heartbeats = Heartbeats()
    env = {"NOTIFY_SOCKET": notify_socket.getsockname(), "WATCHDOG_USEC": "100000"}
    async with systemd_notifications(heartbeats, env):
        heartbeats.consumer.beat()
        await asyncio.sleep(0.2)
        assert received(notify_socket, time.monotonic()) == []  # the dispatcher has not turned
        heartbeats.dispatcher.beat()
        await asyncio.sleep(0.3)
    states = received(notify_socket, time.monotonic() + 0.1)

    assert states[0] == "READY=1"
    assert states[-1] == "STOPPING=1"
    assert set(states[1:-1]) == {"WATCHDOG=1"} and len(states[1:-1]) >= 3


async def test_without_notify_socket_nothing_is_sent() -> None:
    async with systemd_notifications(Heartbeats(), {"WATCHDOG_USEC": "100000"}) as notifier:
        assert not notifier.enabled


@pytest.mark.integration
def test_coachd_run_says_ready_pings_the_watchdog_and_says_stopping(
    redis_url: str, smtp_server: SmtpTestServer, tmp_path: Path, notify_socket: socket.socket
) -> None:
    env = procs.daemon_env(tmp_path, redis_url, smtp_server.host, smtp_server.port)
    env |= {"NOTIFY_SOCKET": notify_socket.getsockname(), "WATCHDOG_USEC": "1000000"}
    with procs.CoachdProcess(env, tmp_path / "daemon.log") as daemon:
        started = received(notify_socket, time.monotonic() + procs.WAIT_S, count=3)
        assert started[:1] == ["READY=1"], daemon.log_text()
        assert started[1:] == ["WATCHDOG=1", "WATCHDOG=1"]
        daemon.stop(timeout=procs.WAIT_S)
    assert daemon.returncode == 0
    assert received(notify_socket, time.monotonic() + 0.2)[-1:] == ["STOPPING=1"]
