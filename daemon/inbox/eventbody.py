"""A POST /events body as the lines `coachd emit` would read: JSON lines, an object or an array."""

from __future__ import annotations

import json
from http import HTTPStatus

from daemon.errors import CoachdError
from jobs.reasons import one_line

# One request's share: more events go in more requests. Memory is bounded by the body
# times COACHD_HTTP_MAX_REQUESTS; checking time by the count (~11 µs an event, measured).
MAX_BODY_BYTES = 1024 * 1024
MAX_EVENTS = 1000
JSON_TYPE = "application/json"
JSON_LINES_TYPE = "application/x-ndjson"
ARRAY_START = b"["


class EventBodyError(CoachdError):
    """Raised when a POST /events body is refused as a whole; `status` is the HTTP answer."""

    def __init__(self, status: HTTPStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def body_lines(content_type: str, body: bytes, max_events: int = MAX_EVENTS) -> list[bytes]:
    """The body's events as raw lines, numbered from 1 by position (blank lines count).

    JSON lines are split as `coachd emit` splits a file. An `application/json` body is one
    event (pretty-printed or not), or an array whose n-th element is "line" n: a request
    then either is an array or holds one event, never both readings of the same bytes.
    """
    mime = content_type.partition(";")[0].strip().lower()
    if mime == JSON_LINES_TYPE:
        lines = body.split(b"\n")
    elif mime == JSON_TYPE:
        lines = _document(body)
    else:
        raise EventBodyError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            f"send events as {JSON_TYPE} (an object or an array) or {JSON_LINES_TYPE}",
        )
    count = sum(1 for line in lines if line.strip())
    if count == 0:
        raise EventBodyError(HTTPStatus.BAD_REQUEST, "no events in the body")
    if count > max_events:
        raise EventBodyError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"{count} events in one request; the limit is {max_events}",
        )
    return lines


def _document(body: bytes) -> list[bytes]:
    """One event, or an array's elements re-encoded one per line (ASCII-escaped, so a lone
    surrogate survives the trip and is refused by the event's own checks, as in a line)."""
    text = body.strip()
    if not text.startswith(ARRAY_START):
        return [text]  # one event: checked (and, if bad, dead-lettered) as line 1
    try:
        items = json.loads(text)
    # As in parse_event: ValueError covers bad JSON and bad UTF-8; RecursionError deep nesting.
    except (ValueError, RecursionError) as exc:
        raise EventBodyError(HTTPStatus.BAD_REQUEST, one_line(f"not valid JSON: {exc}")) from None
    return [json.dumps(item).encode() for item in items]
