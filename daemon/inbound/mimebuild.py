"""Turns the untrusted fields of a provider's parsed webhook back into one RFC 5322 message."""

from __future__ import annotations

import email.errors
import email.policy
import email.utils
import re
from collections.abc import Iterable
from email.message import EmailMessage

from daemon.errors import CoachdError

# RFC 5322 §2.2: a field name is printable US-ASCII except the colon.
_FIELD_NAME = re.compile(r"^[!-9;-~]+$")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_LINE_BREAKS = re.compile(r"[\r\n\x00]+")
# Postmark writes "-04:00"; RFC 5322 wants "-0400" and the email package drops the zone otherwise.
_COLON_ZONE = re.compile(r"([+-]\d\d):(\d\d)\s*$")
# The body is re-encoded here, so the original's MIME structure headers no longer describe it.
_STRUCTURAL_HEADERS = frozenset(
    {"content-type", "content-transfer-encoding", "content-disposition", "mime-version"}
)
# What the email package raises on input it cannot represent.
# AttributeError too: the stdlib's address parser trips over some malformed groups
# ("'Group' object has no attribute 'local_part'", CPython 3.11) instead of raising a defect.
_EMAIL_ERRORS = (
    ValueError,
    TypeError,
    LookupError,
    IndexError,
    AttributeError,
    email.errors.MessageError,
)

Header = tuple[str, str]


class MalformedPayloadError(CoachdError):
    """Raised when a webhook payload cannot be read; `reason` is short and safe to answer with."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _encodable(text: str) -> str:
    """Replace lone surrogates (which JSON's \\u escapes can carry) so the text encodes as UTF-8."""
    return text.encode("utf-8", "replace").decode("utf-8")


def clean_header_value(value: str) -> str:
    """Unfold a header value and replace any remaining line break or NUL with a space.

    Values come from the sender's mail via the provider; a bare CR/LF must not start a new header.
    """
    return _LINE_BREAKS.sub(" ", _FOLD.sub("", _encodable(value))).strip()


def _normalised_date(value: str) -> str | None:
    value = _COLON_ZONE.sub(r"\1\2", value)
    try:
        email.utils.parsedate_to_datetime(value)
    except (ValueError, TypeError):
        return None
    return value


def _add_header(message: EmailMessage, name: str, value: str) -> None:
    """Add one header unless unusable; the first of a singleton header (From, Subject…) wins."""
    if not _FIELD_NAME.match(name) or name.lower() in _STRUCTURAL_HEADERS:
        return
    cleaned: str | None = clean_header_value(value)
    if name.lower() == "date":
        cleaned = _normalised_date(cleaned or "")
    if cleaned is None or (name in message and _is_singleton(message, name)):
        return
    try:
        message[name] = cleaned
    except _EMAIL_ERRORS:  # an unparseable value is left out rather than failing the message
        return


def _is_singleton(message: EmailMessage, name: str) -> bool:
    return message.policy.header_max_count(name) == 1


def build_message(headers: Iterable[Header], text: str | None, html: str | None) -> bytes:
    """An RFC 5322 message (CRLF line endings) from headers in order and a text and/or HTML body."""
    message = EmailMessage(policy=email.policy.SMTP)
    for name, value in headers:
        _add_header(message, name.strip(), value)
    text = None if text is None else _encodable(text)
    html = None if html is None else _encodable(html)
    try:
        if text is not None and html is not None:
            message.set_content(text)
            message.add_alternative(html, subtype="html")
        elif html is not None:
            message.set_content(html, subtype="html")
        else:
            message.set_content(text or "")
        return message.as_bytes()
    except _EMAIL_ERRORS as exc:
        raise MalformedPayloadError("message could not be rebuilt") from exc


def format_address(name: str | None, address: str) -> str:
    """`Name <address>` with the name quoted or encoded as needed; just the address without one."""
    return email.utils.formataddr((name or "", address)) if name else address


def unique(addresses: Iterable[str]) -> tuple[str, ...]:
    """Non-empty addresses, stripped, in first-seen order, without case-insensitive repeats."""
    seen: set[str] = set()
    result: list[str] = []
    for address in addresses:
        stripped = address.strip()
        if stripped and stripped.lower() not in seen:
            seen.add(stripped.lower())
            result.append(stripped)
    return tuple(result)
