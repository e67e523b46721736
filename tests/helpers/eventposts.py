"""POST /events test material: the token, headers, bodies and what Redis holds afterwards."""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

from daemon.inbound.webhooks import WebhookSecrets
from daemon.store import keys
from tests.helpers.events import changed
from tests.helpers.firm import START

TOKEN = "ev-token-" + "7" * 32
SECRETS = WebhookSecrets(events_token=TOKEN)
BEARER = {"Authorization": f"Bearer {TOKEN}"}
NDJSON = {**BEARER, "Content-Type": "application/x-ndjson"}
JSON = {**BEARER, "Content-Type": "application/json"}
BAD_JSON_LINE = b'{"version": 1, "event_id": "e-2", oops}'
BAD_JSON_REASON = (
    "not valid JSON: Expecting property name enclosed in double quotes: line 1 column 35 (char 34)"
)
NO_COMMITMENT_ID = "commitment.completed.commitment_id: Field required"


def jsonl(*events: dict[str, Any] | bytes) -> bytes:
    return b"\n".join(e if isinstance(e, bytes) else json.dumps(e).encode() for e in events)


def completed(event_id: str) -> dict[str, Any]:
    return changed("commitment.completed", event_id, START)


def answer(*results: tuple[int, str, str]) -> dict[str, Any]:
    """The 202 body for lines that were all accepted or duplicates: (line, event id, result)."""
    counts = {kind: sum(1 for r in results if r[2] == kind) for kind in ("accepted", "duplicate")}
    listed = [{"line": n, "event_id": e, "result": r} for n, e, r in results]
    return {**counts, "rejected": 0, "results": listed}


async def inbox(redis: Redis) -> list[dict[str, Any]]:
    return [json.loads(fields[b"event"]) for _, fields in await redis.xrange(keys.INBOX_STREAM)]


async def dead_letters(redis: Redis) -> list[dict[str, str]]:
    entries = await redis.xrange(keys.DEAD_LETTER_STREAM)
    return [
        {k.decode(): v.decode() for k, v in fields.items() if k != b"at"} for _, fields in entries
    ]
