"""What every inbound route (IMAP, SMTP/LMTP receiver, webhooks) hands to coachd: raw mail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One received message, exactly as it arrived, and where it came from."""

    raw: bytes  # the RFC 5322 message
    recipients: tuple[str, ...]  # envelope recipients when the route knows them (RCPT TO)
    source: str  # "imap", "smtp", "lmtp", "postmark", "mailgun", "sendgrid"


# Must return only once the message is safely accepted (its event is in the inbox), or raise:
# a route acknowledges upstream (IMAP flag, SMTP 250, HTTP 200) only after it returns.
MessageSink = Callable[[InboundMessage], Awaitable[None]]
