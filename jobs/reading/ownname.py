"""The client's own name at the end of their words: a sign-off, whatever it looks like.

Name-shape rules (jobs.reading.signatures.is_name) miss what people really sign with: "kev",
"mara", "Vale" (which is also Spanish for "OK"), "Gruß Uwe". The From header says who wrote:
a line made of the writer's own names (or a nickname that starts one of them) near the end
is their signature, and a short closing line right above it ("Bonne journée", "Speak soon,")
goes with it. What follows the name goes too when it is a signature block (title, company,
phone, address, and whatever a corporate footer puts after a phone number), but a P.S. after
the name is the writer's again and stays. A closing line left dangling at the very end
("Mil gracias," whose name was cut before) goes as well. Pure: text and the From header in,
text out.
"""

from __future__ import annotations

import re
from email.utils import parseaddr

from jobs.reading.learned import fold
from jobs.reading.signatures import (
    MAX_SIGNATURE_LINE_CHARS,
    MAX_SIGNATURE_LINES,
    is_contact,
    is_postscript,
    is_signature_line,
    is_signoff,
)

MIN_NICKNAME_CHARS = 3  # "kev" for Kevin; "ma" would match too much
MAX_NAME_LINE_WORDS = 4  # "Gruß Uwe", "Monique Girard", "bisous, Léa x"
MAX_CLOSING_WORDS = 8  # "Um beijinho e obrigada pela compreensão,"
MAX_CLOSING_CHARS = 60
_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)
_KISSES = frozenset({"x", "xx", "xxx", "xo", "bjs", "bj", "bss"})
_SENTENCE_END = re.compile(r"[.?!…]\s*$")


def sender_names(from_header: str) -> frozenset[str]:
    """Folded words of the display name and of the address's local part ("vale.rojas")."""
    display, address = parseaddr(from_header)
    local = address.split("@")[0]
    words = _TOKEN.findall(display) + _TOKEN.findall(local)
    return frozenset(fold(w) for w in words if len(w) >= 2)


def _is_own(word: str, names: frozenset[str]) -> bool:
    folded = fold(word)
    if folded in names:
        return True
    return len(folded) >= MIN_NICKNAME_CHARS and any(n.startswith(folded) for n in names)


def _name_line(line: str, names: frozenset[str]) -> bool:
    """ "Uwe", "kev", "Monique Girard", "Gruß Uwe", "- Rosa": ends with the writer's name, at
    most a closing word or two before it, and no sentence in it."""
    words = _TOKEN.findall(line)
    if not words or len(words) > MAX_NAME_LINE_WORDS or line.rstrip().endswith(("?", ".", ":")):
        return False
    named = [w for w in words if _is_own(w, names)]
    if not named or (not _is_own(words[-1], names) and fold(words[-1]) not in _KISSES):
        return False
    # "Um abraço da Ivone": a sign-off that ends with the name.
    return len(words) - len(named) <= MAX_NAME_LINE_WORDS - 2 or is_signoff(line)


def _closing_line(line: str) -> bool:
    text = line.strip()
    if is_signoff(text):
        return True
    words = text.split()
    return text.endswith(",") and len(words) <= MAX_CLOSING_WORDS and len(text) <= MAX_CLOSING_CHARS


def without_own_name(text: str, from_header: str) -> str:
    """`text` without the writer's own name near its end, the closing line above it and the
    signature block after it (a P.S. after them stays); unchanged when that would leave
    nothing or the From header names nobody."""
    names = sender_names(from_header)
    lines = text.rstrip().split("\n")
    if not names or len(lines) < 2:
        return text
    found = _signature_at(lines, names)
    if found is None:
        return _without_dangling_closing(text)
    start, end = found
    above = lines[:start]
    while above and not above[-1].strip():
        above.pop()
    if above and _closing_line(above[-1]) and len(above) > 1:
        above.pop()
    kept = "\n".join(above).rstrip()
    if not kept.strip():
        return text
    after = "\n".join(lines[end:]).strip()
    return f"{kept}\n\n{after}" if after else kept


def _signature_at(lines: list[str], names: frozenset[str]) -> tuple[int, int] | None:
    """Where the writer's signature is: the own-name line's index, and the index of the first
    line after its block (a P.S., or the end). The earliest such name line counts ("Ruth",
    then "Rev. Ruth Ellison" in the block under it)."""
    first = max(1, len(lines) - MAX_SIGNATURE_LINES)
    for index in range(first, len(lines)):
        if _name_line(lines[index], names) and (end := _block_end(lines, index + 1)) is not None:
            return index, end
    return None


def _block_end(lines: list[str], start: int) -> int | None:
    """The end of a signature block starting at `start` (the first P.S. line, or the end), or
    None when a line of it reads as the writer's words."""
    block_has_contact = any(is_contact(line) for line in lines[start:])
    after_contact = False
    for index in range(start, len(lines)):
        line = lines[index]
        if is_postscript(line):
            return index
        if after_contact or is_signature_line(line):
            after_contact = after_contact or is_contact(line)
            continue
        # "Jus Téranga - 100 % local, 100 % bon" above a phone number: a tagline, no sentence.
        short = len(line.strip()) <= MAX_SIGNATURE_LINE_CHARS
        if not (block_has_contact and short and not _SENTENCE_END.search(line)):
            return None
    return len(lines)


def _without_dangling_closing(text: str) -> str:
    """Without a last line that only opens a sign-off ("Mil gracias,", "Cumprimentos,"): a
    line ending in a comma ends no one's words."""
    lines = text.rstrip().split("\n")
    last = lines[-1].strip()
    if len(lines) < 2 or not last.endswith(",") or not _closing_line(last):
        return text
    kept = "\n".join(lines[:-1]).rstrip()
    return kept if kept.strip() else text
