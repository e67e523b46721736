"""Recognise bounces (RFC 3464 reports, older MTAs' plain text, ARF complaints) and read them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from itertools import islice

from jobs.events import BounceClass
from jobs.reading.complaint import complaint_recipient, is_feedback_report
from jobs.reading.failure import (
    COMPLAINT,
    GONE,
    MAX_CLASSIFY_CHARS,
    classify_failure,
)
from jobs.reading.parts import (
    content_type,
    header_text,
    message_ids,
    part_text,
    sender_address,
    walk,
)
from jobs.reading.recipient import (
    DAEMON_LOCALS,
    clean_address,
    header_recipient,
    text_recipient,
)

MAX_BOUNCE_PARTS = 64  # a report is a handful of parts; more is a mailing, not a bounce
MAX_BOUNCE_TEXT_CHARS = 64 * 1024
MIN_LEGACY_SIGNALS = 2  # one cue alone (a subject, a daemon sender) is not enough

_NOT_FAILED_ACTIONS = frozenset({"delivered", "relayed", "expanded", "deliverable"})
_SUCCESS_CLASS = "2"
_SES_DELIVERY = re.compile(r'"notificationType"\s*:\s*"Delivery"')
_DAEMON_NAMES = re.compile(
    r"mail\s+delivery\s+(?:system|subsystem|service)|mailer[-_ ]?daemon|\bndr\b|"
    r"mail\s+administrator|post[-_ ]?master",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered\s+mail|returned\s+mail|returning\s+to\s+sender|delivery\s+status|"
    r"mail\s+(?:delivery\s+)?fail|delivery\s+(?:has\s+)?fail|fail(?:ed|ure)\s+(?:notice|delivery)|"
    r"non-?deliver|not\s+delivered|could\s+not\s+(?:be\s+)?(?:deliver|sen[dt])|"
    r"mail\s+system\s+error|delivery\s+(?:delayed|problem|error|notification)|delayed\s+mail|"
    r"message\s+\S+\s+delayed|warning:\s+could\s+not|unzustellbar|nicht\s+zustellbar|"
    r"non\s+remis|no\s+se\s+(?:puede|pudo)\s+entregar|estado\s+de\s+entrega|"
    r"n[ãa]o\s+(?:é\s+poss[íi]vel\s+)?entreg|mensagem\s+n[ãa]o\s+entregue|"
    r"メールエラー|配信エラー|不達|未達|エラー通知|не\s+доставлено|не\s+может\s+быть\s+доставлено|"
    r"aws\s+notification|are\s+not\s+member|errors\s+from",
    re.IGNORECASE,
)
# Phrases only delivery software writes, in several languages and JSON (Amazon SES via SNS).
_FAILURE_TEXT = re.compile(
    r"this\s+is\s+the\s+mail\s+system\s+at|could\s+not\s+be\s+delivered|couldn't\s+be\s+delivered|"
    r"was\s+not\s+delivered|wasn't\s+delivered|delivery\s+to\s+the\s+following\s+recipients?\s+"
    r"failed|wasn't\s+able\s+to\s+deliver|unable\s+to\s+deliver|permanent\s+(?:fatal\s+)?error|"
    r"following\s+address(?:es|\(es\))?\s+failed|delivery\s+has\s+failed|"
    r"undeliverable|not\s+(?:yet\s+)?been\s+delivered|no\s+valid\s+recipients|"
    r"delivery\s+(?:attempts?|temporarily)|message\s+delivery\s+failed|"
    r"delivery\s+failure|returned\s+to\s+sender|you\s+are\s+not\s+a\s+member|not\s+member|"
    r"\"notificationType\"\s*:\s*\"Bounce\"|"
    r"送信できませんでした|配信できません|届きませんでした|不達|"
    r"не\s+может\s+быть\s+доставлено|не\s+доставлено|konnte\s+nicht\s+zugestellt|"
    r"n'a\s+pas\s+pu\s+[êe]tre\s+(?:remis|distribu)|no\s+se\s+pudo\s+entregar|"
    r"n[ãa]o\s+p[ôo]de\s+ser\s+entregue",
    re.IGNORECASE,
)
_SMTP_REPLY = re.compile(
    r"(?:said:|error|SMTP|RCPT|\bcode\b|#|\bremote\b)[^\n]{0,80}?\b([45])\d\d\b", re.IGNORECASE
)
_ENHANCED_STATUS = re.compile(r"(?<![\d.])[245]\.\d{1,3}\.\d{1,3}(?![\d.])")
_SES_DIAGNOSTIC = re.compile(r'"diagnosticCode"\s*:\s*"([^"]{0,1000})"')
_INLINE_MESSAGE_ID = re.compile(r"^Message-ID:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True, slots=True)
class BounceReading:
    """Who could not be reached, what that means, and which of our messages bounced.

    `bounce_class` is "gone" (the address no longer works), "refused" (this message was
    refused or delayed: policy, spam, full mailbox, size, network) or "complaint" (an ARF
    spam report). `permanent` is kept for callers that predate the class: it means "gone".
    """

    recipient: str | None
    permanent: bool
    original_message_id: str | None
    reasons: tuple[str, ...]
    bounce_class: BounceClass = GONE


def read_bounce(message: Message) -> BounceReading | None:
    """A BounceReading when the message is a failure report or a complaint, else None."""
    parts = list(islice(walk(message), MAX_BOUNCE_PARTS))
    original_id = _original_message_id(parts)
    if is_feedback_report(message, parts):
        reasons = ("ARF feedback report (RFC 5965)",)
        return _reading(complaint_recipient(parts), original_id, reasons, COMPLAINT)
    status = next((p for p in parts if content_type(p) == "message/delivery-status"), None)
    if status is not None:
        return _from_report(message, parts, status, original_id)
    return _from_legacy(message, parts, original_id)


def _reading(
    recipient: str | None, original_id: str | None, reasons: tuple[str, ...], kind: BounceClass
) -> BounceReading:
    return BounceReading(recipient, kind == GONE, original_id, reasons, kind)


def _from_report(
    message: Message, parts: list[Message], status: Message, original_id: str | None
) -> BounceReading | None:
    blocks = _status_blocks(status)
    recipients = [b for b in blocks if b.get("Final-Recipient") or b.get("Original-Recipient")]
    actions = [_action(b) for b in recipients]
    if actions and all(action in _NOT_FAILED_ACTIONS for action in actions):
        return None  # a success or relay notice (RFC 3464 §2.3.3): nothing bounced
    failed = [b for b, a in zip(recipients, actions, strict=True) if a not in _NOT_FAILED_ACTIONS]
    chosen = failed[0] if failed else None
    reasons = ["RFC 3464 delivery status report"]
    text = _plain_text(parts)
    recipient = None
    if chosen is not None:
        field = chosen.get("Final-Recipient") or chosen.get("Original-Recipient")
        recipient = clean_address(str(field))
    recipient = recipient or header_recipient(message) or text_recipient(text)
    code = str(chosen.get("Status", "")).strip() if chosen is not None else ""
    diagnostic = header_text(chosen, "Diagnostic-Code") if chosen is not None else ""
    reasons.append(f"Action: {actions[0] if actions else '?'}, Status: {code or '?'}")
    kind = classify_failure(code or None, (diagnostic, text))
    return _reading(recipient, original_id, tuple(reasons), kind)


def _action(block: Message) -> str:
    """The block's Action; a 2.x.x Status means delivered whatever the Action says."""
    if str(block.get("Status", "")).strip().startswith(_SUCCESS_CLASS):
        return "delivered"
    return str(block.get("Action", "")).strip().lower()


