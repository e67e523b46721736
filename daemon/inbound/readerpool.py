"""Reading inbound messages off the event loop: in a small pool of its own, under a time limit.

A thread cannot be stopped: a read that outlives its limit runs on to its end. In the loop's
default executor such reads would pile up beside everything else that runs in threads (POST
/events checks, template renders), each holding a parsed message; here at most
`READER_THREADS` reads run at once, whatever was sent, and the next wait their turn.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import structlog

log = structlog.get_logger(__name__)

T = TypeVar("T")

# Reading is CPU work under the GIL: more threads would add memory in flight, not speed.
# Two, so that one slow message does not make every other wait.
READER_THREADS = 2
_READERS = ThreadPoolExecutor(max_workers=READER_THREADS, thread_name_prefix="coachd-reader")


async def read_off_loop(
    timeout_s: float, read: Callable[..., T], *args: Any, **kwargs: Any
) -> T | None:
    """`read(*args, **kwargs)` in the reader pool; None when it did not finish within
    `timeout_s` (waiting for a free reader included: a read not yet begun is dropped)."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout_s):
            return await loop.run_in_executor(_READERS, functools.partial(read, *args, **kwargs))
    except TimeoutError:
        log.warning("reply_read_timed_out", timeout_s=timeout_s, reader=read.__name__)
        return None
