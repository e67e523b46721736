"""Read a raw inbound email into what coachd needs to act on it: kind, intent, dates, words, why."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, tzinfo
from email.message import Message
from email.utils import getaddresses
from typing import Any

from jobs.clientcadence import CadenceRequest
from jobs.events import BounceClass
from jobs.reading.cadence import read_cadence
from jobs.reading.dates import guess_language
from jobs.reading.intent import Asked, CommitmentIntent, Intent, classify_intent
from jobs.reading.kind import MailKind, classify_kind, return_date
from jobs.reading.learned import LearnedModel, load_model
from jobs.reading.ownname import without_own_name
from jobs.reading.parts import (
    addresses,
    authenticated_from,
    header_text,
    message_ids,
    parse_headers,
    parse_message,
    sender_address,
)
from jobs.reading.parts import sent_at as header_date
from jobs.reading.secondopinion import second_opinion
from jobs.reading.text import body_text, new_words

# Where a reply token can show up: what the client addressed, and what the MTA delivered to.
TOKEN_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
_TOKEN_ADDRESS = re.compile(r"^(?:reply|unsubscribe|bounces)\+([a-z0-9]+)@", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ReadReply:
    """What coachd concluded from one inbound message, and why (see `reasons`).

    `intent` is set only for human replies; `new_due` only with intent "reschedule";
    `pause_until` comes from a "pause until" command or an out-of-office's return date.
    Message ids keep their angle brackets, as in the headers.
    """

    kind: MailKind
    intent: Intent | None = None
    new_due: date | None = None
    pause_until: date | None = None
    text: str = ""
    reasons: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    message_id: str | None = None
    sender: str | None = None
    sent_at: datetime | None = None
    bounce_recipient: str | None = None
    bounce_permanent: bool = False
    bounce_class: BounceClass | None = None
    confidence: float = 1.0  # how sure the intent is (jobs.reading.intent); 1.0 for non-replies
    language: str = ""  # of a human reply's words: en, de, fr, es or pt ("" when unknown)
    # One reading per commitment the answered email asked about, in its order (several only).
    per_commitment: tuple[CommitmentIntent, ...] = ()
    cadence: CadenceRequest | None = (
        None  # when they ask to hear from coachd (jobs.reading.cadence)
    )

    def as_json(self) -> dict[str, Any]:
        """A JSON-safe dict: dates as ISO strings, tuples as lists."""
        return {
            "kind": self.kind,
            "intent": self.intent,
            "new_due": _iso(self.new_due),
            "pause_until": _iso(self.pause_until),
            "text": self.text,
            "reasons": list(self.reasons),
            "tokens": list(self.tokens),
            "references": list(self.references),
            "message_id": self.message_id,
            "sender": self.sender,
            "sent_at": _iso(self.sent_at),
            "bounce_recipient": self.bounce_recipient,
            "bounce_permanent": self.bounce_permanent,
            "bounce_class": self.bounce_class,
            "confidence": round(self.confidence, 2),
            "language": self.language,
            "cadence": self.cadence.model_dump(mode="json") if self.cadence else None,
            "per_commitment": [
                {
                    "intent": c.intent,
                    "new_due": _iso(c.new_due),
                    "confidence": round(c.confidence, 2),
                    "reasons": list(c.reasons),
                }
                for c in self.per_commitment
            ],
        }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True, slots=True)
class MessageEnvelope:
    """Who a message is for and from, read from its headers alone: enough to decide whether
    coachd may act on it before its body is read at all (`read_content`)."""

    message: Message | None  # its headers (the body unparsed); None: they would not parse
    tokens: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    message_id: str | None = None
    sender: str | None = None
    sent_at: datetime | None = None
    problem: str | None = None  # why the message could not be read, when it could not
    # The topmost Authentication-Results on the From domain: True (DMARC or DKIM pass),
    # False (no pass), None (no such header, or no From address).
    authenticated: bool | None = None
    raw: bytes = b""  # the whole message, for read_content


def read_envelope(raw: bytes, *, recipients: Sequence[str] = ()) -> MessageEnvelope:
    """Read a raw message's envelope (tokens, references, sender, date) from its headers;
    never raises. The body is left for `read_content`, so a message coachd will not act on
    costs a header parse only."""
    try:
        return replace(_envelope(parse_headers(raw), recipients), raw=raw)
    except Exception as exc:  # hostile input must end in a reading, never a crash
        return MessageEnvelope(message=None, problem=f"unreadable message ({type(exc).__name__})")


def read_content(
    envelope: MessageEnvelope,
    *,
    zone: tzinfo | None = None,
    received_at: datetime | None = None,
    asked: Sequence[Asked] = (),
    learned: bool = True,
    message: Message | None = None,
) -> ReadReply:
    """Read what a message says (kind, intent, dates, the client's words); never raises.

    Relative dates ("next Friday") count from `received_at`, else the Date header, on the
    calendar of `zone`, else of the Date header's own UTC offset. `learned=False` reads with
    the cue rules alone (what the learned reader is trained on: bench.trainintent).
    `message` is the envelope's message parsed whole (`parse_message(envelope.raw)`), when
    the caller has parsed it already.
    """
    if envelope.message is None:
        return ReadReply(kind="reply", intent="note", reasons=(envelope.problem or "unreadable",))
    try:
        model = load_model() if learned else None
        whole = message if message is not None else parse_message(envelope.raw)
        return _read(whole, envelope, zone, received_at, asked, model=model)
    except Exception as exc:  # hostile input must end in a reading, never a crash
        return ReadReply(
            kind="reply", intent="note", reasons=(f"unreadable message ({type(exc).__name__})",)
        )


def read_reply(
    raw: bytes,
    *,
    zone: tzinfo | None = None,
    received_at: datetime | None = None,
    recipients: Sequence[str] = (),
    asked: Sequence[Asked] = (),
    learned: bool = True,
) -> ReadReply:
    """Read a raw message whole: its envelope, then its content (see `read_content`)."""
    envelope = read_envelope(raw, recipients=recipients)
    return read_content(envelope, zone=zone, received_at=received_at, asked=asked, learned=learned)


def _read(
    message: Message,
    envelope: MessageEnvelope,
    zone: tzinfo | None,
    received_at: datetime | None,
    asked: Sequence[Asked],
    *,
    model: LearnedModel | None,
) -> ReadReply:
    today, day_reasons = _reply_day(envelope.sent_at, received_at, zone)
    kind = classify_kind(message)
    base = ReadReply(
        kind=kind.kind, reasons=kind.reasons, tokens=envelope.tokens,
        references=envelope.references, message_id=envelope.message_id,
        sender=envelope.sender, sent_at=envelope.sent_at,
    )  # fmt: skip
    if kind.bounce is not None:
        original = kind.bounce.original_message_id
        return replace(
            base, references=_unique(envelope.references + ((original,) if original else ())),
            bounce_recipient=kind.bounce.recipient, bounce_permanent=kind.bounce.permanent,
            bounce_class=kind.bounce.bounce_class,
        )  # fmt: skip
    source, body = body_text(message)
    text = without_own_name(new_words(body), header_text(message, "From"))
    body_reasons = () if text else (f"no readable words ({source} body)",)
    if kind.kind == "auto_reply":
        pause, why = _return_date(text or body, header_text(message, "Subject"), today)
        reasons = (*kind.reasons, *why, *day_reasons)
        return replace(base, pause_until=pause, text=text, reasons=reasons)
    cadence = read_cadence(text)
    read = cadence.rest_of(text) if cadence else text
    language = guess_language(text) if text else ""
    by_rules = classify_intent(read, today, asked=asked)
    intent = second_opinion(by_rules, read, language, asked, model)
    return replace(
        base, intent=intent.intent, new_due=intent.new_due, pause_until=intent.pause_until,
        text=text, confidence=intent.confidence, language=language,
        per_commitment=intent.per_commitment, cadence=cadence.request if cadence else None,
        reasons=(*intent.reasons, *(cadence.reasons if cadence else ()), *body_reasons,
                 *day_reasons),
    )  # fmt: skip


def _return_date(
    text: str, subject: str, today: date | None
) -> tuple[date | None, tuple[str, ...]]:
    if today is None:
        return None, ()
    found = return_date(f"{subject}\n{text}", today)
    if found is None:
        return None, ()
    day, phrase = found
    return day, (f"return date '{phrase}' → {day.isoformat()}",)


def _reply_day(
    sent: datetime | None, received_at: datetime | None, zone: tzinfo | None
) -> tuple[date | None, tuple[str, ...]]:
    """The reply's calendar day in the client's zone, which relative dates count from."""
    when = received_at or sent
    if when is None:
        return None, ("no Date header and no receive time: relative dates not resolved",)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    local_zone = zone or (sent.tzinfo if sent is not None else None) or UTC
    return when.astimezone(local_zone).date(), ()


def _envelope(message: Message, recipients: Sequence[str]) -> MessageEnvelope:
    found = addresses(message, TOKEN_HEADERS)
    found += [addr.lower() for _, addr in getaddresses(list(recipients)) if "@" in addr]
    tokens = [m.group(1).lower() for m in map(_TOKEN_ADDRESS.match, found) if m]
    references = message_ids(header_text(message, "In-Reply-To")) + message_ids(
        header_text(message, "References")
    )
    own_ids = message_ids(header_text(message, "Message-ID"))
    sender = sender_address(message)
    return MessageEnvelope(
        message=message,
        tokens=_unique(tokens),
        references=_unique(references),
        message_id=own_ids[0] if own_ids else None,
        sender=sender,
        sent_at=header_date(message),
        authenticated=authenticated_from(message, sender.rpartition("@")[2]) if sender else None,
    )


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
