"""Prometheus metrics: what one coachd process counts, in a registry of its own.

Each `Metrics` has its own `CollectorRegistry`: every worker process serves its own numbers
(no multiprocess mode), and tests can build several apps in one process without duplicate
registrations. Labels take only values from small fixed sets (event types, step kinds,
outcomes, reason classes), never ids or free text, so the number of series stays bounded.
Every labelled series is created at zero up front, so a rate is defined before the first
event. Recording is a counter increment or a histogram observation: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final, get_args

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from jobs.events import Event, Intent, ReplyKind
from jobs.step import StepKind

NAMESPACE: Final = "coachd"  # every metric's name starts coachd_
# What became of an email, as the send ledger records it (daemon.outbound.ledger.Outcome).
EMAIL_OUTCOMES: Final = ("sent", "failed", "unknown")
NO_INTENT: Final = "none"  # auto-replies and bounces carry no intent
INTENTS: Final = (*get_args(Intent), NO_INTENT)
REPLY_KINDS: Final = get_args(ReplyKind)
EVENT_TYPES: Final = tuple(
    get_args(member.model_fields["type"].annotation)[0] for member in get_args(get_args(Event)[0])
)

# A dead letter's reason is free text (it names ids and fields); its class is one of these.
# Checked in order: the first class with a pattern that matches the reason's start wins.
_REASON_PATTERNS = {
    "too_large": (r"event is \d+ bytes; the limit is",),
    "not_json": (r"not valid JSON: ", r"an event must be a JSON object$"),
    "unsupported_version": (r"unsupported version ",),
    "erased": (r"client erased$",),
    "stale": (r"stale event for ",),
    "conflict": (r"commitment \S+ already exists$", r"commitment \S+ is already \w+$"),
    "unknown_reference": (
        r"unknown (commitment|client) ",
        r"client \S+ of \S+ is gone$",
        r"no [\w ]+ named '.*' in the coach config$",
        r"session \S+ is not scheduled$",  # a session.cancelled for a session never booked
    ),
    "internal_error": (r"internal error while applying: ",),
    "reply_rejected": (r"reply rejected: ",),
    # A field that fails validation: "<dotted.path>: <message>; ..." (jobs.reasons).
    "past_due": (r"[^\s:;]+: .*a mistyped year\?",),
    "invalid": (r"[^\s:;]+: ",),
}
REASON_CLASSES: Final = tuple(
    (name, re.compile("|".join(f"(?:{p})" for p in patterns)))
    for name, patterns in _REASON_PATTERNS.items()
)
OTHER_REASON: Final = "other"
REASON_CLASS_NAMES: Final = (*(name for name, _ in REASON_CLASSES), OTHER_REASON)

# Steps fire within a poll (0.2 s) when all is well; hours after downtime.
LATENESS_BUCKETS_S: Final = (0.25, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)
SMTP_BUCKETS_S: Final = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
REDIS_BUCKETS_S: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)


COMPOSED_AHEAD_USES: Final = ("kept", "used")  # see daemon.outbound.composeahead

# Each metric's HELP line, keyed by its name without `coachd_` (and, for counters, `_total`).
HELP: Final = {
    "events_applied": "Inbox events applied, by event type.",
    "events_duplicate": "Inbox events whose event_id was applied before: nothing changed.",
    "dead_letters": "Events and replies put in the dead-letter stream, by reason class.",
    "steps_fired": "Due steps this worker claimed and fired, whatever came of them.",
    "step_lateness_seconds": "How long after its planned time a still-current step fired.",
    "emails": "Emails to clients and coaches, by step kind and ledger outcome.",
    "emails_composed_ahead": "Step emails composed ahead of their due time (kept), and those "
    "the due-time path sent as kept (used).",
    "smtp_send_seconds": "Time to hand one email to SMTP (a pooled connection's wait included).",
    "replies": "Inbound messages matched to a commitment, by kind and intent read.",
    "redis_roundtrip_seconds": "Round trips of the readiness PING and of the /metrics read.",
    "redis_up": "1 if the last /metrics read of Redis answered in time, else 0.",
    "inbox_length": "Entries in the inbox stream.",
    "inbox_pending": "Inbox entries read by a consumer and not yet acknowledged.",
    "inbox_lag": "Inbox entries the consumer group has not read yet (NaN: Redis cannot tell).",
    "steps_scheduled": "Steps in the schedule.",
    "steps_due": "Steps due now that no worker has claimed: the backlog.",
}


def reason_class(reason: str) -> str:
    """The class of a dead letter's reason, for a label: one of REASON_CLASS_NAMES."""
    for name, pattern in REASON_CLASSES:
        if pattern.match(reason):
            return name
    return OTHER_REASON


class Metrics:
    """One process's metrics; `registry` is what `/metrics` serves (see daemon.scrape)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        counter, histogram, gauge = self._counter, self._histogram, self._gauge
        self.events_applied = counter("events_applied", "type")
        self.events_duplicate = counter("events_duplicate")
        self.dead_letters = counter("dead_letters", "reason")
        self.steps_fired = counter("steps_fired")
        self.step_lateness = histogram("step_lateness_seconds", LATENESS_BUCKETS_S)
        self.emails = counter("emails", "kind", "outcome")
        self.emails_composed_ahead = counter("emails_composed_ahead", "use")
        self.smtp_seconds = histogram("smtp_send_seconds", SMTP_BUCKETS_S)
        self.replies = counter("replies", "kind", "intent")
        self.redis_seconds = histogram("redis_roundtrip_seconds", REDIS_BUCKETS_S)
        self.redis_up = gauge("redis_up")
        self.inbox_length = gauge("inbox_length")
        self.inbox_pending = gauge("inbox_pending")
        self.inbox_lag = gauge("inbox_lag")
        self.steps_scheduled = gauge("steps_scheduled")
        self.steps_due = gauge("steps_due")
        self._start_at_zero()

    def _counter(self, name: str, *labels: str) -> Counter:
        return Counter(name, HELP[name], labels, namespace=NAMESPACE, registry=self.registry)

    def _histogram(self, name: str, buckets: Sequence[float]) -> Histogram:
        return Histogram(
            name, HELP[name], namespace=NAMESPACE, buckets=buckets, registry=self.registry
        )

    def _gauge(self, name: str) -> Gauge:
        return Gauge(name, HELP[name], namespace=NAMESPACE, registry=self.registry)

    def _start_at_zero(self) -> None:
        for event_type in EVENT_TYPES:
            self.events_applied.labels(event_type)
        for reason in REASON_CLASS_NAMES:
            self.dead_letters.labels(reason)
        for kind in StepKind:
            for outcome in EMAIL_OUTCOMES:
                self.emails.labels(kind.value, outcome)
        for use in COMPOSED_AHEAD_USES:
            self.emails_composed_ahead.labels(use)
        for reply_kind in REPLY_KINDS:
            for intent in INTENTS:
                self.replies.labels(reply_kind, intent)

    def dead_lettered(self, reason: str) -> None:
        self.dead_letters.labels(reason_class(reason)).inc()

    def email(self, kind: StepKind, outcome: str) -> None:
        self.emails.labels(kind.value, outcome).inc()

    def reply(self, kind: str, intent: str | None) -> None:
        self.replies.labels(kind, intent or NO_INTENT).inc()
