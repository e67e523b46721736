"""Dead letters: bad or refused events kept for inspection, with the precise reason."""

from __future__ import annotations

from datetime import UTC, datetime

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.typing import EncodableT, FieldT

from daemon.inbox.lines import CheckedLine
from daemon.store import keys
from jobs.events import MAX_EVENT_BYTES


async def dead_letter(redis: Redis, raw: bytes, reason: str, source: str) -> None:
    """Keep a bad event for inspection, with the precise reason it was refused."""
    await redis.xadd(
        keys.DEAD_LETTER_STREAM,
        dead_letter_fields(raw, reason, source),
        maxlen=keys.DEAD_LETTER_MAX_LEN,
        approximate=True,
    )


def dead_letter_fields(raw: bytes, reason: str, source: str) -> dict[FieldT, EncodableT]:
    return {
        "reason": reason,
        "source": source,
        "at": datetime.now(UTC).isoformat(),
        "event": raw[:MAX_EVENT_BYTES],
    }


def queue_dead_letter(
    pipe: Pipeline, entry_id: str, raw: bytes, reason: str, *, keep_event: bool
) -> None:
    """Inside MULTI: dead-letter and acknowledge an inbox entry; one about erased data is
    dropped from the inbox and its dead letter keeps no payload."""
    fields = dead_letter_fields(raw if keep_event else b"", reason, f"inbox {entry_id}")
    pipe.xadd(keys.DEAD_LETTER_STREAM, fields, maxlen=keys.DEAD_LETTER_MAX_LEN, approximate=True)
    pipe.xack(keys.INBOX_STREAM, keys.INBOX_GROUP, entry_id)
    if not keep_event:
        pipe.xdel(keys.INBOX_STREAM, entry_id)


def queue_line_dead_letter(pipe: Pipeline, line: CheckedLine, door: str) -> None:
    """Queue the dead letter of a producer's refused line; its source is "<door> line <n>"."""
    assert line.reason is not None  # only refused lines are dead-lettered
    fields = dead_letter_fields(line.raw, line.reason, f"{door} line {line.number}")
    pipe.xadd(keys.DEAD_LETTER_STREAM, fields, maxlen=keys.DEAD_LETTER_MAX_LEN, approximate=True)
