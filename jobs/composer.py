"""Composing email: templates rendered in Jinja's sandbox, wrapped in a header-safe MIME message."""

from __future__ import annotations

import binascii
import hashlib
import importlib.resources
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address, HeaderRegistry
from email.policy import EmailPolicy
from email.utils import format_datetime
from pathlib import Path

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    Template,
    select_autoescape,
)

from jobs.sandbox import BoundedSandbox, ConfinedLoader
from jobs.step import StepKind

BUILTIN_TEMPLATE_PACKAGE = "templates"  # top-level package shipped in the wheel
SUBJECT_FILE, TEXT_FILE, HTML_FILE = "subject.txt", "body.txt", "body.html"
SUBJECT_MAX_CHARS = 200
DISPLAY_NAME_MAX_CHARS = 100
ADDRESS_MAX_CHARS = 254  # RFC 5321 path limit
ELLIPSIS = "…"
_ENCODED_WORD_START, _ENCODED_WORD_DEFUSED = "=?", "= ?"
AUTO_SUBMITTED = "auto-generated"  # RFC 3834: auto-responders must not answer us
AUTO_RESPONSE_SUPPRESS = "All"  # Exchange's equivalent: no out-of-office replies
# Plain RFC 5322 dot-atom addresses only: no quoting, comments, routes, groups or spaces.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDR_SPEC = re.compile(
    rf"(?P<local>{_ATOM}(?:\.{_ATOM})*)@(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)"
)
_MSG_ID = re.compile(r"<[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+>", re.ASCII)
# Quoted-printable never writes "=_", so this boundary can never occur in a body; a
# fixed one also makes a retried message byte-identical.
MIME_BOUNDARY = "=_coachd_alternative"
_HEADERS = HeaderRegistry()
_CRLF = "\r\n"
# RFC 2047-encoding a non-ASCII header value is the stdlib's (CRLF, 78-column folding).
_FOLD_POLICY = EmailPolicy(linesep=_CRLF)
_MIME_HEADERS = (
    f"MIME-Version: 1.0{_CRLF}"
    f'Content-Type: multipart/alternative; boundary="{MIME_BOUNDARY}"{_CRLF}'
)
_DELIMITER = f"--{MIME_BOUNDARY}{_CRLF}"
_CLOSE_DELIMITER = f"{_CRLF}--{MIME_BOUNDARY}--{_CRLF}"
_QUOTED_PRINTABLE = "Content-Transfer-Encoding: quoted-printable"


class ComposeError(ValueError):
    """Raised when an envelope field cannot go into a header safely; `field` names it.

    The message never repeats the offending value: it may be a client's address.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """A step's rendered content: a one-line subject and the plain-text and HTML bodies."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope:
    """Who a message is from and to, and the headers that thread and classify it."""

    from_name: str
    from_address: str
    to_name: str
    to_address: str
    message_id: str
    date: datetime  # aware
    reply_to: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    list_unsubscribe: str | None = None  # the full header value, e.g. "<mailto:reply+tok@x.org>"


def one_line(text: str, max_chars: int) -> str:
    """`text` as one header-safe line: unsafe characters become spaces, runs collapse, capped."""
    line = " ".join(text.split())  # every line break, Unicode ones included, is whitespace
    if not line.isprintable():
        # Control, format (bidi overrides, zero-width), separator, private-use and unassigned
        # characters: anything that could break a header line, disguise text, or make the
        # header guard below refuse the whole message, becomes a plain space.
        kept = (c if c.isprintable() else " " for c in line)
        line = " ".join("".join(kept).split())
    # Literal "=?" could pose as an RFC 2047 encoded word, which readers decode (into
    # line breaks, even); a space defuses it. Real encoded words come from the policy.
    line = line.replace(_ENCODED_WORD_START, _ENCODED_WORD_DEFUSED)
    if len(line) <= max_chars:
        return line
    return line[: max_chars - len(ELLIPSIS)].rstrip() + ELLIPSIS


