"""Decide what a delivery failure means: the address is gone, or this one message was refused."""

from __future__ import annotations

import re

from jobs.events import BounceClass

GONE: BounceClass = "gone"
REFUSED: BounceClass = "refused"
COMPLAINT: BounceClass = "complaint"

TRANSIENT_CLASS = "4"
MAILBOX_SUBJECT = "2"
DISABLED_DETAIL = "1"
MAX_CLASSIFY_CHARS = 16 * 1024  # the SMTP reply and the first screen of a report say why

# RFC 3463 subject.detail codes that say the address itself is gone: bad mailbox (1.1),
# bad system (1.2), bad mailbox syntax (1.3), moved (1.6), domain accepts no mail
# (1.10, RFC 7505 null MX) and mailbox disabled (2.1). Everything else in a 5.x.x is about
# this message or the path to the address: full (2.2), size (3.4), policy (7.x), network (4.x).
# X.7.13 user account disabled, X.7.17/18 mailbox/domain owner changed (RFC 3463 registry).
# A permanent X.4.4 "unable to route" is a DNS verdict (no such domain, no mail exchanger),
# as final as X.1.2; a transient 4.4.4 is refused like every 4.x.x.
_GONE_CODES = frozenset({"1.1", "1.2", "1.3", "1.6", "1.10", "2.1", "4.4", "7.13", "7.17", "7.18"})
_REFUSED_CODES = frozenset({"1.7", "1.8"})  # the sender's address or system, not the recipient
_REFUSED_SUBJECTS = frozenset({"2", "3", "4", "5", "6", "7"})
_VAGUE_CODES = frozenset({"0.0", "1.0", "3.0", "5.0"})  # say nothing: read the text

# A refusal of the sender (MAIL FROM), of the content (at the end of DATA: the recipient was
# taken at RCPT TO, so a filter speaks, whatever its words) or of the connection is about
# this message or its sender, never proof the address is gone.
_STAGE = re.compile(
    r"(?:after|reply\s+to|like\s+our|smtp\s+command:?)\s+(?:the\s+)?"
    r"(?:mail\s+from|ehlo|helo|connect|initial\s+connection|greeting|end\s+of\s+data\b)",
    re.IGNORECASE,
)
# Words a remote server uses for a refusal that it still codes 5.1.1 or 5.0.0.
_OVERRIDING_TEXT = re.compile(
    r"spam|black\s?list|block\s?list|\bdnsbl|\brbl\b|spamhaus|reputation|\brate\b|"
    r"too\s+many|preferences|quota|mailbox\s+(?:is\s+)?full|sender\s+(?:address\s+)?rejected",
    re.IGNORECASE,
)
_NULL_MX = re.compile(r"null\s+mx|doesn't\s+receive\s+e-?mail|does\s+not\s+receive\s+e-?mail", re.I)
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
    r"unrecogni[sz]ed|not\s+(?:rfc|compliant)|rfc\s?5322|header\s+(?:syntax|error)|"
    r"bad\s+sequence|"
    r"mailbox\s+(?:is\s+)?busy|\bis\s+full\b|sender\s+(?:address\s+)?rejected|mismatch|"
    r"service\s+(?:currently\s+|temporarily\s+)?unavailable|improper\s+sequence|"
    r"aborted\s+after|not\s+yet\s+been\s+delivered|\d+\s+attempts|preferences|"
    r"容量|一杯|いっぱい|拒否|переполнен|отклонен|спам|voll\b|abgelehnt|plein|rechaz|recusad",
    re.IGNORECASE,
)
# Postfix's "Recipient address rejected:" prefixes every RCPT restriction (policy, auth, size),
# so only what follows it tells; Exchange Online's "Recipient address rejected: Access denied"
# (5.4.1, directory-based edge blocking) is its answer for an address it does not have.
_GONE_TEXT = re.compile(
    r"user\s+unknown|unknown\s+(?:user|recipient|mailbox|address|local|alias|account)|"
    r"no\s+such\s+(?:user|mailbox|recipient|account|address|person|domain|host)|"
    r"(?:user|mailbox|address|account|recipient)\s+(?:does\s+not|doesn't|did\s+not)\s+exist|"
    r"does\s+not\s+exist|doesn't\s+exist|not\s+(?:a\s+)?valid\s+(?:user|mailbox|recipient|"
    r"address)|invalid\s+(?:user|mailbox|recipient|address)|(?:user|mailbox|recipient|address|"
    r"account)\s+(?:not\s+found|unavailable|not\s+listed)|unrouteable|"
    r"address\s+rejected:\s+access\s+denied|"
    r"no\s+mailbox|mailbox\s+(?:unavailable|not\s+available|disabled|inactive)|"
    r"(?:account|mailbox|address|user)\s+(?:(?:has\s+been|is)\s+)?(?:disabled|suspended|"
    r"deactivated|inactive|closed|expired|terminated|locked|deleted|removed)|"
    r"(?:host|domain)\s+(?:\S+\s+)?(?:unknown|not\s+found|name\s+not\s+found)|unknown\s+(?:host|domain)|"
    r"name\s+or\s+service\s+not\s+known|no\s+(?:valid\s+)?(?:mx|smtp\s+service)|"
    r"indicated\s+no\s+smtp|does\s+not\s+accept\s+mail|not\s+accept\s+(?:any\s+)?mail|"
    r"has\s+moved|moved\s+(?:to|permanently)|no\s+longer\s+(?:available|valid|active|in\s+use|"
    r"exists)|no\s+valid\s+recipients|recipient\s+not\s+found|not\s+our\s+customer|"
    r"account\s+is\s+blocked|doesn't\s+have\s+an?\s+\S+\s+account|null\s+mx|"
    r"doesn't\s+receive\s+e-?mail|couldn't\s+find\s+a\s+mail\s+exchanger|"
    r"宛先不明|存在しません|見つかりません|ユーザ不明|アドレスは存在|不明|"
    r"не\s+существует|нет\s+такого|не\s+найден|unbekannt|existiert\s+nicht|"
    r"inconnu|n'existe\s+pas|no\s+existe|desconocid|n[ãa]o\s+existe|desconhecid|inesistente",
    re.IGNORECASE,
)


