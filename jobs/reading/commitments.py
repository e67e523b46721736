"""Split a reply that answers several commitments into one passage per commitment."""

from __future__ import annotations

import re
from collections.abc import Sequence

from jobs.reading.clauses import split_clauses

MIN_KEYWORD_CHARS = 4
KEYWORD_STEM_CHARS = 5

_NUMBERED = re.compile(r"^\s*\(?(\d)\s*(?:[.):]|\s-|\s\u2013)\s*(.*)$")
_MARKED = re.compile(r"^\s*(?:[-•*]|r:|\[[^\]]{1,12}\]|>)\s*(.+)$", re.IGNORECASE)
# Where a line's parts meet: a sentence end, a semicolon, a comma (with "and" or not).
_AND_JOINT = re.compile(r"(?<=[.!?])\s+|;\s*|,\s*(?:(?:and|und|et|y|e)\s+)?", re.IGNORECASE)
_INTRO = re.compile(r"below|abaixo|unten|ci-dessous|abajo|respondi|antworten|r[ée]ponses", re.I)
# fmt: off
_ORDINALS = (
    r"first|1st|erste\w*|premi[eè]re?|primer[oa]?|primeir[oa]",
    r"second|2nd|zweite\w*|deuxi[eè]me|second[e]?|segund[oa]",
    r"third|3rd|dritte\w*|troisi[eè]me|tercer[oa]?|terceir[oa]",
)
# fmt: on


def split_for(text: str, actions: Sequence[str]) -> list[str | None]:
    """One passage per action, in order (None where the reply says nothing of it)."""
    count = len(actions)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for split in (_numbered, _marked, _by_keywords, _by_keyword_parts, _by_order, _by_ordinals):
        found = split(lines, actions)
        if found is not None and sum(p is not None for p in found) == count:
            return found
    return _by_keywords(lines, actions) or [None] * count


def _numbered(lines: list[str], actions: Sequence[str]) -> list[str | None] | None:
    parts: list[str | None] = [None] * len(actions)
    for line in lines:
        found = _NUMBERED.match(line)
        if found and 1 <= int(found.group(1)) <= len(actions):
            parts[int(found.group(1)) - 1] = found.group(2)
    return parts if any(parts) else None


def _marked(lines: list[str], actions: Sequence[str]) -> list[str | None] | None:
    items = [m.group(1) for m in map(_MARKED.match, lines) if m]
    return list(items) if len(items) == len(actions) else None


def _by_keywords(lines: list[str], actions: Sequence[str]) -> list[str | None] | None:
    parts: list[str | None] = [None] * len(actions)
    stems = [_stems(a) for a in actions]
    for line in lines:
        for index, wanted in enumerate(stems):
            if parts[index] is None and wanted & _stems(line.split(":")[0]):
                parts[index] = line
                break
    return parts if any(parts) else None


def _by_keyword_parts(lines: list[str], actions: Sequence[str]) -> list[str | None] | None:
    """Within lines too: "Lo del banco ya quedó, y lo de la mudanza lo dejo para el 19" gives
    each part joined by "and" to the commitment its words name; a part naming none goes with
    the one before it."""
    parts: list[str | None] = [None] * len(actions)
    stems = [_stems(a) for a in actions]
    current: int | None = None
    for line in lines:
        for segment in filter(None, (s.strip(" ,;") for s in _AND_JOINT.split(line))):
            named = [i for i, w in enumerate(stems) if parts[i] is None and w & _stems(segment)]
            if named:
                current = named[0]
                parts[current] = segment
            elif current is not None:
                parts[current] = f"{parts[current]}, {segment}"
    return parts if any(parts) else None


def _by_order(lines: list[str], actions: Sequence[str]) -> list[str | None] | None:
    body = [ln for ln in lines if not _INTRO.search(ln) and split_clauses(ln)]
    return list(body) if len(body) == len(actions) else None


def _by_ordinals(lines: list[str], actions: Sequence[str]) -> list[str | None] | None:
    text = " ".join(lines)
    starts = []
    for pattern in _ORDINALS[: len(actions)]:
        found = re.search(rf"(?:\b\w+\s+)?\b(?:{pattern})\b", text, re.IGNORECASE)
        if found is None:
            return None
        starts.append(found.start())
    if starts != sorted(starts):
        return None
    ends = [*starts[1:], len(text)]
    return [text[s:e].strip(" ,;") for s, e in zip(starts, ends, strict=True)]


def _stems(text: str) -> set[str]:
    words = re.findall(r"[^\W\d_]+", text.lower())
    return {w[:KEYWORD_STEM_CHARS] for w in words if len(w) >= MIN_KEYWORD_CHARS}
