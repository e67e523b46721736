"""Checking producers' JSON lines one by one: what `coachd emit` and POST /events share."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from jobs.events import MAX_EVENT_BYTES, Event, EventRejected, parse_event


@dataclass(frozen=True, slots=True)
class CheckedLine:
    """One non-blank input line, numbered as in the input, and what checking it found."""

    number: int
    raw: bytes
    checked: Event | str  # the event, or the exact reason it is refused

    @property
    def event(self) -> Event | None:
        return None if isinstance(self.checked, str) else self.checked

    @property
    def reason(self) -> str | None:
        return self.checked if isinstance(self.checked, str) else None


def check_line(raw: bytes) -> Event | str:
    """The event in a raw line, or why it cannot be published (the dead letter's reason)."""
    if len(raw) > MAX_EVENT_BYTES:
        return f"event is {len(raw)} bytes; the limit is {MAX_EVENT_BYTES}"
    try:
        return parse_event(raw)
    except EventRejected as exc:
        return exc.reason


def checked_lines(lines: Iterable[bytes]) -> Iterator[CheckedLine]:
    """Each non-blank line, stripped, numbered from 1 as in the input (blank lines count)."""
    for number, line in enumerate(lines, start=1):
        raw = line.strip()
        if not raw:
            continue
        yield CheckedLine(number, raw, check_line(raw))
