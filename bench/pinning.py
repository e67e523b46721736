"""Which cores the benchmark's SMTP sink and sender run on, when the machine has cores to spare.

The raw aiosmtplib reference is only a client's figure if the sink is not the bottleneck: on a
shared core the sink's CPU (0.7-0.9 ms per message on a small box) is what "raw" measures. So
the sink gets a core of its own, the sending process another, and Redis (with everything else)
the rest. With fewer cores than that the report says so instead of pretending.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

# The sender, the sink and Redis each need a core for the sink to have one to itself.
CORES_NEEDED = 3


@dataclass(frozen=True)
class Pinning:
    """Cores for each process (None: not pinned) and the sentence the report prints."""

    sink: frozenset[int] | None
    sender: frozenset[int] | None
    rest: frozenset[int] | None
    note: str


def usable_cpus() -> frozenset[int]:
    """The cores this process may run on (empty where the platform cannot pin)."""
    if not hasattr(os, "sched_setaffinity"):
        return frozenset()
    return frozenset(os.sched_getaffinity(0))


def plan_pinning(cpus: frozenset[int]) -> Pinning:
    """Sink on the first core, sender on the second, the rest for Redis; or why not."""
    if not cpus:
        return Pinning(None, None, None, "not pinned: this platform cannot pin processes")
    if len(cpus) < CORES_NEEDED:
        return Pinning(
            None,
            None,
            None,
            f"not pinned: {len(cpus)} CPU(s) here, and the SMTP sink, the sender and Redis "
            f"need {CORES_NEEDED} for the sink to have a core of its own (they share)",
        )
    sink, sender, *rest = sorted(cpus)
    note = f"SMTP sink pinned to CPU {sink}, sender to CPU {sender}, Redis to CPUs {rest}"
    return Pinning(frozenset({sink}), frozenset({sender}), frozenset(rest), note)


def pin(pid: int, cpus: frozenset[int] | None) -> None:
    """Keep process `pid` (0: this one) on `cpus`; None leaves it where it may run."""
    if cpus is not None:
        os.sched_setaffinity(pid, cpus)


@contextlib.contextmanager
def pinned(cpus: frozenset[int] | None) -> Iterator[None]:
    """This process on `cpus` for the block only: child processes started later (workers,
    fillers) must not inherit a single core."""
    if cpus is None:
        yield
        return
    before = os.sched_getaffinity(0)
    pin(0, cpus)
    try:
        yield
    finally:
        pin(0, frozenset(before))
