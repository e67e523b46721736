"""Safe access to a raw email's headers and MIME parts, whatever the sender got wrong."""

from __future__ import annotations

import codecs
import email
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.header import Header, decode_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import Compat32
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from typing import Any

# Hostile input is capped, not refused: the receivers enforce the size limit itself.
MAX_PARSE_BYTES = 10 * 1024 * 1024
MAX_TEXT_CHARS = 256 * 1024
MAX_MIME_DEPTH = 20
MAX_PARTS = 500
MAX_HEADER_CHARS = 4000
# Every header value is cut to this many raw characters when it is read (see _BoundedHeaders);
# room for MAX_HEADER_CHARS of text in RFC 2047 words, far more than a genuine header needs.
MAX_RAW_HEADER_CHARS = 4 * MAX_HEADER_CHARS
FALLBACK_CHARSET = "utf-8"

_UNKNOWN_8BIT = "unknown-8bit"  # how compat32 labels raw 8-bit header bytes
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,500}>")


class _BoundedHeaders(Compat32):
    """compat32 (which never raises on access to a malformed header), with each header value
    cut to MAX_RAW_HEADER_CHARS whenever it is read, by the parser and by us. The stdlib's
    header code is slow on long values: decode_header is quadratic in a value's encoded words
    (a Subject of 500,000 took 35 s) and the parameter parser walks every parameter on each
    get_param (a Content-Type of 300,000 took 105 s to read)."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        return super().header_fetch_parse(name, value[:MAX_RAW_HEADER_CHARS])


BOUNDED_HEADERS = _BoundedHeaders()


def parse_message(raw: bytes) -> Message:
    """Parse bytes leniently, every header value bounded (see _BoundedHeaders)."""
    raw = raw[:MAX_PARSE_BYTES]
    try:
        return email.message_from_bytes(raw, policy=BOUNDED_HEADERS)
    except RecursionError:
        # MIME nested hundreds deep exhausts the stdlib parser's recursion. The headers
        # still say who wrote, to which reply address and in which thread; the body is lost.
        return parse_headers(raw)


def parse_headers(raw: bytes) -> Message:
    """The headers alone (the body stays one unparsed payload): all a message's envelope needs,
    at a fraction of a full parse's cost for a message of thousands of MIME parts."""
    return BytesHeaderParser(policy=BOUNDED_HEADERS).parsebytes(raw[:MAX_PARSE_BYTES])


def header_text(message: Message, name: str) -> str:
    """The first `name` header decoded to text (RFC 2047 words included), or ""."""
    values = header_texts(message, name)
    return values[0] if values else ""


def header_texts(message: Message, name: str) -> list[str]:
    """Every `name` header decoded to text; undecodable words are replaced, never raised."""
    decoded: list[str] = []
    for value in message.get_all(name) or []:
        decoded.append(_decode_header_value(value)[:MAX_HEADER_CHARS])
    return decoded


def _decode_header_value(value: object) -> str:
    """RFC 2047 words and raw 8-bit bytes (RFC 6532 UTF-8 or a legacy charset) decoded to text."""
    try:
        chunks = decode_header(value if isinstance(value, Header) else str(value))
    except (LookupError, UnicodeError, ValueError, AssertionError, TypeError):
        return str(value)
    decoded = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            known = None if charset in {None, _UNKNOWN_8BIT} else charset
            decoded.append(decode_bytes(chunk, known))
        else:
            decoded.append(chunk)
    return "".join(decoded)


def addresses(message: Message, names: tuple[str, ...]) -> list[str]:
    """Lowercased bare addresses found in the given address headers, in order."""
    values = [value for name in names for value in header_texts(message, name)]
    return [addr.strip().lower() for _, addr in getaddresses(values) if "@" in addr]


def sender_address(message: Message) -> str | None:
    """The From address, lowercased, or None when there is none."""
    _, addr = parseaddr(header_text(message, "From"))
    return addr.strip().lower() or None


