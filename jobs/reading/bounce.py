"""Recognise bounces (RFC 3464 reports and older MTAs' plain text) and read who failed and how."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

from jobs.reading.parts import (
    content_type,
    header_text,
    message_ids,
    part_text,
    sender_address,
    walk,
)

MAX_BOUNCE_TEXT_CHARS = 64 * 1024
PERMANENT_CLASS = "5"
TRANSIENT_CLASS = "4"

_DAEMON_LOCALS = frozenset({"mailer-daemon", "mailer_daemon", "postmaster", "mail-daemon"})
_DAEMON_NAMES = re.compile(r"mail\s+delivery\s+(?:system|subsystem)|mailer-daemon", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered\s+mail|returned\s+mail|delivery\s+status\s+notification|"
    r"mail\s+delivery\s+failed|delivery\s+(?:has\s+)?fail|failure\s+notice|non-?deliver|"
    r"message\s+not\s+delivered|could\s+not\s+(?:be\s+)?(?:deliver|sen[dt])|mail\s+system\s+error|"
    r"delivery\s+delayed|delayed\s+mail|unzustellbar|nicht\s+zustellbar|non\s+remis|"
    r"no\s+se\s+(?:puede|pudo)\s+entregar|notificaci[óo]n\s+de\s+estado\s+de\s+entrega|"
    r"n[ãa]o\s+(?:é\s+poss[íi]vel\s+)?entreg|mensagem\s+n[ãa]o\s+entregue",
    re.IGNORECASE,
)
_ENHANCED_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_SMTP_REPLY = re.compile(r"(?:said:|error|SMTP|RCPT|\bcode\b|#)[^\n]{0,80}?\b([45])\d\d\b", re.I)
_TRANSIENT_WORDS = re.compile(
    r"temporar|delayed|will\s+(?:retry|be\s+retried|continue)|still\s+trying|not\s+yet\s+been",
    re.IGNORECASE,
)
_FIELD_RECIPIENT = re.compile(
    r"^(?:Final|Original)-Recipient:\s*(?:rfc822\s*;)?\s*<?([^\s<>;]+@[^\s<>;]+?)>?\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_ANGLE_RECIPIENT = re.compile(r"^\s*<([^\s<>]+@[^\s<>]+)>:?", re.MULTILINE)
_FAILED_LIST = re.compile(
    r"(?:failed|permanent\s+error|could\s+not\s+be\s+delivered|wasn't\s+delivered)[^\n]*:\s*\n"
    r"(?:\s*\n)*\s*<?([^\s<>]+@[^\s<>]+?)>?\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_ANY_ADDRESS = re.compile(r"<?([A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})>?")
_INLINE_MESSAGE_ID = re.compile(r"^Message-ID:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_OUR_LOCALS = re.compile(r"^(?:reply|bounces|unsubscribe)\+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class BounceReading:
    """Who could not be reached, whether that is final, and which of our messages bounced."""

    recipient: str | None
    permanent: bool
    original_message_id: str | None
    reasons: tuple[str, ...]


def read_bounce(message: Message) -> BounceReading | None:
    """A BounceReading when the message is a delivery failure report, else None."""
    parts = list(walk(message))
    status = next((p for p in parts if content_type(p) == "message/delivery-status"), None)
    original_id = _original_message_id(parts)
    if status is not None:
        return _from_report(status, original_id)
    return _from_legacy(message, parts, original_id)


def _from_report(status: Message, original_id: str | None) -> BounceReading:
    blocks = _status_blocks(status)
    recipients = [b for b in blocks if b.get("Final-Recipient") or b.get("Original-Recipient")]
    failed = [b for b in recipients if str(b.get("Action", "")).strip().lower() == "failed"]
    reasons = ["RFC 3464 delivery status report"]
    if not recipients:
        return BounceReading(None, True, original_id, (*reasons, "no recipient in the report"))
    chosen = (failed or recipients)[0]
    recipient = _address(str(chosen.get("Final-Recipient") or chosen.get("Original-Recipient")))
    action = str(chosen.get("Action", "")).strip().lower()
    code = str(chosen.get("Status", "")).strip()
    permanent = code.startswith(PERMANENT_CLASS) or (
        not code.startswith(TRANSIENT_CLASS) and action == "failed"
    )
    reasons.append(f"Action: {action or '?'}, Status: {code or '?'}")
    return BounceReading(recipient, permanent, original_id, tuple(reasons))


def _status_blocks(status: Message) -> list[Message]:
    payload = status.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    text = part_text(status) or str(payload)
    parser = HeaderParser()
    return [parser.parsestr(block.strip() + "\n") for block in re.split(r"\n\s*\n", text)]


def _address(field: str) -> str | None:
    value = field.split(";", 1)[-1].strip().strip("<>").strip()
    return value.lower() if "@" in value else None


def _from_legacy(
    message: Message, parts: list[Message], original_id: str | None
) -> BounceReading | None:
    sender = sender_address(message) or ""
    from_daemon = sender.split("@")[0] in _DAEMON_LOCALS or bool(
        _DAEMON_NAMES.search(header_text(message, "From"))
    )
    subject = header_text(message, "Subject")
    bounce_subject = bool(_BOUNCE_SUBJECT.search(subject))
    text = _plain_text(parts)
    evidence = _status_class(text)
    if not (from_daemon and (bounce_subject or evidence)) and not (bounce_subject and evidence):
        return None
    reasons = [f"from {sender}" if from_daemon else "bounce subject", f"subject '{subject[:80]}'"]
    transient = evidence == TRANSIENT_CLASS or (evidence is None and _TRANSIENT_WORDS.search(text))
    reasons.append(f"status class {evidence}.x.x" if evidence else "no status code in the text")
    original_id = original_id or _inline_message_id(text)
    return BounceReading(_legacy_recipient(text), not transient, original_id, tuple(reasons))


def _plain_text(parts: list[Message]) -> str:
    texts = [part_text(p) for p in parts if content_type(p) == "text/plain"]
    return "\n".join(texts)[:MAX_BOUNCE_TEXT_CHARS]


def _status_class(text: str) -> str | None:
    """The class (5 or 4) of the first enhanced status code or SMTP reply in a bounce's text."""
    enhanced = _ENHANCED_STATUS.search(text)
    if enhanced and enhanced.group(1) in {PERMANENT_CLASS, TRANSIENT_CLASS}:
        return enhanced.group(1)
    reply = _SMTP_REPLY.search(text)
    return reply.group(1) if reply else None


