"""The operator's hands on the dead letters (`coachd dead-letters`): list them with their
reasons, replay one into the inbox, or drop one.

A replay appends the event to the inbox's tail, so it is applied in order after everything
already there, exactly as if a producer had sent it again; one that fails again comes back
to the dead letters with its new reason. Moving it is one script (atomic): the entry leaves
the dead letters only as the event enters the inbox, and a second replay of the same id
finds nothing to replay.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable
from dataclasses import asdict, dataclass
from typing import Any, cast

from redis.asyncio import Redis

from daemon.errors import OperatorRequestError
from daemon.inbox.lines import check_line
from daemon.store import keys

DEFAULT_LIMIT = 20
STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
ID_EXAMPLE = "1764489600000-0"
REPLY_REJECTED = "reply rejected"  # daemon.inbound.intake's reason prefix
# KEYS: dead letters, inbox. ARGV: the entry id, its event, the inbox's cap.
_MOVE = """
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then return false end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'event', ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[1])
return id
"""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One dead letter, and why it cannot be replayed (None: it can)."""

    entry_id: str
    at: str
    source: str
    reason: str
    event: str
    not_replayable: str | None

    @property
    def summary(self) -> str:
        """The event's type and id, or what the entry holds instead."""
        try:
            data = json.loads(self.event)
        except ValueError:
            data = None
        if isinstance(data, dict):
            return f"{data.get('type', '?')} {data.get('event_id', '?')}"
        return "(no event kept)" if not self.event else "(not an event)"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"replayable": self.not_replayable is None}


async def newest(redis: Redis, limit: int = DEFAULT_LIMIT) -> tuple[int, list[DeadLetter]]:
    """How many dead letters there are, and the newest `limit` of them, newest first."""
    entries = await redis.xrevrange(keys.DEAD_LETTER_STREAM, count=limit)
    letters = [_dead_letter(entry_id, fields) for entry_id, fields in entries]
    return await redis.xlen(keys.DEAD_LETTER_STREAM), letters


async def replay(redis: Redis, entry_id: str) -> str:
    """Move a dead letter's event to the inbox; returns its new inbox entry id."""
    letter = await _find(redis, entry_id)
    if letter.not_replayable is not None:
        raise OperatorRequestError(
            f"dead letter {entry_id} is not replayed: {letter.not_replayable}"
        )
    args = [entry_id, letter.event, str(keys.INBOX_MAX_LEN)]
    moved = await cast(
        Awaitable[bytes | None],
        redis.eval(_MOVE, 2, keys.DEAD_LETTER_STREAM, keys.INBOX_STREAM, *args),
    )
    if moved is None:  # dropped or replayed by someone else meanwhile
        raise _unknown(entry_id)
    return moved.decode()


async def drop(redis: Redis, entry_id: str) -> None:
    """Delete a dead letter for good."""
    _check_id(entry_id)
    if not await redis.xdel(keys.DEAD_LETTER_STREAM, entry_id):
        raise _unknown(entry_id)


async def _find(redis: Redis, entry_id: str) -> DeadLetter:
    _check_id(entry_id)
    found = await redis.xrange(keys.DEAD_LETTER_STREAM, entry_id, entry_id)
    if not found:
        raise _unknown(entry_id)
    return _dead_letter(*found[0])


def _check_id(entry_id: str) -> None:
    if not STREAM_ID.match(entry_id):
        raise OperatorRequestError(
            f"{entry_id!r} is not a dead letter id (they look like {ID_EXAMPLE}; "
            "see `coachd dead-letters`)"
        )


def _unknown(entry_id: str) -> OperatorRequestError:
    return OperatorRequestError(f"no dead letter {entry_id} (see `coachd dead-letters`)")


def _dead_letter(entry_id: bytes, fields: dict[bytes, bytes] | None) -> DeadLetter:
    text = {k.decode(): v.decode(errors="replace") for k, v in (fields or {}).items()}
    reason, event = text.get("reason", ""), text.get("event", "")
    return DeadLetter(
        entry_id=entry_id.decode(),
        at=text.get("at", ""),
        source=text.get("source", ""),
        reason=reason,
        event=event,
        not_replayable=why_not_replayable(reason, event),
    )


def why_not_replayable(reason: str, event: str) -> str | None:
    """Why replaying would be of no use, or None when the event may apply now (what refused
    it, such as an unknown commitment or coach, may have been put right since)."""
    if not event:
        return "it keeps no event (it was about an erased client); --drop removes it"
    if reason.startswith(REPLY_REJECTED):
        return "it is a refused reply, kept for inspection, not an event; --drop removes it"
    if isinstance(check_line(event.encode()), str):
        return (
            "the event itself is invalid (see its reason) and would only come back; "
            "correct it and `coachd emit` it, then --drop this one"
        )
    return None