def thread_ids(thread: str, seq: int, domain: str) -> tuple[str, str | None, tuple[str, ...]]:
    """Message-ID, In-Reply-To and References for message `seq` of a commitment's thread.

    Every message after the first answers the one before it and names the thread's root,
    so mail clients show one conversation per commitment.
    """
    if seq < 0:
        raise ComposeError("Message-ID", "seq must not be negative")
    message_id = _checked_msg_id(f"<{thread}.{seq}@{domain}>", "Message-ID")
    if seq == 0:
        return message_id, None, ()
    root, previous = f"<{thread}.0@{domain}>", f"<{thread}.{seq - 1}@{domain}>"
    return message_id, previous, tuple(dict.fromkeys((root, previous)))


def _checked_msg_id(value: str, field: str) -> str:
    if not _MSG_ID.fullmatch(value):
        raise ComposeError(field, "not a <local@domain> message id of letters, digits and . _ + -")
    return value


def _checked_line(value: str, field: str) -> str:
    if not value.isprintable():
        raise ComposeError(field, "contains control or line-separator characters")
    return value


def _address(display_name: str, addr_spec: str, field: str) -> Address:
    """A validated mailbox; the display name is sanitised, the address must already be plain."""
    match = _ADDR_SPEC.fullmatch(addr_spec)
    if match is None or len(addr_spec) > ADDRESS_MAX_CHARS:
        raise ComposeError(field, "not a plain ASCII local@domain address")
    # Parts, not addr_spec: the regex is stricter than the stdlib parser and much faster.
    return Address(
        one_line(display_name, DISPLAY_NAME_MAX_CHARS),
        username=match["local"],
        domain=match["domain"],
    )


def _envelope_headers(envelope: Envelope, subject: str) -> Iterator[tuple[str, str | Address]]:
    if envelope.date.utcoffset() is None:
        raise ComposeError("Date", "needs an aware datetime")
    yield "From", _address(envelope.from_name, envelope.from_address, "From")
    yield "To", _address(envelope.to_name, envelope.to_address, "To")
    if envelope.reply_to is not None:
        yield "Reply-To", _address("", envelope.reply_to, "Reply-To")
    yield "Subject", one_line(subject, SUBJECT_MAX_CHARS)
    yield "Date", format_datetime(envelope.date)
    yield "Message-ID", _checked_msg_id(envelope.message_id, "Message-ID")
    if envelope.in_reply_to is not None:
        yield "In-Reply-To", _checked_msg_id(envelope.in_reply_to, "In-Reply-To")
    if envelope.references:
        yield "References", " ".join(_checked_msg_id(r, "References") for r in envelope.references)
    if envelope.list_unsubscribe is not None:
        yield "List-Unsubscribe", _checked_line(envelope.list_unsubscribe, "List-Unsubscribe")
        if "<https://" in envelope.list_unsubscribe:
            # RFC 8058: the https URL accepts a one-click POST (mail clients' unsubscribe button).
            yield "List-Unsubscribe-Post", "List-Unsubscribe=One-Click"
    yield "Auto-Submitted", AUTO_SUBMITTED
    yield "X-Auto-Response-Suppress", AUTO_RESPONSE_SUPPRESS


def _header_line(name: str, value: str | Address) -> str:
    """One checked, single-line header, CRLF-terminated.

    A printable ASCII value goes out as it is, unfolded: every value is bounded (a subject
    of SUBJECT_MAX_CHARS, two References) well under RFC 5322's 998-character line. Anything
    else, such as a non-ASCII display name, goes through the stdlib's header objects, which
    RFC 2047-encode it.
    """
    text = str(value)
    if not text.isprintable():  # values arrive checked; this is the last guard
        raise ComposeError(name, "contains control or line-separator characters")
    if text.isascii():
        return f"{name}: {text}{_CRLF}"
    folded: str = _HEADERS(name, value).fold(policy=_FOLD_POLICY)
    return folded


