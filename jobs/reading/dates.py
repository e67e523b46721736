"""Resolve date phrases in en/es/de/fr/pt ("next Friday", "in zwei Wochen", "3 de dezembro")."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateparser.search import search_dates

from jobs.reading.amounts import amount_phrases
from jobs.reading.daywords import MONTHS, day_phrases

LANGUAGES = ("en", "es", "de", "fr", "pt")
DAYS_PER_WEEK = 7
MAX_SEARCH_CHARS = 2000  # dateparser is slow; the new words are short and the dates near the top
MAX_WINDOWS = 6  # dateparser reads at most this many short windows around date-like words
WINDOW_CHARS = 40
MAX_WINDOW_SPAN = 200
MIN_MATCH_CHARS = 3
MAX_AHEAD = timedelta(days=366)  # a dateparser day further out is a misreading

# Very common words per language: enough to pick dateparser's language and the day-month order.
_STOPWORDS = {
    "en": "the and is it i you to my will be on of this that by can next week have with just",
    "es": "el la los las de que y en un una por para es lo mi semana próximo próxima hasta"
    " con ya pero muy",
    "de": "der die das und ist ich nicht es zu ein eine mit bis auf dem den wir nächste woche"
    " hab habe auch schon",
    "fr": "le la les et est je ne pas de un une pour au du ce mon semaine prochain d'ici"
    " j'ai des avec ça c'est qui sur",
    "pt": "o a os as e é eu não de um uma para em do da meu semana próxima até com já mas",
}
_STOPSETS = {lang: frozenset(words.split()) for lang, words in _STOPWORDS.items()}
_EXCLUSIVE = {
    lang: stops - frozenset().union(*(other for o, other in _STOPSETS.items() if o != lang))
    for lang, stops in _STOPSETS.items()
}

_WEEKDAYS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        "monday mon lunes montag lundi segunda segunda-feira",
        "tuesday tue tues martes dienstag mardi terça terça-feira terca",
        "wednesday wed miércoles miercoles mittwoch mercredi quarta quarta-feira",
        "thursday thu thurs jueves donnerstag jeudi quinta quinta-feira",
        "friday fri viernes freitag vendredi sexta sexta-feira",
        "saturday sat sábado sabado samstag samedi",
        "sunday sun domingo sonntag dimanche",
    )
):
    _WEEKDAYS.update(dict.fromkeys(_names.split(), _index))

_WEEKDAY_WORD = "|".join(sorted(map(re.escape, _WEEKDAYS), key=len, reverse=True))
_NEXT_BEFORE = (
    r"next|coming|this|el\s+próximo|el\s+proximo|próximo|la\s+próxima|próxima|proxima|"
    r"nächsten|nächster|nächste|naechsten|kommenden|diesen|ce|na|no|on|am|el|le"
)
_NEXT_AFTER = r"que\s+viene|prochain|prochaine|próximo|próxima"
_WEEKDAY_PHRASE = re.compile(
    rf"\b(?:(?P<before>{_NEXT_BEFORE})\s+)?(?P<day>{_WEEKDAY_WORD})\b(?:\s+(?P<after>{_NEXT_AFTER})\b)?",
    re.IGNORECASE,
)
_ABBREVIATIONS = frozenset(["mon", "tue", "tues", "wed", "thu", "thurs", "fri", "sat", "sun"])
# Portuguese weekdays without "-feira" are also ordinals ("primeira sim, segunda não"): a day
# only after a word that leads a day ("na segunda", "até sexta", "dia quinta").
_PT_ORDINALS = frozenset(["segunda", "terça", "terca", "quarta", "quinta", "sexta"])
_PT_WEEKDAY_LEAD = frozenset(
    [
        "até",
        "ate",
        "pra",
        "para",
        "a",
        "de",
        "dia",
        "essa",
        "esta",
        "nesta",
        "nessa",
        "toda",
        "cada",
    ]
)
_BARE_WEEK = re.compile(
    r"^(?:(?:the|la|a|of)\s+)?(?:next\s+week|n[äa]chste\s+woche|semaine\s+prochaine|"
    r"pr[óo]xima\s+semana|semana\s+que\s+v(?:iene|em))$",
    re.IGNORECASE,
)
_NEXT_WORDS = re.compile(r"next|próxim|proxim|nächst|naechst|prochain|que\s+viene", re.IGNORECASE)

_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
# dateparser's matches that are plainly not dates, and the German greeting that contains "Morgen".
_RELATIVE_WORDS = re.compile(
    r"\b(?:tomorrow|mañana|morgen|übermorgen|demain|amanhã|next\s+week|next\s+month|"
    r"semana\s+que\s+viene|próxima\s+semana|nächste\s+woche|semaine\s+prochaine)\b",
    re.IGNORECASE,
)
DEADLINE_LOOKBACK_WORDS = 3
_WORD = re.compile(r"[\w'\u2019]+")
# fmt: off
_DEADLINE_WORDS = frozenset((
    "by", "until", "till", "before", "back", "return", "returning",
    "para", "hasta", "antes", "vuelta", "regreso",
    "bis", "zum", "vor", "ab",
    "d'ici", "avant", "jusqu'au", "jusqu'à", "retour",
    "até", "ate", "volta", "retorno",
))
# fmt: on
_NOT_A_DATE = re.compile(r"\b(?:guten|esta|this)\s+$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DateHit:
    """A date phrase found in text, the day it means, and whether it clearly points forward."""

    phrase: str
    day: date
    explicit: bool


def guess_language(text: str) -> str:
    """The likeliest of en/es/de/fr/pt by common-word counts; English on a tie."""
    scores = language_scores(text)
    best = max(scores.values(), default=0)
    if best == 0 or scores["en"] == best:
        return "en"
    return next(lang for lang in LANGUAGES if scores[lang] == best)


def language_scores(text: str, *, exclusive: bool = False) -> dict[str, int]:
    """How many common words of each language the text has (en/es/de/fr/pt); `exclusive`
    counts only words common in that language alone ("de", "la" are in three)."""
    words = re.findall(r"[\w'-]+", text[:MAX_SEARCH_CHARS].lower())
    sets = _EXCLUSIVE if exclusive else _STOPSETS
    return {lang: sum(word in stops for word in words) for lang, stops in sets.items()}


def iso_date(text: str) -> date | None:
    """The first YYYY-MM-DD date in text, or None."""
    found = _ISO_DATE.search(text)
    if not found:
        return None
    try:
        return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:
        return None


def find_dates(text: str, today: date, language: str | None = None) -> list[DateHit]:
    """Every date phrase in text, in order of preference: ISO, weekdays, amounts, others.

    Callers decide what to do with dates that are not after `today`.
    """
    text = text[:MAX_SEARCH_CHARS]
    own = [DateHit(p, d, _deadline(text, p)) for p, d in day_phrases(text, today)]
    language = language or guess_language(text)
    weekdays = _weekday_hits(text, today, language)
    amounts = [DateHit(phrase, day, explicit=True) for phrase, day in amount_phrases(text, today)]
    hits = [*_iso_hits(text), *own, *weekdays, *amounts]
    for window in _windows(text):
        for hit in _dateparser_hits(window, today, language):
            if _BARE_WEEK.match(hit.phrase) or hit.day - today > MAX_AHEAD:
                continue  # "next week" alone names no day
            if not any(_overlap(hit, mine) for mine in (*own, *weekdays)):
                hits.append(hit)  # dateparser misreads what the own finders read well
    return _unique_days(hits)


def _overlap(first: DateHit, second: DateHit) -> bool:
    return first.phrase in second.phrase or second.phrase in first.phrase


def _unique_days(hits: list[DateHit]) -> list[DateHit]:
    """The first hit for each day: several finders often read the same phrase."""
    seen: set[date] = set()
    unique = []
    for hit in hits:
        if hit.day not in seen:
            seen.add(hit.day)
            unique.append(hit)
    return unique


_MONTH_WORD = "|".join(sorted(map(re.escape, MONTHS), key=len, reverse=True))
_CANDIDATE = re.compile(rf"\d|\b(?:{_MONTH_WORD})\b|{_RELATIVE_WORDS.pattern}", re.IGNORECASE)


def _windows(text: str) -> list[str]:
    """Short stretches around date-like words: all dateparser ever sees (it is slow)."""
    spans: list[tuple[int, int]] = []
    for found in _CANDIDATE.finditer(text):
        start, end = max(found.start() - WINDOW_CHARS, 0), found.end() + WINDOW_CHARS
        if spans and start <= spans[-1][1] and end - spans[-1][0] <= MAX_WINDOW_SPAN:
            spans[-1] = (spans[-1][0], end)
        elif len(spans) < MAX_WINDOWS:
            spans.append((start, end))
        else:
            break
    return [_whole_words(text, start, end) for start, end in spans]


def _whole_words(text: str, start: int, end: int) -> str:
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return text[start:end]


def _iso_hits(text: str) -> list[DateHit]:
    day = iso_date(text)
    found = _ISO_DATE.search(text)
    return [DateHit(found.group(0), day, explicit=False)] if day and found else []


def _weekday_hits(text: str, today: date, language: str) -> list[DateHit]:
    hits = []
    for found in _WEEKDAY_PHRASE.finditer(text):
        if not _is_weekday(text, found, language):
            continue
        modifier = f"{found.group('before') or ''} {found.group('after') or ''}"
        is_next = bool(_NEXT_WORDS.search(modifier))
        day = next_weekday(today, _WEEKDAYS[found.group("day").lower()], following_week=is_next)
        phrase = found.group(0).strip()
        hits.append(DateHit(phrase, day, explicit=is_next or _deadline(text, phrase)))
    return hits


def _is_weekday(text: str, found: re.Match[str], language: str) -> bool:
    """Not an acronym ("SAT"), a French "mon" (my), or a Portuguese ordinal ("segunda não")."""
    word = found.group("day")
    if len(word) <= len("thurs") and word.lower() in _ABBREVIATIONS:
        return language == "en" and not word.isupper()
    if word.lower() in _PT_ORDINALS and not found.group("before"):
        before = _WORD.findall(text[: found.start()].lower())[-1:]
        return bool(before) and before[0] in _PT_WEEKDAY_LEAD
    return True


def next_weekday(today: date, weekday: int, *, following_week: bool) -> date:
    """The next such weekday after today; with `following_week`, that weekday in next week.

    "next Friday" means the Friday of the coming calendar week (Monday-based), whatever
    today is; a bare "Friday" means the first Friday after today.
    """
    if following_week:
        next_monday = today + timedelta(days=DAYS_PER_WEEK - today.weekday())
        return next_monday + timedelta(days=weekday)
    ahead = (weekday - today.weekday()) % DAYS_PER_WEEK or DAYS_PER_WEEK
    return today + timedelta(days=ahead)


def _dateparser_hits(text: str, today: date, language: str) -> list[DateHit]:
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": datetime(today.year, today.month, today.day),
        "RETURN_AS_TIMEZONE_AWARE": False,
        "DATE_ORDER": "MDY" if language == "en" else "DMY",
        "STRICT_PARSING": False,
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # dateparser warns about its own internals
            found = search_dates(text, languages=[language], settings=settings) or []
    except (ValueError, TypeError, OverflowError, KeyError, IndexError, AttributeError):
        return []
    hits = []
    for phrase, when in found:
        if _plausible(text, phrase):
            hits.append(DateHit(phrase.strip(), when.date(), explicit=_deadline(text, phrase)))
    return hits


def _deadline(text: str, phrase: str) -> bool:
    """A date after "by", "until", "para el", "bis", "d'ici", "até"… is a proposed new date."""
    before = text[: max(text.find(phrase), 0)] + " " + phrase
    words = _WORD.findall(before.lower())
    start = len(words) - len(_WORD.findall(phrase))
    nearby = words[max(start - DEADLINE_LOOKBACK_WORDS, 0) : start + 1]
    return bool(_DEADLINE_WORDS.intersection(nearby) or _RELATIVE_WORDS.search(phrase))


def _plausible(text: str, phrase: str) -> bool:
    stripped = phrase.strip()
    if len(stripped) < MIN_MATCH_CHARS:
        return False
    before = text[: max(text.find(phrase), 0)]
    if _NOT_A_DATE.search(before):
        return False
    # Month names alone are too often words ("I may"); a real date phrase carries a number.
    return any(char.isdigit() for char in stripped) or bool(_RELATIVE_WORDS.search(stripped))
