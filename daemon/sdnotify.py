"""systemd's notify protocol (`Type=notify`, `WatchdogSec=`), without a libsystemd binding.

systemd names a datagram socket in `NOTIFY_SOCKET` (a path, or `@name` in the abstract
namespace) and, with `WatchdogSec=`, the interval in `WATCHDOG_USEC`. coachd says `READY=1`
once the inbox consumer and the step dispatcher have each turned once (so `systemctl start`
returns when coachd is really working), then `WATCHDOG=1` at half the interval from a task on
the event loop: a loop blocked for the whole interval misses its pings, and systemd restarts
the process. A Redis outage does not stop the pings (restarting coachd would not bring Redis
back; `/readyz` reports it instead). `STOPPING=1` goes out as coachd winds down.

Without `NOTIFY_SOCKET` (not under systemd, or `Type=exec`) everything here does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Mapping

import structlog

from daemon.heartbeat import Heartbeats

log = structlog.get_logger(__name__)

READY_POLL_S = 0.05  # how often to look whether both loops have turned, before READY=1


class Notifier:
    """Sends notify-protocol states to systemd's socket; does nothing without one."""

    def __init__(self, address: str | None) -> None:
        # A leading "@" is the abstract namespace, written as a NUL byte on the wire.
        self._address = "\0" + address[1:] if address and address.startswith("@") else address

    @property
    def enabled(self) -> bool:
        return bool(self._address)

    def notify(self, state: str) -> None:
        """Send one state line; a socket that is gone is logged, never raised."""
        if not self._address:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(state.encode(), self._address)
        except OSError as error:
            log.warning("sd_notify_failed", state=state, error=str(error))


def watchdog_interval_s(environ: Mapping[str, str]) -> float | None:
    """Half of systemd's watchdog timeout, or None if it is off or meant for another process."""
    usec, pid = environ.get("WATCHDOG_USEC"), environ.get("WATCHDOG_PID")
    if not usec or not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid.isdigit() and int(pid) != os.getpid():
        return None  # set for a parent that exec'd us under another pid
    return int(usec) / 1_000_000 / 2


async def _ready_then_ping(
    notifier: Notifier, heartbeats: Heartbeats, interval_s: float | None
) -> None:
    while heartbeats.consumer.age_s() is None or heartbeats.dispatcher.age_s() is None:
        await asyncio.sleep(READY_POLL_S)
    notifier.notify("READY=1")
    log.info("sd_notify_ready", watchdog_interval_s=interval_s)
    while interval_s is not None:
        notifier.notify("WATCHDOG=1")
        await asyncio.sleep(interval_s)


@contextlib.asynccontextmanager
async def systemd_notifications(
    heartbeats: Heartbeats, environ: Mapping[str, str] | None = None
) -> AsyncIterator[Notifier]:
    """READY=1 once both loops have turned, WATCHDOG=1 pings while inside, STOPPING=1 after."""
    env = os.environ if environ is None else environ
    notifier = Notifier(env.get("NOTIFY_SOCKET"))
    if not notifier.enabled:
        yield notifier
        return
    task = asyncio.create_task(_ready_then_ping(notifier, heartbeats, watchdog_interval_s(env)))
    try:
        yield notifier
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        notifier.notify("STOPPING=1")
