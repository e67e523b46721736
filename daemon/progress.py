"""Progress of a long command: a bar on a terminal, else nothing until its summary line.

The bar is tqdm's, imported only when one is drawn (`coachd --help` and every command off a
terminal never load it). While it is drawn, log lines are written above it rather than
through it: both log writers look up `sys.stderr` at each line (daemon.logs).
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, TextIO, TypeVar

if TYPE_CHECKING:
    from tqdm import tqdm

T = TypeVar("T")
MS_BELOW_S = 0.1  # a shorter time reads better in milliseconds


class Progress(Protocol):
    """What a long command tells as it goes: how much more is done, and what it is doing."""

    def advance(self, amount: int = 1) -> None: ...

    def describe(self, text: str) -> None: ...


class _Unseen:
    """Off a terminal: the command prints its one summary line when done, nothing before."""

    def advance(self, amount: int = 1) -> None:
        pass

    def describe(self, text: str) -> None:
        pass


class _Bar:
    def __init__(self, bar: tqdm[Any]) -> None:
        self._bar = bar

    def advance(self, amount: int = 1) -> None:
        total = self._bar.total
        self._bar.update(capped(amount, int(self._bar.n), None if total is None else int(total)))

    def describe(self, text: str) -> None:
        self._bar.set_description_str(text)


class _AboveBar(io.TextIOBase):
    """A stand-in for stderr while a bar is drawn: each write clears the bar, writes, and
    draws the bar again below it."""

    def __init__(self, terminal: TextIO) -> None:
        super().__init__()
        self._terminal = terminal

    def write(self, text: str) -> int:
        from tqdm import tqdm  # noqa: PLC0415 - loaded already: a bar is drawn

        tqdm.write(text, file=self._terminal, end="")
        return len(text)

    def flush(self) -> None:
        self._terminal.flush()

    def isatty(self) -> bool:
        return True


@contextlib.contextmanager
def progress(
    desc: str,
    total: int | None = None,
    *,
    unit: str = "it",
    unit_scale: bool = False,
    stream: TextIO | None = None,
) -> Iterator[Progress]:
    """A bar on `stream` (stderr) for the block if it is a terminal; else a silent stand-in.

    `total` None draws a counter without an end; `unit_scale` shows 1.2M rather than 1200000.
    The bar is wiped when the block ends, so the command's summary line stands alone.
    """
    terminal = stream or sys.stderr
    if not terminal.isatty():
        yield _Unseen()
        return
    from tqdm import tqdm  # noqa: PLC0415 - only a terminal pays for the import

    bar = tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=unit_scale,
        file=terminal,
        leave=False,
        dynamic_ncols=True,
    )
    try:
        if terminal is not sys.stderr:
            yield _Bar(bar)
            return
        with contextlib.redirect_stderr(_AboveBar(terminal)):
            yield _Bar(bar)
    finally:
        bar.close()


def capped(amount: int, done: int, total: int | None) -> int:
    """How far to advance: an estimate (migrate's keys looked at) stops at the end."""
    return amount if total is None else max(min(amount, total - done), 0)


def counted(items: Iterable[T], bar: Progress, size: Callable[[T], int]) -> Iterator[T]:
    """`items` as they are, each advancing `bar` by its `size` as it is handed on."""
    for item in items:
        bar.advance(size(item))
        yield item


def took(seconds: float) -> str:
    """How long something took, for a summary line: "12 ms", "1.2 s"."""
    if seconds < MS_BELOW_S:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.1f} s"
