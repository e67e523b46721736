"""Day phrases dateparser misses or misreads: "dia 28", "am 8.12.", "mi-janvier", "fin du mois"."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

DAYS_PER_WEEK = 7
MONTHS_PER_YEAR = 12
MID_MONTH_DAY = 15
MAX_DAY = 31

# fmt: off
_MONTH_NAMES = (
    "january jan januar jänner jaenner janvier enero janeiro",
    "february feb februar feber février fevrier févr febrero fevereiro fev",
    "march märz maerz mars marzo março",
    "april apr avril abril",
    "may mai mayo maio",
    "june jun juni juin junio junho",
    "july jul juli juillet julio julho",
    "august aug août aout agosto",
    "september sep sept septembre septiembre setembro",
    "october oct oktober okt octobre octubre outubro",
    "november nov novembre noviembre novembro",
    "december dec dezember dez décembre decembre déc diciembre dic dezembro",
)
# fmt: on
MONTHS: dict[str, int] = {}
for _number, _names in enumerate(_MONTH_NAMES, start=1):
    MONTHS.update(dict.fromkeys(_names.split(), _number))
_MONTH = "|".join(sorted(map(re.escape, MONTHS), key=len, reverse=True))
MONTH_PATTERN = rf"(?i:(?:{_MONTH})\b)"
_ORD = r"(?:st|nd|rd|th|º|ª|er|\.)?"

_DAY_MONTH = re.compile(
    rf"\b(?P<d>\d{{1,2}}){_ORD}\s*(?:de\s+|of\s+|-)?(?P<m>{_MONTH})\b\.?", re.IGNORECASE
)
_MONTH_DAY = re.compile(rf"\b(?P<m>{_MONTH})\.?\s+(?P<d>\d{{1,2}}){_ORD}(?![\d:])", re.IGNORECASE)
_NUMERIC = re.compile(r"(?<![\d.])(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.?(?!\d|\.\d)")
_WEEKDAY = (
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|montag|dienstag|mittwoch|"
    r"donnerstag|freitag|samstag|sonntag|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|"
    r"lunes|martes|mi[ée]rcoles|jueves|viernes|s[áa]bado|domingo|segunda(?:-feira)?|"
    r"ter[çc]a(?:-feira)?|quarta(?:-feira)?|quinta(?:-feira)?|sexta(?:-feira)?"
)
_DAY_ONLY = re.compile(
    r"\b(?:the|le|el|d[íi]a|am|den|zum|au|al|ao|on\s+the|by\s+the|till\s+the|until\s+the|"
    rf"{_WEEKDAY}),?\s+(?P<d>\d{{1,2}}){_ORD}(?!\s*(?:h\b|uhr|%|:|\.?\d|(?:de\s+)?(?:{_MONTH})))",
    re.IGNORECASE,
)
_MID = re.compile(
    rf"\b(?:mid|middle\s+of|mitte|mi|mediados\s+de|meados\s+de)\s*-?\s*(?P<m>{_MONTH})\b",
    re.IGNORECASE,
)
_MONTH_END = re.compile(
    r"\b(?:(?:the\s+)?end\s+of\s+(?:the|this)\s+month|ende\s+(?:des|dieses)\s+monats|monatsende|"
    r"(?:la\s+)?fin\s+(?:du|de\s+ce)\s+mois|(?:el\s+)?(?:fin|final)\s+de(?:l)?\s+mes|"
    r"(?:o\s+)?(?:fim|final)\s+do\s+m[êe]s)\b",
    re.IGNORECASE,
)
_EARLY_NEXT_WEEK = re.compile(
    r"\b(?:early|beginning\s+of|start\s+of|anfang|d[ée]but(?:\s+de)?(?:\s+la)?|principios\s+de"
    r"(?:\s+la)?|comienzos\s+de(?:\s+la)?|in[íi]cio\s+da)\s+(?:next\s+week|n[äa]chster\s+woche|"
    r"semaine\s+prochaine|la\s+semana\s+que\s+viene|semana\s+que\s+viene|pr[óo]xima\s+semana)\b",
    re.IGNORECASE,
)

_WEEK_END = re.compile(
    r"\b(?:(?:the\s+)?end\s+of\s+(?P<en>next|this|the)\s+week|ende\s+(?P<de>n[äa]chster|dieser|der)\s+"
    r"woche|(?:la\s+)?fin\s+de\s+(?:la\s+|cette\s+)?semaine(?P<fr>\s+prochaine)?|"
    r"(?:a\s+)?final(?:es)?\s+de\s+(?:la\s+|esta\s+)?semana(?P<es>\s+que\s+viene|\s+pr[óo]xima)?|"
    r"(?:o\s+)?(?:fim|final)\s+da\s+(?P<pt>pr[óo]xima\s+)?semana(?P<pt_next>\s+que\s+vem)?)\b",
    re.IGNORECASE,
)
# A week after a weekday: "a week from Friday", "eine Woche nach Freitag", "huit jours après".
_WEEK_FROM = re.compile(
    r"\b(?:a\s+week\s+from|(?:eine\s+)?woche\s+nach|huit\s+jours\s+apr[èe]s|una\s+semana\s+"
    rf"despu[ée]s\s+del?|uma\s+semana\s+depois\s+d[eao])\s+(?:(?:the|le|el|o|a)\s+)?(?P<w>{_WEEKDAY})\b",
    re.IGNORECASE,
)
_WEEKDAY_INDEX = (
    "monday montag lundi lunes segunda",
    "tuesday dienstag mardi martes terça terca",
    "wednesday mittwoch mercredi miércoles miercoles quarta",
    "thursday donnerstag jeudi jueves quinta",
    "friday freitag vendredi viernes sexta",
    "saturday samstag samedi sábado sabado",
    "sunday sonntag dimanche domingo",
)
# A weekday of next week: "nächste Woche Mittwoch", "Wednesday next week", "el miércoles de la
# semana que viene", "next week, say Monday".
_NEXT = (
    r"(?:next\s+week|n[äa]chste\s+woche|la\s+semaine\s+prochaine|la\s+semana\s+que\s+viene|"
    r"la\s+pr[óo]xima\s+semana|(?:a\s+)?semana\s+que\s+vem|(?:a\s+)?pr[óo]xima\s+semana)"
)
_NEXT_WEEK_DAY = re.compile(
    rf"\b{_NEXT},?\s+(?:(?:say|sagen\s+wir|disons|digamos|on|am|le|el|na|no)\s+)?(?P<a>{_WEEKDAY})\b"
    rf"|\b(?P<b>{_WEEKDAY})\s+(?:of\s+|de\s+|da\s+)?{_NEXT}\b",
    re.IGNORECASE,
)
# Tomorrow and the day after, but not "la mañana" (the morning) or "Guten Morgen"; texting's
# "tmrw", "2moro", "dmn" (demain) too.
_TOMORROW = re.compile(
    r"\b(?P<two>day\s+after\s+tomorrow|[üu]bermorgen|apr[èe]s-demain|pasado\s+ma[ñn]ana|"
    r"depois\s+de\s+amanh[ãa])\b|(?<!la\s)(?<!esta\s)(?<!guten\s)(?<!cada\s)\b"
    r"(?:tomorrow|demain|ma[ñn]ana|amanh[ãa]|morgen|tmrw|tmr|tmw|2morrow|2moro|dmn|mñn)\b",
    re.IGNORECASE,
)
FRIDAY = 4


def day_phrases(text: str, today: date) -> list[tuple[str, date]]:
    """Every such phrase in `text` with the first matching day after `today`, in text order."""
    found: list[tuple[int, str, date]] = []
    for pattern in (_DAY_MONTH, _MONTH_DAY, _NUMERIC):
        for match in pattern.finditer(text):
            month = _month(match.group("m"))
            day = _on_or_after(today, month, int(match.group("d")))
            if day is not None:
                found.append((match.start(), match.group(0), day))
    for match in _DAY_ONLY.finditer(text):
        if not _inside(match.start("d"), found):
            day = _next_day_of_month(today, int(match.group("d")))
            if day is not None:
                found.append((match.start(), match.group(0), day))
    found.extend(_relative(text, today))
    return [(phrase, day) for _, phrase, day in sorted(found, key=lambda item: item[0])]


def _relative(text: str, today: date) -> list[tuple[int, str, date]]:
    found = []
    for match in _MID.finditer(text):
        day = _on_or_after(today, MONTHS[match.group("m").lower()], MID_MONTH_DAY)
        if day is not None:
            found.append((match.start(), match.group(0), day))
    for match in _MONTH_END.finditer(text):
        last = calendar.monthrange(today.year, today.month)[1]
        found.append((match.start(), match.group(0), today.replace(day=last)))
    for match in _WEEK_END.finditer(text):
        following = any(match.group(g) for g in ("fr", "es", "pt", "pt_next")) or (
            (match.group("en") or match.group("de") or "").lower().startswith("n")
        )
        found.append((match.start(), match.group(0), _friday(today, following=following)))
    for match in _TOMORROW.finditer(text):
        found.append(
            (match.start(), match.group(0), today + timedelta(days=2 if match.group("two") else 1))
        )
    for match in _WEEK_FROM.finditer(text):
        name = match.group("w").lower().split("-")[0]
        index = next(i for i, names in enumerate(_WEEKDAY_INDEX) if name in names.split())
        weekday = today + timedelta(days=(index - today.weekday() - 1) % DAYS_PER_WEEK + 1)
        found.append((match.start(), match.group(0), weekday + timedelta(days=DAYS_PER_WEEK)))
    for match in _NEXT_WEEK_DAY.finditer(text):
        name = (match.group("a") or match.group("b")).lower().split("-")[0]
        index = next(i for i, names in enumerate(_WEEKDAY_INDEX) if name in names.split())
        monday = today + timedelta(days=DAYS_PER_WEEK - today.weekday())
        found.append((match.start(), match.group(0), monday + timedelta(days=index)))
    for match in _EARLY_NEXT_WEEK.finditer(text):
        monday = today + timedelta(days=DAYS_PER_WEEK - today.weekday())
        found.append((match.start(), match.group(0), monday))
    return found


def _friday(today: date, *, following: bool) -> date:
    """The Friday ending this week (next week's once this one's is past), or next week's."""
    this_friday = today + timedelta(days=FRIDAY - today.weekday())
    if following or this_friday <= today:
        return this_friday + timedelta(days=DAYS_PER_WEEK)
    return this_friday


def _month(raw: str) -> int:
    return int(raw) if raw.isdigit() else MONTHS[raw.lower()]


def _on_or_after(today: date, month: int, day: int) -> date | None:
    """That day and month this year, or next year when it has passed."""
    if not 1 <= month <= MONTHS_PER_YEAR:
        return None
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            return None
        if candidate >= today:
            return candidate
    return None


def _next_day_of_month(today: date, day: int) -> date | None:
    if not 1 <= day <= MAX_DAY:
        return None
    year, month = today.year, today.month
    for _ in range(2):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate > today:
            return candidate
        year, month = (year + 1, 1) if month == MONTHS_PER_YEAR else (year, month + 1)
    return None


def _inside(start: int, found: list[tuple[int, str, date]]) -> bool:
    return any(begin <= start < begin + len(phrase) for begin, phrase, _ in found)
