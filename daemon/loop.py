"""The event loop `coachd run` (and the benchmark) runs on: uvloop when it is installed.

uvloop (`pip install 'coachd[fast]'`) is an optional extra: in `coachd bench` it raises the
delivery rate, while coachd's CPU per email did not clearly fall (issue 17's closing note has
the figures); without it asyncio's own loop does the same work. `coachd run` keeps asyncio
when the SMTP/LMTP receiver is on (see daemon.commands.run). The start-up line names the loop
in use (`event_loop`).
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Coroutine
from types import ModuleType
from typing import Any, TypeVar

from daemon.errors import CoachdError

ASYNCIO = "asyncio"
UVLOOP = "uvloop"
LOOPS = (ASYNCIO, UVLOOP)
INSTALL_HINT = "pip install 'coachd[fast]'"

T = TypeVar("T")


class LoopUnavailableError(CoachdError):
    """Raised when uvloop is asked for by name but is not installed."""

    def __init__(self, name: str) -> None:
        super().__init__(f"event loop {name!r} is not installed ({INSTALL_HINT})")
        self.name = name


def _uvloop() -> ModuleType | None:
    try:
        return importlib.import_module(UVLOOP)
    except ImportError:
        return None


def available_loop() -> str:
    """The loop `coachd run` uses: uvloop when importable, else asyncio's."""
    return UVLOOP if _uvloop() is not None else ASYNCIO


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """What `asyncio.Runner` builds its loop with (None: asyncio's default loop)."""
    if name == ASYNCIO:
        return None
    module = _uvloop()
    if name != UVLOOP or module is None:
        raise LoopUnavailableError(name)
    factory: Callable[[], asyncio.AbstractEventLoop] = module.new_event_loop
    return factory


def run(main: Coroutine[Any, Any, T], name: str | None = None) -> T:
    """`asyncio.run(main)` on the loop `name` (default: the one `available_loop` picks)."""
    try:
        factory = loop_factory(name or available_loop())
    except LoopUnavailableError:
        main.close()  # never started: no "coroutine was never awaited" warning
        raise
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)


def running_loop() -> str:
    """The name of the loop this coroutine runs on, for the start-up line and the bench."""
    module = type(asyncio.get_running_loop()).__module__
    return UVLOOP if module.split(".")[0] == UVLOOP else ASYNCIO
