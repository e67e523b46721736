"""A client's cadence in a few words of their language, for the confirmation (pure)."""

from __future__ import annotations

from jobs.clientcadence import CadenceRequest

# fmt: off
# Per language: the weekdays as a habit (Monday first), "and", the parts of day, and phrases.
_DAYS = {
    "en": ("on Mondays", "on Tuesdays", "on Wednesdays", "on Thursdays", "on Fridays",
           "on Saturdays", "on Sundays"),
    "de": ("montags", "dienstags", "mittwochs", "donnerstags", "freitags", "samstags",
           "sonntags"),
    "fr": ("le lundi", "le mardi", "le mercredi", "le jeudi", "le vendredi", "le samedi",
           "le dimanche"),
    "es": ("los lunes", "los martes", "los miércoles", "los jueves", "los viernes",
           "los sábados", "los domingos"),
    "pt": ("às segundas", "às terças", "às quartas", "às quintas", "às sextas", "aos sábados",
           "aos domingos"),
}
_AND = {"en": "and", "de": "und", "fr": "et", "es": "y", "pt": "e"}
_PARTS = {
    "en": {"morning": "in the morning", "afternoon": "in the afternoon",
           "evening": "in the evening"},
    "de": {"morning": "vormittags", "afternoon": "nachmittags", "evening": "abends"},
    "fr": {"morning": "le matin", "afternoon": "l’après-midi", "evening": "le soir"},
    "es": {"morning": "por la mañana", "afternoon": "por la tarde", "evening": "por la noche"},
    "pt": {"morning": "de manhã", "afternoon": "à tarde", "evening": "à noite"},
}
_PHRASES = {
    "en": ("not before {hour}", "at weekends too", "not at weekends", "at most once a week",
           "at most {n} times a week", "less often", "with the reminder {n} day(s) before"),
    "de": ("nicht vor {hour}", "auch am Wochenende", "nicht am Wochenende",
           "höchstens einmal pro Woche", "höchstens {n}-mal pro Woche", "seltener",
           "mit der Erinnerung {n} Tag(e) vorher"),
    "fr": ("pas avant {hour}", "le week-end aussi", "pas le week-end",
           "au plus une fois par semaine", "au plus {n} fois par semaine", "moins souvent",
           "avec le rappel {n} jour(s) avant"),
    "es": ("no antes de las {hour}", "también los fines de semana", "no los fines de semana",
           "como mucho una vez por semana", "como mucho {n} veces por semana",
           "con menos frecuencia", "con el recordatorio {n} día(s) antes"),
    "pt": ("não antes das {hour}", "também nos fins de semana", "não nos fins de semana",
           "no máximo uma vez por semana", "no máximo {n} vezes por semana",
           "com menos frequência", "com o lembrete {n} dia(s) antes"),
}
# fmt: on


def say_cadence(request: CadenceRequest, lang: str) -> str:
    """The request as the confirmation says it: "on Fridays, in the morning, not before 10:00"."""
    lang = lang if lang in _DAYS else "en"
    before, fine, not_weekends, once, times, rarer, lead = _PHRASES[lang]
    said: list[str] = []
    if request.days:
        said.append(f" {_AND[lang]} ".join(_DAYS[lang][d] for d in request.days))
    if request.part:
        said.append(_PARTS[lang][request.part])
    if request.not_before:
        said.append(before.format(hour=f"{request.not_before:%H:%M}"))
    if request.weekends is not None:
        said.append(fine if request.weekends else not_weekends)
    if request.per_week:
        said.append(once if request.per_week == 1 else times.format(n=request.per_week))
    if request.less_often:
        said.append(rarer)
    if request.lead_days:
        said.append(lead.format(n=request.lead_days))
    return ", ".join(said)
