"""Recognise ARF feedback reports (RFC 5965 spam complaints) and read whose complaint it is."""

from __future__ import annotations

import re
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses

from jobs.reading.parts import content_type, header_text, part_text

FEEDBACK_PART = "message/feedback-report"
FEEDBACK_REPORT_TYPE = "feedback-report"
_RFC822_PARTS = frozenset({"message/rfc822", "text/rfc822-headers"})
_ADDRESS = re.compile(r"[^\s<>;,\"]+@[^\s<>;,\"]+\.[A-Za-z]{2,}")


def is_feedback_report(message: Message, parts: list[Message]) -> bool:
    """True for a multipart/report of report-type feedback-report or one with its report part."""
    report_type = str(message.get_param("report-type", "") or "").strip().lower()
    if content_type(message) == "multipart/report" and report_type == FEEDBACK_REPORT_TYPE:
        return True
    return any(content_type(part) == FEEDBACK_PART for part in parts)


def complaint_recipient(parts: list[Message]) -> str | None:
    """The complaining address: the report's Original-Rcpt-To, else the returned message's To."""
    for part in parts:
        if content_type(part) == FEEDBACK_PART:
            fields = _report_fields(part)
            found = _ADDRESS.search(header_text(fields, "Original-Rcpt-To"))
            if found:
                return found.group(0).lower()
    for part in parts:
        headers = _returned_headers(part)
        if headers is None:
            continue
        for _, address in getaddresses([header_text(headers, "To")]):
            if _ADDRESS.fullmatch(address):
                return address.lower()
    return None


def _report_fields(part: Message) -> Message:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    return HeaderParser().parsestr(part_text(part) or str(payload))


def _returned_headers(part: Message) -> Message | None:
    kind = content_type(part)
    if kind not in _RFC822_PARTS:
        return None
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    return HeaderParser().parsestr(part_text(part))
