"""Counting and printing shared by the scorers: rates, score boards, text comparison, tables."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bench.reading import Context, Reader, Reading

SOFT_SIMILARITY = 0.9  # "close enough" clean text: normalised edit similarity at least this
SLOW_SECONDS = 1.0  # the public parsers' own tests allow one second for a pathological email
_SPACE = re.compile(r"\s+")

# One case's verdict per metric: True passed, False failed, None does not apply; a tuple holds
# several observations (one per commitment of a multi-commitment reply).
Verdict = bool | None | tuple[bool, ...]
Outcome = Mapping[str, Verdict]


@dataclass
class Rate:
    """hits out of total."""

    hits: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.total += 1
        self.hits += int(ok)

    def cell(self, *, misses: bool = False) -> str:
        """'hits/total pct%', or with misses=True the failures: 'misses/total'."""
        if not self.total:
            return "-"
        if misses:
            return f"{self.total - self.hits}/{self.total}"
        return f"{self.hits}/{self.total} {100 * self.hits / self.total:.0f}%"


@dataclass
class Board:
    """Named rows of per-metric rates, in the order rows were first seen."""

    rows: dict[str, dict[str, Rate]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)

    def add(self, row: str, outcome: Outcome) -> None:
        cells = self.rows.setdefault(row, {})
        self.sizes[row] = self.sizes.get(row, 0) + 1
        for metric, verdict in outcome.items():
            for ok in _observations(verdict):
                cells.setdefault(metric, Rate()).add(ok)

    def rate(self, row: str, metric: str) -> Rate:
        return self.rows.get(row, {}).get(metric, Rate())

    def as_json(self) -> dict[str, Any]:
        return {
            row: {"n": self.sizes[row]}
            | {m: {"hits": r.hits, "total": r.total} for m, r in cells.items()}
            for row, cells in self.rows.items()
        }


def _observations(verdict: Verdict) -> tuple[bool, ...]:
    if verdict is None:
        return ()
    if isinstance(verdict, tuple):
        return verdict
    return (verdict,)


@dataclass(frozen=True, slots=True)
class Column:
    """A table column: the metric, its header, and whether to show failures instead of hits."""

    metric: str
    header: str
    misses: bool = False


def render(title: str, board: Board, columns: Sequence[Column], order: Sequence[str]) -> str:
    """A plain-text table: one line per row of `order` present on the board."""
    header = ["", "n", *(c.header for c in columns)]
    lines = [
        [
            row,
            str(board.sizes[row]),
            *(board.rate(row, c.metric).cell(misses=c.misses) for c in columns),
        ]
        for row in order
        if row in board.sizes
    ]
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    out = [title, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    out += [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    ]
    return "\n".join(out)


def normalise(text: str) -> str:
    """Every run of whitespace one space, ends stripped: how clean texts are compared."""
    return _SPACE.sub(" ", text).strip()


def similarity(a: str, b: str) -> float:
    """1 - Levenshtein distance / longer length, on normalised texts (1.0 for two empties).

    When the lengths alone rule out SOFT_SIMILARITY, returns that upper bound unrefined.
    """
    a, b = normalise(a), normalise(b)
    longest = max(len(a), len(b))
    if not longest:
        return 1.0
    bound = 1 - abs(len(a) - len(b)) / longest
    if bound < SOFT_SIMILARITY:
        return bound
    return 1 - _levenshtein(a, b) / longest


def _levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def timed_read(reader: Reader, raw: bytes, context: Context) -> tuple[Reading, float]:
    """The reader's reading and the seconds it took; a raising reader reads as kind 'error'."""
    start = time.perf_counter()
    try:
        reading = reader(raw, context)
    except Exception as exc:  # a crash is a result to report, not a reason to stop scoring
        reading = Reading(kind="error", text=f"{type(exc).__name__}: {exc}")
    return reading, time.perf_counter() - start


def brief(value: object, limit: int = 160) -> str:
    """A one-line repr for failure listings."""
    if isinstance(value, date):
        return value.isoformat()
    text = normalise(value) if isinstance(value, str) else value
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def brief_texts(expected: str, got: str, keep: int = 30) -> tuple[str, str]:
    """Both texts normalised, their long shared start elided to show where they part."""
    a, b = normalise(expected), normalise(got)
    shared = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    cut = max(0, shared - keep)
    mark = "…" if cut else ""
    return brief(mark + a[cut:]), brief(mark + b[cut:])
