"""The events a read reply becomes: one for the commitment it answers, and one for each
other commitment the same email asked about that the client answered on a line of its own."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from daemon.inbound.message import InboundMessage
from daemon.store import keys
from jobs.events import MAX_REPLY_CHARS, SCHEMA_VERSION, Intent, ReplyReceived
from jobs.reading.reply import ReadReply
from jobs.state import Commitment

UNSUBSCRIBE_PREFIX = "unsubscribe+"
UNKNOWN_ADDRESS_NOTE = "a reply from an unknown address:"


def message_key(raw: bytes, message_id: str | None) -> str:
    """The same message arriving twice (IMAP and a webhook, or a redelivery) gets one id."""
    basis = message_id.encode() if message_id else raw
    return hashlib.sha256(basis).hexdigest()[:32]


def reply_events(
    message: InboundMessage,
    reading: ReadReply,
    asked: Sequence[Commitment],
    now: datetime,
    *,
    known: bool = True,
) -> list[ReplyReceived]:
    """`asked[0]` is the commitment the reply token or thread names; the others rode in the
    same email. A rider gets an event only when the reply said something about it.

    `known` False: the sender is none of the client's addresses. Its words reach the coach
    on the named commitment alone, marked as such, and change nothing (jobs.replyeffect)."""
    key = message_key(message.raw, reading.message_id)
    if not known and reading.kind != "bounce":  # bounces come from MTAs, never the client
        return [_from_unknown(reading, f"reply-{key}", asked[0], message.source, now)]
    to_unsubscribe = any(r.lower().startswith(UNSUBSCRIBE_PREFIX) for r in message.recipients)
    parts = reading.per_commitment if len(reading.per_commitment) == len(asked) else ()
    events = []
    for index, commitment in enumerate(asked):
        intent, new_due, confidence = reading.intent, reading.new_due, reading.confidence
        if parts:
            part = parts[index]
            intent, new_due, confidence = part.intent, part.new_due, part.confidence
        if reading.kind == "reply" and to_unsubscribe:
            # A mail to the List-Unsubscribe address means stop, whatever it says.
            intent, confidence = "stop", 1.0
        if index and (not parts or intent == "note"):
            continue  # nothing said about this rider: the main event carries the words
        suffix = f"-{index}" if index else ""
        reading_for = Part(commitment.commitment_id, intent, new_due, confidence)
        events.append(_event(reading, f"reply-{key}{suffix}", reading_for, message.source, now))
    return events


def _from_unknown(
    reading: ReadReply, event_id: str, commitment: Commitment, source: str, now: datetime
) -> ReplyReceived:
    note = Part(commitment.commitment_id, "note", None, 1.0)
    event = _event(
        replace(reading, kind="reply", pause_until=None, cadence=None), event_id, note, source, now
    )
    text = f"[{UNKNOWN_ADDRESS_NOTE} {reading.sender or '(none)'}] {reading.text}"
    return event.model_copy(update={"text": text[:MAX_REPLY_CHARS], "from_unknown_address": True})


def replay_key(event: ReplyReceived) -> str:
    """One key per (commitment, normalised words, intent): the same words replayed under a
    new Message-ID within keys.REPLY_REPLAY_TTL_S apply once."""
    words = " ".join(event.text.casefold().split())
    basis = "\0".join((event.commitment_id, words, event.intent or "", str(event.new_due)))
    return keys.reply_replay(hashlib.sha256(basis.encode()).hexdigest()[:32])


@dataclass(frozen=True, slots=True)
class Part:
    """What the reply says about one commitment."""

    commitment_id: str
    intent: Intent | None
    new_due: date | None
    confidence: float


def _event(
    reading: ReadReply, event_id: str, part: Part, source: str, now: datetime
) -> ReplyReceived:
    return ReplyReceived(
        version=SCHEMA_VERSION,
        event_id=event_id,
        occurred_at=now,
        type="reply.received",
        commitment_id=part.commitment_id,
        kind=reading.kind,
        intent=part.intent,
        new_due=part.new_due if part.intent == "reschedule" else None,
        pause_until=reading.pause_until,
        text=reading.text[:MAX_REPLY_CHARS],
        source=source,
        bounce_permanent=reading.bounce_permanent,
        bounce_class=reading.bounce_class,
        confidence=part.confidence,
        language=reading.language or "",
        cadence=reading.cadence,
    )
