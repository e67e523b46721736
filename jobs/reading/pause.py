"""A pause: away or holding off until a day, or the emails themselves held until a day."""

from __future__ import annotations

from jobs.reading import cues, stopcues
from jobs.reading.dates import DateHit
from jobs.reading.finding import FIRM, Context, Finding
from jobs.reading.futuredates import best, future


def pause(clauses: list[str], context: Context) -> Finding | None:
    """Away or holding off until a day ("away until the 4th"), or the emails themselves held
    until a day ("bitte bis 3.1. keine Erinnerungen", "pode suspender os lembretes até…")."""
    if context.today is None:
        return None
    away = any(cues.PAUSE.search(c) for c in clauses)
    for clause in clauses:
        if not (away or _emails_held(clause, context)):
            continue
        hits = _until_day(clause, context)
        if hits:
            hit = best(hits)
            reason = f"clause '{clause}': away or hold-off until '{hit.phrase}' → pause {hit.day}"
            day = hit.day
            return Finding("note", pause_until=day, confidence=FIRM, reasons=(reason,))
    return None


def _emails_held(clause: str, context: Context) -> bool:
    """The emails are what the clause holds until a day, not the step (an action about emails,
    or a promise "I'll answer the mails by Friday", keeps its date)."""
    noun = stopcues.MESSAGE_NOUN.search(clause)
    if noun is None or stopcues.MESSAGE_NOUN.search(context.action):
        return False
    return not cues.FUTURE.search(clause)


def _until_day(clause: str, context: Context) -> list[DateHit]:
    """The days the clause holds off until: after "until"/"bis"/"jusqu'au" ("before the
    holidays" bounds nothing: "I'll do it on the 16th, before the holidays" is a plan); with
    "back"/"wieder da" the day may come first ("ab dem 7. wieder da")."""
    hits = future(clause, context)
    until = cues.UNTIL.search(clause)
    if until is not None:
        after = clause[until.start() :]
        if following := [h for h in hits if h.phrase in after]:
            return following
    back = cues.BACK.search(clause)
    if back is None:
        return []
    after = clause[back.start() :]
    return [h for h in hits if h.phrase in after] or hits