def _text_part(subtype: str, content: str) -> str:
    # Quoted-printable keeps any text 7-bit clean and lines short for every MTA;
    # binascii's encoder is C, the email package's is Python.
    # Line ends are made one kind first: b2a_qp would encode a lone CR as "=0D", and a reader
    # then sees one line end fewer than the author wrote (CR, LF and CRLF each end a line).
    lines = content.replace("\r\n", "\n").replace("\r", "\n")
    body = binascii.b2a_qp(lines.encode("utf-8"), istext=True).decode("ascii")
    crlf_body = body.replace("\n", _CRLF)
    headers = f'Content-Type: text/{subtype}; charset="utf-8"{_CRLF}{_QUOTED_PRINTABLE}{_CRLF}'
    return f"{headers}{_CRLF}{crlf_body}"


def _builtin_loader() -> BaseLoader:
    root = importlib.resources.files(BUILTIN_TEMPLATE_PACKAGE)
    if isinstance(root, Path):
        return FileSystemLoader(root)
    # A zipped install has no directory on disk; Jinja then reads through the import system.
    return PackageLoader(BUILTIN_TEMPLATE_PACKAGE, ".")


class Composer:
    """Renders a step's templates (a coach's overrides first, the built-ins after) into email.

    Every template, built-in or coach-authored, renders in an immutable sandbox with
    strict undefined variables and bounded arithmetic, sizes and loops (jobs.sandbox), so
    any template renders in bounded time; HTML templates autoescape. Templates compile once, when
    the Composer is built, so a broken override fails at start-up rather than mid-send.
    """

    def __init__(self, override_dir: Path | None = None) -> None:
        loaders: list[BaseLoader] = []
        if override_dir is not None:
            if not override_dir.is_dir():
                raise ComposeError("override_dir", "is not a directory")
            # A coach's folder: no file whose real path leaves it (symlinks to secrets).
            loaders.append(ConfinedLoader(override_dir))
        loaders.append(_builtin_loader())
        self._env = BoundedSandbox(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self._templates = {kind: self._load(kind) for kind in StepKind}
        self.digest = self._sources_digest()

    def _sources_digest(self) -> str:
        """A digest of every template's source: what a kept email was composed with
        (daemon.outbound.composeahead)."""
        digest = hashlib.blake2b(digest_size=16)
        loader = self._env.loader
        assert loader is not None
        for kind in StepKind:
            for name in (SUBJECT_FILE, TEXT_FILE, HTML_FILE):
                source, _, _ = loader.get_source(self._env, f"{kind.value}/{name}")
                digest.update(source.encode())
                digest.update(b"\0")
        return digest.hexdigest()

    def _load(self, kind: StepKind) -> tuple[Template, Template, Template]:
        subject, text, html = (
            f"{kind.value}/{name}" for name in (SUBJECT_FILE, TEXT_FILE, HTML_FILE)
        )
        loaded = (
            self._env.get_template(subject),
            self._env.get_template(text),
            self._env.get_template(html),
        )
        for template in loaded:
            # Jinja keeps a template's globals as a ChainMap over the environment's and
            # flattens it on every render: 40% of the render. Nothing adds globals after
            # start-up, so it is flattened once.
            template.globals = dict(template.globals)
        return loaded

    def render(self, kind: StepKind, context: Mapping[str, object]) -> RenderedMessage:
        """Render `kind`'s subject and bodies; Jinja errors (undefined, sandbox) propagate."""
        subject, text, html = self._templates[kind]
        return RenderedMessage(
            subject=one_line(subject.render(context), SUBJECT_MAX_CHARS),
            text=text.render(context),
            html=html.render(context),
        )

    def compose(self, envelope: Envelope, rendered: RenderedMessage) -> bytes:
        """A multipart/alternative message with CRLF line ends, ready for SMTP; raises
        ComposeError for any unsafe header value.

        Written directly rather than through `EmailMessage`: its generator cost more than
        the rest of a reminder's work, for a message whose shape never changes.
        """
        headers = (_header_line(n, v) for n, v in _envelope_headers(envelope, rendered.subject))
        parts = (_text_part("plain", rendered.text), _text_part("html", rendered.html))
        message = "".join(
            (*headers, _MIME_HEADERS, _CRLF, _DELIMITER, parts[0], _CRLF, _DELIMITER, parts[1])
        )
        return (message + _CLOSE_DELIMITER).encode("ascii")
