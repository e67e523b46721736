"""Publishing a checked POST /events batch in one transaction, each event id queued once.

The inbox applies an event once whatever happens (its apply transaction checks the applied
mark), so this is not what keeps the state right: it is what lets a producer's retry be
answered "duplicate" and keeps retried batches from piling up in the inbox.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import TypeAdapter, ValidationError
from redis.asyncio import Redis

from daemon.inbox.deadletters import queue_line_dead_letter
from daemon.inbox.lines import CheckedLine
from daemon.store import keys
from jobs.events import Identifier

DOOR = "http"  # dead letters' source: "http line <n>"
# KEYS: the inbox, then per event its applied mark and its posted mark. ARGV: the posted
# mark's TTL, the inbox's cap, then the events. Returns 1 (queued) or 0 (a duplicate) each.
# A script, so that a mark is never set without its XADD, nor the XADD done twice.
_QUEUE_ONCE = """
local queued = {}
for i = 3, #ARGV do
  local seen, posted = KEYS[2 * i - 4], KEYS[2 * i - 3]
  if redis.call('EXISTS', seen) == 0
      and redis.call('SET', posted, '1', 'NX', 'EX', ARGV[1]) then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'event', ARGV[i])
    queued[#queued + 1] = 1
  else
    queued[#queued + 1] = 0
  end
end
return queued
"""
_IDENTIFIER: TypeAdapter[str] = TypeAdapter(Identifier)


class Result(StrEnum):
    """What became of one line of a POST /events body."""

    ACCEPTED = "accepted"  # queued in the inbox
    DUPLICATE = "duplicate"  # its event id was queued or applied before: not queued again
    REJECTED = "rejected"  # invalid: dead-lettered with `reason`


@dataclass(frozen=True, slots=True)
class LineResult:
    line: int
    event_id: str | None
    result: Result
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"line": self.line, "event_id": self.event_id}
        shown["result"] = self.result.value
        if self.reason is not None:
            shown["reason"] = self.reason
        return shown


async def publish_once(redis: Redis, lines: list[CheckedLine]) -> list[LineResult]:
    """Queue the valid lines' events whose ids are new, and dead-letter the invalid lines,
    in one MULTI: a request is taken whole or (on a Redis error) not at all."""
    events = [line.event for line in lines if line.event is not None]
    async with redis.pipeline(transaction=True) as pipe:
        if events:
            marks = [mark for event in events for mark in _marks(event.event_id)]
            ttl, cap = str(keys.EVENT_POSTED_TTL_S), str(keys.INBOX_MAX_LEN)
            raws: list[Any] = [line.raw for line in lines if line.event is not None]
            pipe.eval(_QUEUE_ONCE, 1 + len(marks), keys.INBOX_STREAM, *marks, ttl, cap, *raws)
        for line in lines:
            if line.event is None:
                queue_line_dead_letter(pipe, line, DOOR)
        replies = await pipe.execute()
    queued = iter(replies[0] if events else [])
    return [_result(line, queued) for line in lines]


def _marks(event_id: str) -> tuple[str, str]:
    return keys.event_seen(event_id), keys.event_posted(event_id)


def _result(line: CheckedLine, queued: Iterator[int]) -> LineResult:
    if line.event is None:
        return LineResult(line.number, claimed_event_id(line.raw), Result.REJECTED, line.reason)
    outcome = Result.ACCEPTED if next(queued) else Result.DUPLICATE
    return LineResult(line.number, line.event.event_id, outcome)


def claimed_event_id(raw: bytes) -> str | None:
    """The `event_id` a refused line names, when it is a well-formed id (never other input)."""
    try:
        data = json.loads(raw)
        return _IDENTIFIER.validate_python(data["event_id"])
    except (ValueError, RecursionError, TypeError, KeyError, ValidationError):
        return None
