"""Dates as a client reads them in an email, in their language ("Friday 4 December")."""

from __future__ import annotations

from datetime import date

# Weekdays from Monday, months from January; English comes from the same tables, so the
# output never depends on the machine's locale.
_WEEKDAYS = {
    "en": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
    "de": "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag",
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche",
    "es": "lunes martes miércoles jueves viernes sábado domingo",
    "pt": "segunda-feira terça-feira quarta-feira quinta-feira sexta-feira sábado domingo",
}
_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro "
    "dezembro",
}
_PATTERNS = {
    "en": "{weekday} {day} {month}",
    "de": "{weekday}, {day}. {month}",
    "fr": "{weekday} {day} {month}",
    "es": "{weekday} {day} de {month}",
    "pt": "{weekday}, {day} de {month}",
}
# How each language adds the year to the date above.
_YEAR_SUFFIXES = {"en": " {year}", "de": " {year}", "fr": " {year}", "es": " de {year}"}
_YEAR_SUFFIXES["pt"] = _YEAR_SUFFIXES["es"]
LANGUAGES = tuple(_PATTERNS)


def day_name(day: date, lang: str = "en", *, with_year: bool = False) -> str:
    """`day` written out in `lang` (English for any other), e.g. "Freitag, 4. Dezember";
    `with_year` adds the year ("Freitag, 4. Dezember 2025")."""
    lang = lang if lang in _PATTERNS else "en"
    pattern = _PATTERNS[lang] + (_YEAR_SUFFIXES[lang] if with_year else "")
    return pattern.format(
        weekday=_WEEKDAYS[lang].split()[day.weekday()],
        day=day.day,
        month=_MONTHS[lang].split()[day.month - 1],
        year=day.year,
    )


def due_name(due: date, today: date, lang: str = "en") -> str:
    """A due date as an email shows it: with its year when that is not this year's, so a
    date in another year (a typo'd one, or next January) never reads as this year's."""
    return day_name(due, lang, with_year=due.year != today.year)
