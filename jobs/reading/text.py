"""Extract only the client's new words from a reply: no quoted history, signature or disclaimer."""

from __future__ import annotations

import re
from email.message import Message

from jobs.reading import quotes, signatures
from jobs.reading.htmltext import html_to_text
from jobs.reading.parts import content_type, is_attachment, part_text, walk

# New words come first or sit between short quotes: what lies beyond these is never read, so a
# hostile body costs the same as a long honest one.
MAX_BODY_CHARS = 64 * 1024
MAX_LINES = 4000

# NUL and other control characters (but tab and line breaks), and the bidi embeddings and
# overrides that reorder what a reader sees: never words, and kept out of the coach's email.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

Passage = list[str]


def body_text(message: Message) -> tuple[str, str]:
    """The message's readable body and where it came from: ("plain"|"html"|"none", text)."""
    html: str | None = None
    for part in walk(message):
        kind = content_type(part)
        if is_attachment(part) or kind not in {"text/plain", "text/html"}:
            continue
        if kind == "text/plain":
            text = part_text(part)
            if text.strip():
                return "plain", text
        elif html is None:
            html = part_text(part)
    if html is not None:
        return "html", html_to_text(html)
    return "none", ""


def new_words(text: str) -> str:
    """Only what the client wrote this time, every passage of it in order (top-, bottom-posted
    or between quotes): history, quote headers, signature, phone line, disclaimer removed."""
    text = _INVISIBLE.sub("", text[:MAX_BODY_CHARS])
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")[:MAX_LINES]
    lines = [line.rstrip() for line in lines]
    found = _passages(lines)
    kept = [_unsigned(passage) if signed else passage for passage, signed in found]
    words = "\n\n".join("\n".join(passage) for passage in kept if passage)
    if not words:
        # Garbage over missing content: whatever the client left unquoted is theirs.
        words = "\n".join(line for line in lines if line.strip() and not quotes.is_quoted(line))
    return re.sub(r"\n{3,}", "\n\n", words).strip()


def _unsigned(passage: Passage) -> Passage:
    """The passage without its trailing signature; a P.S. after the signature is kept."""
    postscript = next(
        (i for i in range(len(passage) - 1, 0, -1) if signatures.is_postscript(passage[i])), None
    )
    if postscript is not None:
        return [*_unsigned(passage[:postscript]), "", *_unsigned(passage[postscript:])]
    cut = signatures.signature_start(passage)
    if cut is None or not any(line.strip() for line in passage[:cut]):
        return passage
    return _trimmed(passage[:cut])


def _trimmed(passage: Passage) -> Passage:
    start, end = 0, len(passage)
    while start < end and not passage[start].strip():
        start += 1
    while end > start and not passage[end - 1].strip():
        end -= 1
    return passage[start:end]


def _attributions(lines: list[str]) -> dict[int, int]:
    """First line -> last line of every quote header ("On … wrote:") in the message."""
    found: dict[int, int] = {}
    for end in range(len(lines)):
        start = quotes.attribution_span(lines, end)
        if start is not None and not quotes.is_quoted(lines[start]):
            found.setdefault(start, end)
    return found


def _history_after(lines: list[str], index: int, attributions: dict[int, int]) -> int | None:
    """If history opens at `index`, the first line after its header; None if it does not."""
    if index in attributions:
        return attributions[index] + 1
    if quotes.is_header_block(lines, index):
        end = index
        while end < len(lines) and (end - index) < quotes.MAX_HEADER_BLOCK_LINES:
            if not lines[end].strip() or quotes.is_quoted(lines[end]):
                break
            end += 1
        return end
    if quotes.is_opener(lines, index):
        return index + 1
    return None


def _passages(lines: list[str]) -> list[tuple[Passage, bool]]:
    """The client's passages in order, each with whether a signature may end it (the last one,
    and one right above a quote header). A header followed by ">" lines quotes only those
    lines; one followed by plain text (Outlook, Yahoo, forwards) is history to the end."""
    attributions = _attributions(lines)
    passages: list[tuple[Passage, bool]] = []
    current: Passage = []
    cutting = False  # inside a signature, phone footer or disclaimer: not words until a quote
    index = 0
    while index < len(lines):
        line = lines[index]
        after = None if quotes.is_quoted(line) else _history_after(lines, index, attributions)
        if quotes.is_quoted(line) or after is not None:
            passages.append((_trimmed(current), after is not None))
            current, cutting = [], False
            index = _next_content(lines, after if after is not None else index + 1)
            if after is not None and index < len(lines) and not quotes.is_quoted(lines[index]):
                passages.extend((answer, False) for answer in _inline_answers(lines, index))
                return [p for p in passages if p[0]]
            continue
        if signatures.ends_words(line):
            cutting = True
        elif not cutting:
            current.append(line)
        index += 1
    passages.append((_trimmed(current), True))
    return [p for p in passages if p[0]]


def _inline_answers(lines: list[str], index: int) -> list[Passage]:
    """Tagged answers ("[JM] Done", "R: Enviei") written into un-prefixed history, each to the
    end of its paragraph; the next older header ends the search."""
    answers: list[Passage] = []
    if quotes.is_header_block(lines, index):  # the header under a separator line
        index = _paragraph_end(lines, index)
    while index < len(lines):
        if quotes.is_header_block(lines, index) or quotes.is_opener(lines, index):
            break
        if quotes.is_inline_answer(lines[index]):
            end = _paragraph_end(lines, index)
            answers.append(lines[index:end])
            index = end
        index += 1
    return answers


def _next_content(lines: list[str], index: int) -> int:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


def _paragraph_end(lines: list[str], index: int) -> int:
    while index < len(lines) and lines[index].strip():
        index += 1
    return index
