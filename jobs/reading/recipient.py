"""Find the address a bounce is about in its headers and text, and clean what MTAs wrap it in."""

from __future__ import annotations

import re
from email.message import Message

from jobs.reading.parts import header_text

DAEMON_LOCALS = frozenset(
    {"mailer-daemon", "mailer_daemon", "mailerdaemon", "postmaster", "post_master", "mail-daemon"}
)

_FIELD_RECIPIENT = re.compile(
    r"^(?:Final|Original)-Recipient:\s*(?:rfc822\s*;)?\s*<?([^\s<>;]+@[^\s<>;]+?)>?\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_ANGLE_RECIPIENT = re.compile(r"^\s*<([^\s<>]+@[^\s<>]+)>:?", re.MULTILINE)
_FAILED_LIST = re.compile(
    r"(?:failed|permanent\s+(?:fatal\s+)?errors?|could\s+not\s+be\s+delivered|wasn't\s+delivered|"
    r"following\s+(?:recipients?|address(?:es|\(es\))?))[^\n]{0,200}:[ \t]*\n"
    r"(?:[ \t]*\n){0,3}[ \t]*<?([^\s<>]+@[^\s<>]+?)>?:?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_SES_RECIPIENT = re.compile(r'"emailAddress"\s*:\s*"([^"\s]+@[^"\s]+)"')
_ANY_ADDRESS = re.compile(r"<?([A-Za-z0-9._%+'=-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})>?")
_CLEAN_ADDRESS = re.compile(r"^[^@\s<>()\[\]:;,\"]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
_OUR_LOCALS = re.compile(r"^(?:reply|bounces|unsubscribe)\+", re.IGNORECASE)
_WRAPPING = "<>\"':;,.()[] \t"


def clean_address(value: str) -> str | None:
    """A bare, lowercased address from what a report wraps it in, or None when it is not one.

    1&1 appends a colon (`x@y.fr:`), GMX quotes (`"x@y.jp":`), old MTAs source-route
    (`@relay:x@y`); a pipe or a daemon's own address is not a recipient.
    """
    text = value.split(";", 1)[-1].strip()
    if ":" in text and text.lstrip(_WRAPPING).startswith("@"):
        text = text.rsplit(":", 1)[-1]
    text = text.strip(_WRAPPING).lower()
    if not _CLEAN_ADDRESS.match(text) or is_daemon_or_ours(text):
        return None
    return text


def is_daemon_or_ours(address: str) -> bool:
    """True for a postmaster/mailer-daemon address or one of coachd's own reply addresses."""
    local = address.split("@", maxsplit=1)[0].lower()
    return local in DAEMON_LOCALS or bool(_OUR_LOCALS.match(local))


def header_recipient(message: Message) -> str | None:
    """X-Failed-Recipients (Exim, Gmail, Mail.ru), the most explicit legacy marker there is."""
    for name in ("X-Failed-Recipients", "X-Mailer-Daemon-Recipients"):
        for value in header_text(message, name).split(","):
            address = clean_address(value)
            if address:
                return address
    return None


def text_recipient(text: str) -> str | None:
    """The failed address a plain-text bounce names: fields, `<addr>:` lines, lists, any address."""
    for pattern in (_FIELD_RECIPIENT, _SES_RECIPIENT, _ANGLE_RECIPIENT, _FAILED_LIST):
        for found in pattern.finditer(text):
            address = clean_address(found.group(1))
            if address:
                return address
    for found in _ANY_ADDRESS.finditer(text):
        address = clean_address(found.group(1))
        if address:
            return address
    return None
