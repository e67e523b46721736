"""Amounts of time from the reply's day: "in two weeks", "dans quinze jours", "in a fortnight"."""

from __future__ import annotations

import re
from datetime import date, timedelta

DAYS_PER_WEEK = 7
DAYS_PER_MONTH = 30
MAX_AMOUNT = 365

_NUMBER_WORDS: dict[str, int] = {}
for _value, _names in enumerate(
    (
        "one a an uno una un ein eine einem einer une um uma",
        "two dos zwei deux dois duas",
        "three tres drei trois três",
        "four cuatro vier quatre quatro",
        "five cinco fünf cinq",
        "six seis sechs",
        "seven siete sete sieben sept",
        "eight ocho oito acht huit",
        "nine nueve nove neun neuf",
        "ten diez dez zehn dix",
    ),
    start=1,
):
    _NUMBER_WORDS.update(dict.fromkeys(_names.split(), _value))
# fmt: off
for _value, _names in (
    (11, "eleven once elf onze"), (12, "twelve doce zwölf douze doze"),
    (14, "fourteen catorce vierzehn quatorze catorze"), (15, "fifteen quince fünfzehn quinze"),
    (20, "twenty veinte zwanzig vingt vinte"), (30, "thirty treinta dreißig trente trinta"),
):
    _NUMBER_WORDS.update(dict.fromkeys(_names.split(), _value))
# fmt: on
NUMBER_WORDS = _NUMBER_WORDS  # "two" → 2 in the five languages (jobs.reading.cadencecues)
# French counts a week as "huit jours" and a fortnight as "quinze jours".
_FRENCH_DAYS = {8: DAYS_PER_WEEK, 15: 2 * DAYS_PER_WEEK}
_NUMBER = "|".join(sorted(map(re.escape, _NUMBER_WORDS), key=len, reverse=True))
# fmt: off
_UNIT_DAYS = {
    **dict.fromkeys(("day", "days", "día", "días", "dia", "dias", "tag", "tage", "tagen",
                     "jour", "jours"), 1),
    **dict.fromkeys(("week", "weeks", "semana", "semanas", "woche", "wochen", "semaine",
                     "semaines"), DAYS_PER_WEEK),
    **dict.fromkeys(("fortnight", "fortnights", "quinzaine", "quincena", "quinzena"),
                    2 * DAYS_PER_WEEK),
    **dict.fromkeys(("month", "months", "mes", "meses", "monat", "monate", "monaten",
                     "mois"), DAYS_PER_MONTH),
}
# fmt: on
# "in a week", "dans une semaine": a unit without a number is one of it ("in weeks" is none).
_SINGULAR_UNITS = frozenset(
    [
        "week",
        "fortnight",
        "month",
        "semana",
        "woche",
        "semaine",
        "quinzaine",
        "quincena",
        "quinzena",
        "mes",
        "monat",
        "mois",
    ]
)
_UNIT = "|".join(sorted(map(re.escape, _UNIT_DAYS), key=len, reverse=True))
_IN_AMOUNT = re.compile(
    rf"\b(?:in|en|dentro\s+de|dans|em|daqui\s+a|d'ici)\s+(?:(?:a|une|um|uma)\s+)?"
    rf"(?:(?P<n>\d{{1,3}}|{_NUMBER})\s+)?(?P<unit>{_UNIT})\b"
    rf"|\b(?P<n2>\d{{1,3}}|{_NUMBER})\s+(?P<unit2>{_UNIT})\s+(?:from\s+(?:now|today)|ab\s+heute|"
    r"(?:à\s+partir\s+)?d'aujourd'hui|a\s+partir\s+de\s+hoy|a\s+partir\s+de\s+hoje)\b",
    re.IGNORECASE,
)


def amount_phrases(text: str, today: date) -> list[tuple[str, date]]:
    """Every amount phrase in `text` with the day it means, in text order."""
    hits = []
    for found in _IN_AMOUNT.finditer(text):
        raw = (found.group("n") or found.group("n2") or "1").lower()
        amount = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
        unit = (found.group("unit") or found.group("unit2")).lower()
        days = amount * _UNIT_DAYS[unit]
        if unit == "jours":
            days = _FRENCH_DAYS.get(amount, days)
        counted = found.group("n") or found.group("n2") or unit in _SINGULAR_UNITS
        if counted and 0 < amount <= MAX_AMOUNT:
            hits.append((found.group(0), today + timedelta(days=days)))
    return hits