def classify_failure(code: str | None, texts: tuple[str, ...]) -> BounceClass:
    """Gone or refused: transient code, refused stage, telling code, then the texts' words.

    `code` is the report's Status (or None); `texts` run from the most specific (the SMTP
    reply) to the least (the human-readable explanation). Codes come first because they read
    the same in every language; words decide only when no code tells, except that a remote
    server's own refusal words ("blacklisted", "rate") beat the 5.1.1 many servers send for
    everything.
    """
    capped = tuple(text[:MAX_CLASSIFY_CHARS] for text in texts)
    status = _status(code, capped)
    verdict = _first_cue(status, capped)
    if verdict is not None:
        return verdict
    for found in _telling_codes(status, capped):
        verdict = _code_class(found)
        if verdict is not None:
            return verdict
    for text in capped:
        verdict = text_class(text)
        if verdict is not None:
            return verdict
    return GONE


def _first_cue(status: str | None, texts: tuple[str, ...]) -> BounceClass | None:
    """The cues that outrank any code: transient, refused stage, the remote server's words."""
    diagnostic = texts[0] if texts else ""
    if status and status.startswith(TRANSIENT_CLASS):
        return GONE if _NULL_MX.search(diagnostic) else REFUSED
    if any(_STAGE.search(text) for text in texts) or _OVERRIDING_TEXT.search(diagnostic):
        return REFUSED
    if _mailbox_exists(status):
        return REFUSED
    return GONE if _GONE_TEXT.search(diagnostic) else None


def _mailbox_exists(status: str | None) -> bool:
    """X.2.x other than X.2.1 (disabled) is mailbox status: the mailbox is there (RFC 3463 §3.3),
    so a "user unknown" text under it is a filter's wording, not a missing address."""
    found = _ENHANCED.search(status or "")
    if found is None:
        return False
    return found.group(2) == MAILBOX_SUBJECT and found.group(3) != DISABLED_DETAIL


def _status(code: str | None, texts: tuple[str, ...]) -> str | None:
    """The report's Status, else the first enhanced code in the texts."""
    for text in (code or "", *texts):
        found = _ENHANCED.search(text)
        if found:
            return found.group(0)
    return None


def _telling_codes(status: str | None, texts: tuple[str, ...]) -> list[str]:
    """Codes, most telling first: the remote server's (the diagnostic's last), the Status,
    then the rest of the texts'."""
    diagnostic = [m.group(0) for m in _ENHANCED.finditer(texts[0])] if texts else []
    rest = [m.group(0) for text in texts[1:] for m in _ENHANCED.finditer(text)]
    return [*reversed(diagnostic), *([status] if status else []), *rest]


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
    if key in _REFUSED_CODES:
        return REFUSED
    return REFUSED if subject in _REFUSED_SUBJECTS else None
