"""The client's own name at the end of their words: a sign-off, whatever it looks like.

Name-shape rules (jobs.reading.signatures.is_name) miss what people really sign with: "kev",
"mara", "Vale" (which is also Spanish for "OK"), "Gruß Uwe". The From header says who wrote:
a last line made of the writer's own names (or a nickname that starts one of them) is their
signature, and a short closing line right above it ("Bonne journée", "Speak soon,") goes with
it. Pure: text and the From header in, text out.
"""

from __future__ import annotations

import re
from email.utils import parseaddr

from jobs.reading.learned import fold
from jobs.reading.signatures import is_signoff

MIN_NICKNAME_CHARS = 3  # "kev" for Kevin; "ma" would match too much
MAX_NAME_LINE_WORDS = 4  # "Gruß Uwe", "Monique Girard", "bisous, Léa x"
MAX_CLOSING_WORDS = 8  # "Um beijinho e obrigada pela compreensão,"
MAX_CLOSING_CHARS = 60
_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)
_KISSES = frozenset({"x", "xx", "xxx", "xo", "bjs", "bj", "bss"})


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
    return len(words) - len(named) <= MAX_NAME_LINE_WORDS - 2


def _closing_line(line: str) -> bool:
    text = line.strip()
    if is_signoff(text):
        return True
    words = text.split()
    return text.endswith(",") and len(words) <= MAX_CLOSING_WORDS and len(text) <= MAX_CLOSING_CHARS


def without_own_name(text: str, from_header: str) -> str:
    """`text` without a trailing line of the writer's own name and the closing line above it;
    unchanged when that would leave nothing or the From header names nobody."""
    names = sender_names(from_header)
    lines = text.rstrip().split("\n")
    if not names or len(lines) < 2 or not _name_line(lines[-1], names):
        return text
    above = lines[:-1]
    while above and not above[-1].strip():
        above.pop()
    if above and _closing_line(above[-1]) and len(above) > 1:
        above.pop()
    kept = "\n".join(above).rstrip()
    return kept if kept.strip() else text
