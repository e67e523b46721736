"""Heartbeats: the monotonic time each long-running loop last turned, for `/readyz` to read."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


class Heartbeat:
    """A monotonic timestamp the loop it belongs to renews on each turn."""

    def __init__(self) -> None:
        self._last: float | None = None

    def beat(self) -> None:
        self._last = time.monotonic()

    def age_s(self) -> float | None:
        """Seconds since the last beat; None if the loop never ran."""
        return None if self._last is None else time.monotonic() - self._last


@dataclass(frozen=True)
class Heartbeats:
    """One heartbeat per loop `/readyz` watches: the inbox consumer and the step dispatcher."""

    consumer: Heartbeat = field(default_factory=Heartbeat)
    dispatcher: Heartbeat = field(default_factory=Heartbeat)
