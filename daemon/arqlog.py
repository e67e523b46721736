"""Turns arq's sentence-shaped log records into named events with fields, like coachd's own.

arq logs sentences with its data baked in ("  0.01s → digest:maria:2026-12-07:send_digest(…)"):
an operator can neither filter them by name nor read a field. Its format strings are stable
(arq 0.28 is maintenance-only), so each known one maps to an event name and names for its
arguments; an unknown one (a later arq) is left as its sentence, never dropped.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from structlog.typing import EventDict, WrappedLogger

ARQ_LOGGER = "arq"
# "ref" is arq's "<job_id>:<function>"; "extra" its " try=2 delayed=3.00s" suffix.
_SHUTDOWN = "shutdown on %s ◆ %d jobs complete ◆ %d failed ◆ %d retries ◆ %d "
_COUNTS = ("signal", "jobs_complete", "jobs_failed", "jobs_retried")
EVENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "%6.2fs → %s(%s)%s": ("job_started", ("queued_s", "ref", "args", "extra")),
    "%6.2fs ← %s ● %s": ("job_finished", ("duration_s", "ref", "result")),
    "%6.2fs ↻ %s retrying job in %0.2fs": ("job_retrying", ("duration_s", "ref", "retry_in_s")),
    "%6.2fs ↻ %s cancelled, will be run again": ("job_cancelled", ("duration_s", "ref")),
    "%6.2fs ⊘ %s aborted": ("job_aborted", ("duration_s", "ref")),
    "%6.2fs ⊘ %s:%s aborted before start": ("job_aborted", ("queued_s", "job_id", "function")),
    "%6.2fs ! %s failed, %s: %s": ("job_failed", ("duration_s", "ref", "error_type", "error")),
    "%6.2fs ! %s max retries %d exceeded": (
        "job_tries_exhausted",
        ("queued_s", "ref", "max_tries"),
    ),
    "job %s expired": ("job_expired", ("job_id",)),
    "deserializing job %s failed": ("job_not_deserialized", ("job_id",)),
    "job %s, function %r not found": ("job_function_unknown", ("job_id", "function")),
    "job %s already running elsewhere": ("job_running_elsewhere", ("job_id",)),
    "multi-exec error, job %s already started elsewhere": ("job_running_elsewhere", ("job_id",)),
    "error serializing result of %s": ("job_result_not_serialized", ("ref",)),
    "error serializing result of %s even after replacing result": (
        "job_result_not_serialized",
        ("ref",),
    ),
    "Starting worker for %d functions: %s": (
        "arq_worker_starting",
        ("function_count", "functions"),
    ),
    "Setting allow_pick_jobs to `False`": ("arq_taking_no_more_jobs", ()),
    _SHUTDOWN + "to be completed": ("arq_shutdown", (*_COUNTS, "jobs_to_complete")),
    _SHUTDOWN + "ongoing to cancel": ("arq_shutdown", (*_COUNTS, "jobs_to_cancel")),
    "shutdown on %s, wait complete ◆ %d jobs complete ◆ %d failed ◆ %d retries ◆ %d ongoing "
    "to cancel": ("arq_shutdown_wait_over", (*_COUNTS, "jobs_to_cancel")),
    "recording health: %s": ("arq_health_recorded", ("health",)),
    "redis connection successful": ("arq_redis_connected", ()),
    "redis connection error %s:%s %s %s, %s retries remaining...": (
        "arq_redis_unreachable",
        ("host", "port", "error_type", "error", "retries_left"),
    ),
    "unknown timezone: %r": ("arq_unknown_timezone", ("timezone",)),
}
# arq's one line that is formatted before logging: "redis_version=7.0.15 mem_usage=1.24M …".
_REDIS_INFO = re.compile(r"redis_version=\S+( \w+=\S+)*")
_KEY_VALUE = re.compile(r"(\w+)=(\S+)")
_EXTRA_NAMES = {"try": "job_try", "delayed": "delayed_s"}
SECONDS_DIGITS = 3


def name_arq_events(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor (for stdlib records): an arq record becomes a named event with
    fields. Every record's `positional_args` (what it was formatted with) is removed."""
    args = event_dict.pop("positional_args", ())
    record = event_dict.get("_record")
    if not isinstance(record, logging.LogRecord) or record.name.split(".")[0] != ARQ_LOGGER:
        return event_dict
    if isinstance(record.msg, str) and isinstance(args, tuple):
        known = EVENTS.get(record.msg)
        if known is not None and len(known[1]) == len(args):
            name, names = known
            event_dict.update(_fields(names, args), event=name)
            return event_dict
    event = event_dict.get("event")
    if isinstance(event, str) and _REDIS_INFO.fullmatch(event):
        event_dict.update(_KEY_VALUE.findall(event), event="arq_redis_info")
    return event_dict


def _fields(names: tuple[str, ...], args: tuple[Any, ...]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, value in zip(names, args, strict=True):
        if name == "ref":
            job_id, _, function = str(value).rpartition(":")
            fields |= {"job_id": job_id, "function": function}
        elif name == "extra":
            for key, item in _KEY_VALUE.findall(str(value)):
                fields[_EXTRA_NAMES.get(key, key)] = _number(item)
        elif isinstance(value, float):
            fields[name] = round(value, SECONDS_DIGITS)
        elif isinstance(value, BaseException):
            fields[name] = str(value)
        else:
            fields[name] = value
    return fields


def _number(text: str) -> int | float | str:
    """arq's `try=2` and `delayed=3.00s` as numbers (`delayed` in seconds)."""
    bare = text.removesuffix("s")
    for kind in (int, float):
        try:
            return kind(bare)
        except ValueError:
            continue
    return text
