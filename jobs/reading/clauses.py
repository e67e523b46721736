"""Split new words into clauses: sentences, then the parts joined by "but", "aber", "mais"…"""

from __future__ import annotations

import re

from jobs.reading.daywords import MONTH_PATTERN

MAX_CLAUSES = 24  # the decision is in the first few; a wall of text only costs time
GREETING_MAX_WORDS = 4

_SENTENCE = re.compile(
    rf"(?<=\D\.)\s+|(?<=\d\.)\s+(?=[A-ZÄÖÜ][a-zäöü])(?!{MONTH_PATTERN})|(?<=[!?…])\s+|\n+"
    r"|(?<=[!?])(?=\S)|\s+[\u2013\u2014]\s+|;\s*|\s+-\s+"
)
_JOINT = re.compile(
    r",?\s+(?:but|though|aber|doch|sondern|pero|sino|por[ée]m)\s+|,\s+(?:mais|mas)\s+|,\s+(?=(?:so|also|donc|"
    r"as[íi]\s+que|ent[ãa]o|pois|porque|because|weil|car)\b)",
    re.IGNORECASE,
)
_GREETING = re.compile(
    r"^(?:hi|hey|hello|dear|morning|hallo|liebe[rs]?|moin|servus|sehr|bonjour|bonsoir|salut|coucou|"
    r"allo|hola|buen[oa]s?|estimad[oa]|ol[áa]|oi|bom|boa|prezad[oa]|car[oa]|madame|monsieur)\b"
    r"[^.!?]*[,:!]?$",
    re.IGNORECASE,
)


def split_clauses(text: str) -> list[str]:
    """The clauses of `text` in order, greetings dropped, each stripped and non-empty."""
    clauses: list[str] = []
    for raw in _SENTENCE.split(text):
        sentence = raw.strip(" \t,")
        if not sentence or _is_greeting(sentence):
            continue
        clauses.extend(part.strip(" ,") for part in _JOINT.split(sentence) if part.strip(" ,"))
        if len(clauses) >= MAX_CLAUSES:
            break
    return clauses[:MAX_CLAUSES]


def _is_greeting(sentence: str) -> bool:
    if len(sentence.split()) > GREETING_MAX_WORDS:
        return False
    return bool(_GREETING.match(sentence)) or sentence.endswith((",", ":"))