def sent_at(message: Message) -> datetime | None:
    """The Date header as an aware datetime (a zone-less or -0000 date is read as UTC)."""
    value = header_text(message, "Date")
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def message_ids(value: str) -> list[str]:
    """Every `<id>` in a Message-ID, In-Reply-To or References value."""
    return _MESSAGE_ID.findall(value)


def walk(message: Message) -> Iterator[Message]:
    """Every part, depth-first, without recursion: at most MAX_PARTS, nested MAX_MIME_DEPTH deep."""
    stack: list[tuple[Message, int]] = [(message, 0)]
    seen = 0
    while stack and seen < MAX_PARTS:
        part, depth = stack.pop()
        seen += 1
        yield part
        payload = part.get_payload()
        if depth >= MAX_MIME_DEPTH or not isinstance(payload, list):
            continue
        children = [child for child in payload if isinstance(child, Message)]
        stack.extend((child, depth + 1) for child in reversed(children))


def is_attachment(part: Message) -> bool:
    """True when the sender marked the part as an attachment rather than the message body."""
    return header_text(part, "Content-Disposition").strip().lower().startswith("attachment")


def part_text(part: Message) -> str:
    """A leaf part's payload as text (capped): its charset, else UTF-8, else Latin-1."""
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, TypeError, AssertionError, LookupError):
        return ""
    if not isinstance(payload, bytes):
        return ""
    return decode_bytes(payload[: MAX_TEXT_CHARS * 4], part.get_content_charset())[:MAX_TEXT_CHARS]


def first_plain_text(message: Message, max_chars: int) -> str:
    """The first text/plain part's first `max_chars`, undecorated: a cheap, bounded fallback."""
    for part in walk(message):
        if part.get_content_type() == "text/plain":
            return part_text(part)[:max_chars]
    return ""


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset when Python knows it, else UTF-8, else Latin-1."""
    if charset:
        try:
            codecs.lookup(charset)
            return data.decode(charset, errors="replace")
        except (LookupError, ValueError, TypeError):
            pass  # unknown or unusable charset: fall through to the sensible guesses
    try:
        return data.decode(FALLBACK_CHARSET)
    except UnicodeDecodeError:
        return data.decode("latin-1")


def content_type(part: Message) -> str:
    """The lowercased `type/subtype`, defaulting like RFC 2045 does to text/plain."""
    try:
        return part.get_content_type().lower()
    except (ValueError, TypeError, AttributeError):
        return "text/plain"


# RFC 8601 results that vouch for the From domain: DMARC (aligned by definition, checked
# against header.from when given) or DKIM with a signing domain (header.d) the From domain
# is, or is under.
_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"^\s*(dmarc|dkim)\s*=\s*([a-z]+)\b(.*)$", re.IGNORECASE | re.DOTALL)
_PROPERTY = re.compile(r"\bheader\.(from|d)\s*=\s*\"?([^\s\";]+)", re.IGNORECASE)


def authenticated_from(message: Message, from_domain: str) -> bool | None:
    """What the topmost Authentication-Results header (RFC 8601) says of `from_domain`:
    True for an aligned dmarc=pass or dkim=pass, False for anything else, None with no
    such header. Only the topmost counts: our own MTA adds it above any the sender wrote."""
    values = header_texts(message, "Authentication-Results")
    if not values:
        return None
    domain = from_domain.lower().rstrip(".")
    # Comments are dropped (RFC 8601 allows them anywhere); nested ones lose only their words.
    text = _COMMENT.sub(" ", _COMMENT.sub(" ", values[0]))
    for resinfo in text.split(";")[1:]:  # the first element is the authserv-id
        found = _RESULT.match(resinfo)
        if found is None or found.group(2).lower() != "pass":
            continue
        properties = {k.lower(): v.lower().rstrip(".") for k, v in _PROPERTY.findall(found[3])}
        if found.group(1).lower() == "dmarc" and properties.get("from", domain) == domain:
            return True
        signer = properties.get("d")
        if found.group(1).lower() == "dkim" and signer and _aligned(domain, signer):
            return True
    return False


def _aligned(domain: str, signer: str) -> bool:
    # A bare top-level domain never vouches for the names under it.
    return domain == signer or ("." in signer and domain.endswith("." + signer))
