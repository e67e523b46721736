"""Rejection reasons: one printable line of bounded length, whatever the input (they go to
logs and dead letters, and hostile input must not flood either or forge lines in them)."""

from __future__ import annotations

from pydantic import ValidationError

MAX_REASON_CHARS = 600
MAX_ECHO_CHARS = 40
ELLIPSIS = "…"


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming each bad field and why, without echoing (possibly huge) input values."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(echo(p, quote=False) for p in error["loc"]) or "event"
        if error["type"] == "union_tag_invalid":  # the message would repeat the tag in full
            ctx = error.get("ctx", {})
            tag, expected = echo(ctx.get("tag")), ctx.get("expected_tags")
            parts.append(f"{where}: unknown event type {tag}; expected one of {expected}")
        else:
            parts.append(f"{where}: {error['msg']}")
    return one_line("; ".join(parts))


def echo(value: object, *, quote: bool = True) -> str:
    """A short, printable stand-in for an input value inside a reason."""
    if isinstance(value, dict | list):
        return "an object" if isinstance(value, dict) else "an array"
    text = repr(value) if quote else str(value)
    return one_line(text, MAX_ECHO_CHARS)


def one_line(text: str, max_chars: int = MAX_REASON_CHARS) -> str:
    """`text` with every non-printable character escaped, capped at `max_chars`."""
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if len(text) <= max_chars:
        return text
    return text[: max_chars - len(ELLIPSIS)] + ELLIPSIS
