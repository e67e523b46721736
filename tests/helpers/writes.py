"""Recording the socket writes of a test's own event loop, in order (for tests of what leaves
in which write: pipelined commands, commit marks beside final dots)."""

from __future__ import annotations

import threading
from asyncio.selector_events import _SelectorSocketTransport
from collections.abc import Iterator
from typing import Any

import pytest


class Writes:
    """Every socket write this test's event loop makes (aiosmtpd writes on its own thread)."""

    def __init__(self) -> None:
        self.seen: list[bytes] = []
        self._thread = threading.current_thread()

    def record(self, data: Any) -> None:
        if threading.current_thread() is self._thread:
            self.seen.append(bytes(data))

    def since(self, start: int) -> list[bytes]:
        return self.seen[start:]


def recording_writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Writes]:
    """The body of a `writes` fixture: asyncio's socket transport records what it writes."""
    recorder = Writes()
    original = _SelectorSocketTransport.write

    def write(transport: _SelectorSocketTransport, data: Any) -> None:
        recorder.record(data)
        original(transport, data)

    monkeypatch.setattr(_SelectorSocketTransport, "write", write)
    yield recorder
