"""Which dates in a clause are new future days: after the reply's day, not a due date already
known, and not told in the past ("submitted them Monday" is last Monday)."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from jobs.reading import cues
from jobs.reading.dates import DateHit, find_dates
from jobs.reading.finding import Context
from jobs.reading.verbs import EN_PAST

DATE_CACHE_SIZE = 256
DATE_NEAR_CHARS = 15  # "lundi 14 décembre": the day and month right after the weekday
_WORD = re.compile(r"[\w'\u2019]+")
_PAST_SUFFIXES = ("ed", "é", "ó", "ei", "ou", "iu", "ait")


def future(clause: str, context: Context) -> list[DateHit]:
    if context.today is None or clause not in context.dated:
        return []
    return list(_future_hits(clause, context.today, context.dues))


@lru_cache(maxsize=DATE_CACHE_SIZE)
def _future_hits(clause: str, today: date, dues: frozenset[date]) -> tuple[DateHit, ...]:
    """New future days in one clause (cached: every rule asks about the same clauses)."""
    hits = [h for h in find_dates(clause, today) if h.day > today and h.day not in dues]
    if _told_in_past(clause):  # "submitted them Monday", "envoyé mardi": last Monday, not next
        hits = [h for h in hits if h.explicit or any(ch.isdigit() for ch in h.phrase)]
    return tuple(hits)


def _told_in_past(clause: str) -> bool:
    if cues.FUTURE.search(clause):
        return False
    words = [w.lower() for w in _WORD.findall(clause)]
    return bool(cues.SINCE.search(clause)) or any(_past_word(w) for w in words)


def _past_word(word: str) -> bool:
    """A past form; not "put", "set", "cut", whose past is their present ("put me down for")."""
    return EN_PAST.get(word, word) != word or looks_past(word)


def best(hits: list[DateHit]) -> DateHit:
    """A day-and-month beats a bare weekday ("lunes 4 de enero"); else the first found."""
    dated = [h for h in hits if any(ch.isdigit() for ch in h.phrase)]
    return dated[0] if dated else hits[0]


def looks_past(word: str) -> bool:
    """A word that reads as a past verb ("picked", "empecé", "liguei"): no plan in that clause."""
    return word.lower().endswith(_PAST_SUFFIXES) and len(word) > len(max(_PAST_SUFFIXES, key=len))


def date_after_cue(clause: str, hits: list[DateHit]) -> DateHit:
    """The day a moving or plan cue points to: the first date after the cue ("me cambió el
    brief y tengo que entregarle mañana, lo puedo correr pa pasado mañana": the day after
    tomorrow), a day and month beating the weekday just before it; without a cue, `best`."""
    cue = cues.MOVE.search(clause) or cues.FUTURE.search(clause) or cues.DEADLINE.search(clause)
    if cue is None or len(hits) < 2:
        return best(hits)
    after = sorted(
        ((at, -len(h.phrase), h) for h in hits if (at := clause.find(h.phrase, cue.start())) >= 0),
        key=lambda item: item[:2],
    )
    if not after:
        return best(hits)
    first_at = after[0][0]
    dated = [h for at, _, h in after if at - first_at <= DATE_NEAR_CHARS and _has_digit(h)]
    return dated[0] if dated else after[0][2]


def _has_digit(hit: DateHit) -> bool:
    return any(ch.isdigit() for ch in hit.phrase)
