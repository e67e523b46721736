"""The demo's mail folder: each email coachd sends, written as .eml and shown, in date order.

Emails arrive in whatever order the worker's concurrent jobs finish: a client's answer and
their coach's notice, due the same moment, race each other. The folder holds each arrival
back for a moment (`flush`), then numbers, writes and prints them in the order of their Date
headers, so that the files and the printout are the same run to run.
"""

from __future__ import annotations

import email
import email.policy
import heapq
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

# Printed before the emails of the same moment: a reply comes before what it causes.
_REPLY_FIRST, _EMAIL = 0, 1
SHOWN_QUESTIONS = 2


@dataclass(frozen=True, order=True)
class _Pending:
    """An email (or a client's reply, to print) waiting for its turn, in show order."""

    at: datetime
    rank: int
    recipient: str  # two emails of one moment go by address: the same order every run
    raw: bytes = field(compare=False, default=b"")
    line: str = field(compare=False, default="")


class MailFolder:
    """aiosmtpd handler (on the controller's thread) that keeps every message it is sent."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0  # messages received
        self.written = 0  # messages written and shown
        self._pending: list[_Pending] = []
        self._received: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = _parsed(raw)
        pending = _Pending(
            at=parsedate_to_datetime(str(message["Date"])),
            rank=_EMAIL,
            recipient=message["To"].addresses[0].addr_spec,
            raw=raw,
        )
        with self._lock:
            self.count += 1
            self._received.append(message)
            heapq.heappush(self._pending, pending)
        return "250 OK"

    def note_reply(self, at: datetime, line: str) -> None:
        """A client's reply, printed among the emails at its moment."""
        with self._lock:
            heapq.heappush(self._pending, _Pending(at, _REPLY_FIRST, "", line=line))

    def last_to(self, address: str, before: datetime) -> EmailMessage | None:
        """The latest email to `address` dated no later than `before` (what a client answers)."""
        with self._lock:
            sent = [m for m in self._received if m["To"].addresses[0].addr_spec == address]
        dated = [(parsedate_to_datetime(str(m["Date"])), m) for m in sent]
        earlier = [(at, m) for at, m in dated if at <= before]
        return max(earlier, key=lambda pair: pair[0])[1] if earlier else None

    def flush(self, until: datetime | None = None) -> None:
        """Write and show, in order, everything dated up to `until` (None: everything)."""
        while True:
            with self._lock:
                if not self._pending or (until is not None and self._pending[0].at > until):
                    return
                item = heapq.heappop(self._pending)
            if item.rank == _REPLY_FIRST:
                print(item.line, flush=True)
                continue
            self.written += 1
            path = self.folder / f"{self.written:02d}-{item.recipient.partition('@')[0]}.eml"
            path.write_bytes(item.raw)
            print(describe(self.written, _parsed(item.raw), path.name), flush=True)


def describe(number: int, message: EmailMessage, filename: str) -> str:
    """Two lines about an email, at its Date in its reader's zone, and the questions it asks."""
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    questions = [line.strip(" -*") for line in text.splitlines() if line.strip().endswith("?")]
    at = parsedate_to_datetime(str(message["Date"]))
    lines = [
        f"{number:2d}. {at.astimezone(UTC):%a %d %b %H:%M} UTC ({at:%H:%M} their time)"
        f"  to {message['To']}",
        f"    {message['Subject']}  [{filename}]",
    ]
    # A client's email asks its questions; a coach's (a brief) only suggests what to ask.
    to_client = str(message.get("Reply-To", "")).startswith("reply+")
    label = "asks" if to_client else "suggests"
    lines += [f"    {label}: {q}" for q in questions[:SHOWN_QUESTIONS]]
    return "\n".join(lines)


def _parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message
