"""Reads Postmark, Mailgun and SendGrid inbound webhook payloads into raw messages."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from email.parser import HeaderParser
from email.policy import compat32

from daemon.inbound.form import DEFAULT_CHARSET
from daemon.inbound.message import InboundMessage
from daemon.inbound.mimebuild import (
    Header,
    MalformedPayloadError,
    build_message,
    format_address,
    unique,
)

POSTMARK_ID_DOMAIN = "inbound.postmarkapp.com"

FormFields = Mapping[str, bytes]
JsonObject = Mapping[str, object]


def _json(data: bytes | str, what: str) -> object:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:  # RecursionError: hostile nesting
        raise MalformedPayloadError(f"invalid {what} JSON") from exc


def _string(payload: JsonObject, key: str) -> str | None:
    value = payload.get(key)
    if value is None or isinstance(value, str):
        return value
    raise MalformedPayloadError(f"{key} is not a string")


def _objects(payload: JsonObject, key: str) -> Iterator[JsonObject]:
    value = payload.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise MalformedPayloadError(f"{key} is not a list of objects")
    yield from value


def _postmark_contact(contact: object, key: str) -> str | None:
    """A FromFull/ToFull entry ({Email, Name}) as a header address."""
    if contact is None:
        return None
    if not isinstance(contact, dict):
        raise MalformedPayloadError(f"{key} is not an object")
    address = _string(contact, "Email")
    return format_address(_string(contact, "Name"), address) if address else None


def _postmark_headers(payload: JsonObject) -> list[Header]:
    to_full = (_postmark_contact(item, "ToFull") for item in _objects(payload, "ToFull"))
    from_full = _postmark_contact(payload.get("FromFull"), "FromFull")
    first: list[tuple[str, str | None]] = [
        ("From", from_full or _string(payload, "From")),
        ("To", _string(payload, "To") or ", ".join(filter(None, to_full))),
        ("Cc", _string(payload, "Cc")),
        ("Reply-To", _string(payload, "ReplyTo")),
        ("Subject", _string(payload, "Subject")),
        ("Date", _string(payload, "Date")),
    ]
    headers = [(name, value) for name, value in first if value]
    for item in _objects(payload, "Headers"):
        name, value = _string(item, "Name"), _string(item, "Value")
        if name and value is not None:
            headers.append((name, value))
    # The original Message-ID (from Headers) wins; Postmark's own id is a stable stand-in.
    if postmark_id := _string(payload, "MessageID"):
        headers.append(("Message-ID", f"<{postmark_id}@{POSTMARK_ID_DOMAIN}>"))
    return headers


def parse_postmark(body: bytes) -> InboundMessage:
    """A Postmark inbound JSON payload: its RawEmail when included, else a rebuilt message."""
    payload = _json(body, "payload")
    if not isinstance(payload, dict):
        raise MalformedPayloadError("payload is not an object")
    recipients = [_string(payload, "OriginalRecipient") or ""]
    recipients += [_string(item, "Email") or "" for item in _objects(payload, "ToFull")]
    raw_email = _string(payload, "RawEmail")
    if raw_email:
        raw = raw_email.encode(DEFAULT_CHARSET, "replace")
    elif payload.get("From") or payload.get("FromFull"):
        text, html = _string(payload, "TextBody"), _string(payload, "HtmlBody")
        raw = build_message(_postmark_headers(payload), text, html)
    else:
        raise MalformedPayloadError("not a Postmark inbound payload")
    return InboundMessage(raw, unique(recipients), "postmark")


def _field(fields: FormFields, name: str, charset: str = DEFAULT_CHARSET) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    try:
        return value.decode(charset, "replace")
    except LookupError:  # the provider named a charset Python does not know
        return value.decode(DEFAULT_CHARSET, "replace")


def _mailgun_headers(fields: FormFields) -> list[Header]:
    headers: list[Header] = []
    if (listed := _field(fields, "message-headers")) is not None:
        pairs = _json(listed, "message-headers")
        if not isinstance(pairs, list):
            raise MalformedPayloadError("message-headers is not a list")
        for pair in pairs:
            if not (
                isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
            ):
                raise MalformedPayloadError("message-headers holds a non-pair")
            headers.append((pair[0], pair[1]))
    for name, key in (("From", "from"), ("To", "recipient"), ("Subject", "subject")):
        if value := _field(fields, key):
            headers.append((name, value))
    return headers


def parse_mailgun(fields: FormFields) -> InboundMessage:
    """A Mailgun route forward: `body-mime` (the MIME variant) when present, else a rebuild."""
    recipients = unique((_field(fields, "recipient") or "").split(","))
    raw = fields.get("body-mime")
    if not raw:
        if not (fields.get("from") or fields.get("message-headers")):
            raise MalformedPayloadError("not a Mailgun route payload")
        text, html = _field(fields, "body-plain"), _field(fields, "body-html")
        raw = build_message(_mailgun_headers(fields), text, html)
    return InboundMessage(raw, recipients, "mailgun")


def _sendgrid_charsets(fields: FormFields) -> dict[str, str]:
    listed = _field(fields, "charsets")
    charsets = _json(listed, "charsets") if listed else {}
    if not isinstance(charsets, dict):
        raise MalformedPayloadError("charsets is not an object")
    return {key: value for key, value in charsets.items() if isinstance(value, str)}


def _sendgrid_recipients(fields: FormFields) -> tuple[str, ...]:
    listed = _field(fields, "envelope")
    envelope = _json(listed, "envelope") if listed else {}
    to = envelope.get("to") if isinstance(envelope, dict) else None
    if to is None:
        return ()
    if not isinstance(to, list) or not all(isinstance(item, str) for item in to):
        raise MalformedPayloadError("envelope.to is not a list of addresses")
    return unique(to)


def _sendgrid_rebuilt(fields: FormFields) -> bytes:
    charsets = _sendgrid_charsets(fields)

    def text(name: str) -> str | None:
        return _field(fields, name, charsets.get(name, DEFAULT_CHARSET))

    block = HeaderParser(policy=compat32).parsestr(text("headers") or "", headersonly=True)
    headers: list[Header] = [(name, str(value)) for name, value in block.items()]
    for name, key in (("From", "from"), ("To", "to"), ("Subject", "subject")):
        if value := text(key):
            headers.append((name, value))
    return build_message(headers, text("text"), text("html"))


def parse_sendgrid(fields: FormFields) -> InboundMessage:
    """A SendGrid Inbound Parse post: the raw `email` field when sent, else a rebuild."""
    recipients = _sendgrid_recipients(fields)
    raw = fields.get("email")
    if not raw:
        if not (fields.get("headers") or fields.get("from")):
            raise MalformedPayloadError("not a SendGrid inbound parse payload")
        raw = _sendgrid_rebuilt(fields)
    return InboundMessage(raw, recipients, "sendgrid")