def _status_blocks(status: Message) -> list[Message]:
    payload = status.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    text = part_text(status) or str(payload)
    parser = HeaderParser()
    return [parser.parsestr(block.strip() + "\n") for block in re.split(r"\n[ \t]*\n", text)]


def _from_legacy(
    message: Message, parts: list[Message], original_id: str | None
) -> BounceReading | None:
    text = _plain_text(parts)
    signals = _legacy_signals(message, text)
    if len(signals) < MIN_LEGACY_SIGNALS or _SES_DELIVERY.search(text[:MAX_CLASSIFY_CHARS]):
        return None
    diagnostic = _SES_DIAGNOSTIC.search(text)
    texts = (diagnostic.group(1), text) if diagnostic else (text,)
    kind = classify_failure(_legacy_code(text), texts)
    recipient = header_recipient(message) or text_recipient(text)
    reasons = (*signals, f"subject '{header_text(message, 'Subject')[:80]}'")
    return _reading(recipient, original_id or _inline_message_id(text), reasons, kind)


def _legacy_signals(message: Message, text: str) -> list[str]:
    """Which independent bounce cues fire: sender, subject, header, wording, status code."""
    sender = sender_address(message) or ""
    signals = []
    local = sender.split("@")[0]
    if local in DAEMON_LOCALS or not sender or _DAEMON_NAMES.search(header_text(message, "From")):
        signals.append(f"from {sender or 'the null sender'}")
    if _BOUNCE_SUBJECT.search(header_text(message, "Subject")):
        signals.append("bounce subject")
    if header_recipient(message):
        signals.append("X-Failed-Recipients")
    head = text[:MAX_CLASSIFY_CHARS]
    if _FAILURE_TEXT.search(head):
        signals.append("failure text")
    if _ENHANCED_STATUS.search(head) or _SMTP_REPLY.search(head):
        signals.append("status code")
    return signals


def _legacy_code(text: str) -> str | None:
    found = _ENHANCED_STATUS.search(text[:MAX_CLASSIFY_CHARS])
    if found:
        return found.group(0)
    reply = _SMTP_REPLY.search(text[:MAX_CLASSIFY_CHARS])
    return f"{reply.group(1)}.0.0" if reply else None


def _plain_text(parts: list[Message]) -> str:
    texts = []
    size = 0
    for part in parts:
        if content_type(part) in {"text/plain", "message/delivery-status"} and size < (
            MAX_BOUNCE_TEXT_CHARS
        ):
            texts.append(part_text(part)[:MAX_BOUNCE_TEXT_CHARS])
            size += len(texts[-1])
    return "\n".join(texts)[:MAX_BOUNCE_TEXT_CHARS]


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
