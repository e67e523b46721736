"""Decide what a delivery failure means: the address is gone, or this one message was refused."""

from __future__ import annotations

import re
from typing import Literal

BounceClass = Literal["gone", "refused", "complaint"]

GONE: BounceClass = "gone"
REFUSED: BounceClass = "refused"
COMPLAINT: BounceClass = "complaint"

TRANSIENT_CLASS = "4"
MAX_CLASSIFY_CHARS = 16 * 1024  # the SMTP reply and the first screen of a report say why

# RFC 3463 subject.detail codes that say the address itself is gone: bad mailbox (1.1),
# bad system (1.2), bad mailbox syntax (1.3), moved (1.6), domain accepts no mail
# (1.10, RFC 7505 null MX) and mailbox disabled (2.1). Everything else in a 5.x.x is about
# this message or the path to the address: full (2.2), size (3.4), policy (7.x), network (4.x).
_GONE_CODES = frozenset({"1.1", "1.2", "1.3", "1.6", "1.10", "2.1"})
_REFUSED_SUBJECTS = frozenset({"2", "3", "4", "5", "6", "7"})
_VAGUE_CODES = frozenset({"0.0", "1.0", "2.0", "3.0", "5.0"})  # say nothing: read the text

_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")

# Refusals first: "blocked: user unknown to our filter" is still a block. Each alternative is
# a literal phrase with bounded gaps, so matching stays linear in the text's length.
_REFUSED_TEXT = re.compile(
    r"spam|blacklist|black\s?list|blocklist|block\s?list|blocked|\bdnsbl|\brbl\b|spamhaus|"
    r"reputation|policy|not\s+permitted|not\s+allowed|prohibited|denied|refused|"
    r"relay(?:ing)?\s+(?:denied|not|access)|authenticat|\bspf\b|\bdkim|\bdmarc|\bptr\b|"
    r"reverse\s+(?:dns|lookup|hostname)|\btls\b|starttls|virus|malware|content\s+(?:rejected|"
    r"filter)|filtered|mailbox\s+(?:is\s+)?full|inbox\s+(?:is\s+)?full|mailbox\s+size|"
    r"quota|over\s?quota|(?:storage|disk)\s+(?:space|allocation|full)|insufficient\s+(?:system\s+)?"
    r"storage|exceed|too\s+(?:big|large|long|many)|size\s+limit|message\s+size|rate\s+limit|"
    r"throttl|try\s+(?:again\s+)?later|timed?\s?out|expired|retry\s+time|delayed|"
    r"connection\s+(?:refused|reset|closed|lost)|network|unreachable|system\s+error|"
    r"internal\s+error|local\s+error|temporar|misconfig|\bloop|syntax\s+error|"
    r"unrecogni[sz]ed|not\s+(?:rfc|compliant)|rfc\s?\d{3,4}|header|bad\s+sequence|"
    r"mailbox\s+(?:is\s+)?busy|"
    r"容量|一杯|いっぱい|拒否|переполнен|отклонен|спам|voll\b|abgelehnt|plein|rechaz|recusad",
    re.IGNORECASE,
)
_GONE_TEXT = re.compile(
    r"user\s+unknown|unknown\s+(?:user|recipient|mailbox|address|local|alias|account)|"
    r"no\s+such\s+(?:user|mailbox|recipient|account|address|person|domain|host)|"
    r"(?:user|mailbox|address|account|recipient)\s+(?:does\s+not|doesn't|did\s+not)\s+exist|"
    r"does\s+not\s+exist|doesn't\s+exist|not\s+(?:a\s+)?valid\s+(?:user|mailbox|recipient|"
    r"address)|invalid\s+(?:user|mailbox|recipient|address)|(?:user|mailbox|recipient|address|"
    r"account)\s+(?:not\s+found|unavailable|not\s+listed|rejected)|unrouteable|"
    r"no\s+mailbox|mailbox\s+(?:unavailable|not\s+available|disabled|inactive)|"
    r"(?:account|mailbox|address|user)\s+(?:(?:has\s+been|is)\s+)?(?:disabled|suspended|"
    r"deactivated|inactive|closed|expired|terminated|locked|deleted|removed)|"
    r"(?:host|domain)\s+(?:unknown|not\s+found|name\s+not\s+found)|unknown\s+(?:host|domain)|"
    r"name\s+or\s+service\s+not\s+known|no\s+(?:valid\s+)?(?:mx|smtp\s+service)|"
    r"indicated\s+no\s+smtp|does\s+not\s+accept\s+mail|not\s+accept\s+(?:any\s+)?mail|"
    r"has\s+moved|moved\s+(?:to|permanently)|no\s+longer\s+(?:available|valid|active|in\s+use|"
    r"exists)|no\s+valid\s+recipients|recipient\s+not\s+found|not\s+our\s+customer|"
    r"宛先不明|存在しません|見つかりません|ユーザ不明|アドレスは存在|不明|"
    r"не\s+существует|нет\s+такого|не\s+найден|unbekannt|existiert\s+nicht|"
    r"inconnu|n'existe\s+pas|no\s+existe|desconocid|n[ãa]o\s+existe|desconhecid|inesistente",
    re.IGNORECASE,
)


def classify_failure(code: str | None, texts: tuple[str, ...]) -> BounceClass:
    """Gone or refused: a transient code, then a telling code, then the texts' cues in order.

    `code` is the report's Status (or the first enhanced code in a legacy text); `texts` run
    from the most specific (the SMTP reply) to the least (the human-readable explanation).
    """
    status = code or _first_code(texts)
    if status and status.startswith(TRANSIENT_CLASS):
        return REFUSED
    verdict = _code_class(status)
    if verdict is not None:
        return verdict
    for text in texts:
        verdict = text_class(text)
        if verdict is not None:
            return verdict
    return GONE


def text_class(text: str) -> BounceClass | None:
    """The class a diagnostic or report text's words point to, or None when they say nothing."""
    capped = text[:MAX_CLASSIFY_CHARS]
    refused = _REFUSED_TEXT.search(capped)
    gone = _GONE_TEXT.search(capped)
    if refused and gone:
        return REFUSED if refused.start() <= gone.start() else GONE
    if refused:
        return REFUSED
    return GONE if gone else None


def _code_class(status: str | None) -> BounceClass | None:
    if not status:
        return None
    found = _ENHANCED.search(status)
    if found is None:
        return None
    subject, detail = found.group(2), found.group(3)
    key = f"{subject}.{detail}"
    if key in _VAGUE_CODES:
        return None
    if key in _GONE_CODES:
        return GONE
    return REFUSED if subject in _REFUSED_SUBJECTS else None


def _first_code(texts: tuple[str, ...]) -> str | None:
    for text in texts:
        found = _ENHANCED.search(text[:MAX_CLASSIFY_CHARS])
        if found:
            return found.group(0)
    return None
