"""Read a cadence request from a client's reply: which days, hours and how often they want
coachd's emails ("check on me on Friday mornings", "nicht vor 10", "moins souvent").

A sentence counts only when a scope cue makes it about the emails or being contacted, or when
the cue is one no other sentence uses ("not before 10", "less often", "weekends are fine");
a sentence about the client's own doing ("I'll finish it on Friday morning") never counts.
Away until a day is not read here: jobs.reading.pause sets `pause_until` for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from typing import Any

from jobs.clientcadence import MAX_LEAD_DAYS, CadenceRequest
from jobs.reading import cadencecues as cc
from jobs.reading.amounts import NUMBER_WORDS
from jobs.reading.cues import NEGATION, OTHER_EVENT

MAX_CADENCE_CHARS = 1000  # a request is said early; the rest of a long reply is other things
NOON = 12
LAST_HOUR = 23
LAST_MINUTE = 59
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
# A negation this close before a day name excludes the day ("not on Fridays"): not a choice.
_NEGATED_DAY = re.compile(r"(?:not|nicht|pas|no|n[ãa]o|nie|never|jamais|nunca)\s+(?:\w+\s+)?$")
# A day of the month right after the day's name ("el lunes 11 de enero", "le mardi 5 janvier",
# "Monday 4 January", "Montag, den 4."): one date, not a day of every week.
_DATED_DAY = re.compile(
    r",?\s+(?:(?:the|den|der|el|le|o|dia)\s+)?(?:[12]\d|3[01]|0?[1-9])(?!\d)", re.I
)


@dataclass(frozen=True, slots=True)
class CadenceReading:
    """The request read, the sentences that asked it, and which said each part of it."""

    request: CadenceRequest
    reasons: tuple[str, ...]
    sentences: tuple[str, ...] = ()

    def rest_of(self, text: str) -> str:
        """`text` without the request's sentences: a day named to time the emails ("write
        me on Wednesdays instead") is no new date for the step, so intent reads the rest."""
        for sentence in self.sentences:
            text = text.replace(sentence, " ", 1)
        return text if text.strip() else ""


def read_cadence(text: str) -> CadenceReading | None:
    """The cadence request in `text` (the client's new words), or None when there is none."""
    found: dict[str, Any] = {}
    reasons: list[str] = []
    sentences: list[str] = []
    for raw in _SENTENCE.split(text[:MAX_CADENCE_CHARS]):
        sentence = raw.strip()
        if not sentence or OTHER_EVENT.search(sentence) or cc.OWN_ACTION.search(sentence):
            continue
        asked = _sentence(sentence, _scoped(sentence))
        if asked:
            found.update(asked)
            sentences.append(sentence)
            reasons.append(f"sentence '{sentence}': {', '.join(sorted(asked))}")
    if not found:
        return None
    return CadenceReading(CadenceRequest(**found), tuple(reasons), tuple(sentences))


def _scoped(sentence: str) -> bool:
    """About the emails or being contacted, or asking (not telling) about timing."""
    return bool(
        cc.CONTACT.search(sentence)
        or cc.MESSAGE_NOUN.search(sentence)
        or cc.ASKING.search(sentence)
    )


def _sentence(sentence: str, scoped: bool) -> dict[str, Any]:
    asked: dict[str, Any] = {}
    strict = cc.NOT_BEFORE.search(sentence)
    hour = strict or (cc.AFTER_HOUR.search(sentence) if scoped else None)
    if hour and (moment := _hour(hour)) is not None:
        asked["not_before"] = moment
    weekends = _weekends(sentence)
    if weekends is not None:
        asked["weekends"] = weekends
    if cc.LESS_OFTEN.search(sentence):
        asked["less_often"] = True
    if scoped:
        asked.update(_scoped_parts(sentence))
    return asked


def _scoped_parts(sentence: str) -> dict[str, Any]:
    asked: dict[str, Any] = {}
    days = _days(sentence)
    if days:
        asked["days"] = days
    part = next((name for name, cue in cc.PARTS_OF_DAY.items() if cue.search(sentence)), None)
    if part is not None:
        asked["part"] = part
    per_week = cc.PER_WEEK.search(sentence)
    if per_week:
        count = per_week.group("n") or per_week.group("w")
        asked["per_week"] = int(count) if count.isdigit() else _times(count)
    lead = _lead(sentence)
    if lead is not None:
        asked["lead_days"] = lead
    return asked


def _days(sentence: str) -> tuple[int, ...]:
    named = [
        cc.WEEKDAY_NUMBERS[hit.group(0).lower()]
        for hit in cc.WEEKDAY.finditer(sentence)
        if not _NEGATED_DAY.search(sentence[: hit.start()].lower())
        and not _DATED_DAY.match(sentence, hit.end())
    ]
    return tuple(sorted(set(named)))


def _hour(found: re.Match[str]) -> time | None:
    hour, minute = int(found.group("h")), int(found.group("m") or 0)
    if (found.group("pm") or "").lower().startswith("p") and hour < NOON:
        hour += NOON
    if hour > LAST_HOUR or minute > LAST_MINUTE:
        return None
    return time(hour, minute)


def _weekends(sentence: str) -> bool | None:
    """True for "weekends are fine", False for "not at weekends"; None when not about them."""
    if not cc.WEEKEND.search(sentence) or cc.PAST.search(sentence):
        return None
    if cc.WEEKEND_NOT.search(sentence) or NEGATION.search(sentence):
        return False
    return True if cc.WEEKEND_FINE.search(sentence) else None


def _times(word: str) -> int:
    key = " ".join(word.lower().split())
    return cc.TIMES_WORDS.get(key, 1)


def _lead(sentence: str) -> int | None:
    """ "Remind me two days before": a reminder lead, only beside reminding and "before"."""
    if not (cc.REMIND.search(sentence) and cc.BEFORE_DUE.search(sentence)):
        return None
    found = cc.LEAD.search(sentence)
    if found is None:
        return None
    raw = found.group("n").lower()
    days = int(raw) if raw.isdigit() else NUMBER_WORDS[raw]
    return days if 1 <= days <= MAX_LEAD_DAYS else None