def _legacy_recipient(text: str) -> str | None:
    for pattern in (_FIELD_RECIPIENT, _ANGLE_RECIPIENT, _FAILED_LIST):
        found = pattern.search(text)
        if found and not _ours_or_daemon(found.group(1)):
            return found.group(1).lower()
    for found in _ANY_ADDRESS.finditer(text):
        if not _ours_or_daemon(found.group(1)):
            return found.group(1).lower()
    return None


def _ours_or_daemon(address: str) -> bool:
    local = address.split("@", maxsplit=1)[0].lower()
    return local in _DAEMON_LOCALS or bool(_OUR_LOCALS.match(local))


def _original_message_id(parts: list[Message]) -> str | None:
    """The returned original's Message-ID, from a message/rfc822 or text/rfc822-headers part."""
    for part in parts:
        kind = content_type(part)
        if kind == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            ids = (
                message_ids(header_text(inner, "Message-ID")) if isinstance(inner, Message) else []
            )
            if ids:
                return ids[0]
        elif kind == "text/rfc822-headers":
            headers = HeaderParser().parsestr(part_text(part))
            ids = message_ids(header_text(headers, "Message-ID"))
            if ids:
                return ids[0]
    return None


def _inline_message_id(text: str) -> str | None:
    found = _INLINE_MESSAGE_ID.search(text)
    return found.group(1) if found else None
