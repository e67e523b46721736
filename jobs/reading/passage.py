"""Read one passage (a whole reply, or one commitment's line) clause by clause into an intent."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from jobs.reading import cues, frames, verbclasses
from jobs.reading.blocked import blocked as blocked_in
from jobs.reading.blocked import help_with_day
from jobs.reading.clauses import split_clauses
from jobs.reading.completion import completion, partial
from jobs.reading.dates import DateHit, language_scores
from jobs.reading.finding import CONFLICT_PENALTY, FIRM, STRONG, UNSURE, WEAK, Context, Finding
from jobs.reading.futuredates import date_after_cue, future, looks_past
from jobs.reading.pause import pause
from jobs.reading.stop import stop_request
from jobs.reading.verbs import Verb, action_verb, language_of

_WAITING = re.compile(r"'[^']*(?:wait|wart|attend|esper|aguard)[^']*'", re.IGNORECASE)
LONG_CLAUSES = 10  # past this many clauses a cue is as likely about something else
MIXED_MIN_WORDS = 3  # common words of a second language that make a reply mixed…
MIXED_RATIO = 2  # …when it has at least half as many as the first language
BARE_DATE_WORDS = 2  # "2. tomorrow", "Tomorrow. Absolutely tomorrow."
MAX_DATED_CLAUSES = 12  # dateparser costs ~10 ms a clause; dates come early in a reply
_WORD = re.compile(r"[\w'\u2019]+")
# "ist am", "is on the", "est le", "es el", "é dia": a thing said to be on a day.
_COPULA_BEFORE_DATE = re.compile(
    r"\b(?:is|are|was|ist|sind|war|est|sont|c'est|es|son|fue|é|são|foi)\s+"
    r"(?:(?:on|am|le|el|the|dia|on\s+the|at|au|al|no|na)\s+)?$",
    re.IGNORECASE,
)


def read_passage(text: str, context: Context) -> Finding:
    """The intent of `text`, from the first clause of the strongest cue class that applies."""
    clauses = split_clauses(text)
    context = replace(context, dated=frozenset(clauses[:MAX_DATED_CLAUSES]))
    language = language_of(context.action, text)
    context = replace(context, language=language)
    word = action_verb(context.action, language) if context.action else None
    verb = Verb(word, language) if word else None
    for rule in (_undo, pause):
        if (found := rule(clauses, context)) is not None:
            return _hedged(found, text, clauses)
    maybe_stop = _stop(clauses, context)
    if maybe_stop is not None and maybe_stop.confidence >= WEAK:
        return _hedged(maybe_stop, text, clauses)  # an unsure stop yields to a firmer reading
    dated = _dated_clauses(clauses, context, verb)
    strong = [f for f in dated if f.confidence >= FIRM]
    blocked = blocked_in(clauses, context.language, strong=True, action=context.action)
    done = _done(clauses, context, verb)
    if done and blocked and _waits_after(done, blocked, clauses, verb):
        blocked = None  # "Antrag ist gestellt, jetzt warte ich auf den Brief": done, then waiting
    candidates = [
        strong[0] if strong else None, blocked, done,
        dated[0] if dated else None, blocked_in(clauses, context.language, strong=False),
    ]  # fmt: skip
    chosen = next((c for c in candidates if c is not None), None)
    if chosen is None:
        return maybe_stop or _note(clauses, context)
    if maybe_stop is not None:
        why = f"a possible stop set aside, less sure: {maybe_stop.reasons[0]}"
        less = round(max(chosen.confidence - CONFLICT_PENALTY, UNSURE), 2)
        chosen = replace(chosen, confidence=less, reasons=(*chosen.reasons, why))
    return _hedged(_with_conflicts(chosen, candidates), text, clauses)


def _waits_after(done: Finding, blocked: Finding, clauses: list[str], verb: Verb | None) -> bool:
    """The client waits on an answer to a step already done: a firm completion stands first,
    the obstacle is waiting (not a breakdown nor inability), and the action's verb is never
    negated ("ohne das möchte ich sie nicht abschicken": it is not done)."""
    if done.confidence < FIRM or not _WAITING.search(blocked.reasons[0]):
        return False
    for clause in clauses:
        said = verb.said_in(clause) if verb else None
        if said and _negated_before(clause, clause.find(said)):
            return False
    at = [
        next((i for i, c in enumerate(clauses) if f"'{c}'" in f.reasons[0]), -1)
        for f in (done, blocked)
    ]
    return 0 <= at[0] <= at[1]


def _with_conflicts(chosen: Finding, candidates: list[Finding | None]) -> Finding:
    others = {c.intent for c in candidates if c is not None} - {chosen.intent}
    if others:
        penalised = round(max(chosen.confidence - CONFLICT_PENALTY, UNSURE), 2)
        why = f"also cues of {', '.join(sorted(others))}: less sure"
        return Finding(chosen.intent, chosen.new_due, None, penalised, (*chosen.reasons, why))
    return chosen


def _hedged(found: Finding, text: str, clauses: list[str]) -> Finding:
    """Less sure of an inferred reading in a long reply or one mixing languages: the cue may
    be about something else, or the cue lists may not know one of the languages."""
    if found.confidence >= STRONG:
        return found
    scores = sorted(language_scores(text, exclusive=True).values(), reverse=True)
    mixed = scores[1] >= MIXED_MIN_WORDS and scores[1] * MIXED_RATIO >= scores[0]
    long = len(clauses) > LONG_CLAUSES
    if not (mixed or long):
        return found
    why = "a long reply" if long else "a reply mixing languages"
    confidence = round(max(found.confidence - CONFLICT_PENALTY, UNSURE), 2)
    return replace(found, confidence=confidence, reasons=(*found.reasons, f"{why}: less sure"))


def _undo(clauses: list[str], context: Context) -> Finding | None:
    del context
    for clause in clauses:
        if found := cues.UNDO.search(clause):
            return Finding("undo", confidence=STRONG, reasons=(_why(clause, found, "undo"),))
    return None


def _stop(clauses: list[str], context: Context) -> Finding | None:
    del context
    found = stop_request(clauses)
    if found is None:
        return None
    reason, confidence = found
    return Finding("stop", confidence=confidence, reasons=(f"{reason} → stop",))


def _dated_clauses(clauses: list[str], context: Context, verb: Verb | None) -> list[Finding]:
    """Reschedules, one per clause whose future date is a new due date (strong ones first)."""
    found = []
    for clause in clauses:
        if help_with_day(clause) or (
            _other_event(clause, context.action)
            and not _moves(clause, context.language)
            and not _own_plan(clause, verb)
        ):
            continue
        hits = future(clause, context)
        if not hits:
            continue
        hit = date_after_cue(clause, hits)
        if _result_date(clause, hit, verb, context.language):
            continue
        strength, why = _commitment(clause, hit, verb, context.language, context.dues)
        if strength < FIRM and context.dues and hit.day < min(context.dues):
            continue  # a plan for a day before the one agreed ("the rest tomorrow"): no new date
        if strength:
            reason = f"clause '{clause}': {why} with date '{hit.phrase}' → reschedule"
            date_reason = f"date phrase '{hit.phrase}' → {hit.day.isoformat()}"
            found.append(Finding("reschedule", hit.day, None, strength, (reason, date_reason)))
    return sorted(found, key=lambda f: -f.confidence)


def _moves(clause: str, language: str) -> str | None:
    """A moving cue: a frame ("let's say", "more time") or any form of a moving verb."""
    if move := cues.MOVE.search(clause):
        return f"'{move.group(0)}'"
    token = frames.in_class(clause, language, verbclasses.MOVING)
    return f"'{token.word}' ({token.lemma})" if token else None


def _commitment(
    clause: str, hit: DateHit, verb: Verb | None, language: str, dues: frozenset[date]
) -> tuple[float, str]:
    """How strongly a dated clause commits to a new date, and the cue that says so."""
    if move := _moves(clause, language):
        return FIRM, f"moving cue {move}"
    done = cues.DONE.search(clause)
    if (
        done
        and _same_part(clause, done.start(), hit.phrase)
        and not _negated_before(clause, done.start())
    ):
        return FIRM, f"completion '{done.group(0)}' promised for a day"
    future = cues.FUTURE.search(clause) or cues.DEADLINE.search(clause)
    if future:
        return WEAK, f"future or plan cue '{future.group(0)}'"
    if verb is not None and (said := verb.said_in(clause)):
        return WEAK, f"the action's verb '{said}' with a day"
    answered = _day_as_answer(clause, hit, dues)
    return (WEAK, answered) if answered else (0.0, "")


def _day_as_answer(clause: str, hit: DateHit, dues: frozenset[date]) -> str:
    """Why a clause with no cue still gives a new day: a day proposed as a question ("pode ser
    semana que vem na segunda?", not the day agreed), an explicit date, a date almost alone."""
    if cues.QUESTION_END.search(clause) and hit.day not in dues:
        return "a day proposed as a question"
    rest = _WORD.findall(clause.replace(hit.phrase, " "))
    if (len(rest) <= BARE_DATE_WORDS and not any(looks_past(w) for w in rest)) or hit.explicit:
        return "a date said as the answer"
    return ""


def _own_plan(clause: str, verb: Verb | None) -> bool:
    """The step's own verb in a plan ("vou ligar dia 22, que é o aniversário dela"): the day
    is the step's, whatever other event falls on it."""
    return bool(
        verb and verb.said_in(clause) and cues.FUTURE.search(clause) and not verb.past_in(clause)
    )


def _result_date(clause: str, hit: DateHit, verb: Verb | None, language: str) -> bool:
    """The day of the outcome or of some event, not a new due date: "the appointment is on the
    9th" (a noun and a copula before the day), "enrolled, first class is the 3rd" (the action's
    verb already in the past), unless the clause also moves the step."""
    if _moves(clause, language) or cues.DUE_WORD.search(clause):
        return False
    before = clause[: clause.find(hit.phrase)]
    if _COPULA_BEFORE_DATE.search(before):
        return True
    return bool(verb and verb.past_in(clause) and not cues.FUTURE.search(clause))


def _done(clauses: list[str], context: Context, verb: Verb | None) -> Finding | None:
    for clause in clauses:
        if (
            cues.QUESTION_END.search(clause)
            or cues.NOT_YET.search(clause)
            or cues.MOOT.search(clause)
        ):
            continue
        if cues.FUTURE.search(clause):
            continue  # "I'll have it done": a plan, not a completion
        found = completion(clause, context.language, verb)
        if found is None or _negated_before(clause, found[2]):
            continue
        if _dated_plan(clause, found[2], context) and not (verb and verb.past_in(clause)):
            continue  # "bis Freitag ist es erledigt" is a promise; "booked it for the 9th" is not
        if partial(clauses, clause, context.action):
            return None
        confidence, why, _ = found
        return Finding("done", confidence=confidence, reasons=(f"clause '{clause}': {why} → done",))
    return None


def _negated_before(clause: str, position: int) -> bool:
    """A negation scopes over what follows it in its part of the clause ("not done", "no lo he
    terminado"), not past a comma ("I can't believe it, all written!"); "no" after the cue is
    another word ("arrumei no sábado": in the)."""
    start = max(clause.rfind(mark, 0, position) for mark in ",;:")
    return any(start < found.start() < position for found in cues.NEGATION.finditer(clause))


def _dated_plan(clause: str, position: int, context: Context) -> bool:
    """A new future date beside the completion word ("bis Freitag ist es erledigt", "em duas
    semanas fica pronto") makes it a promise, unless the date is some other event's or stands
    in another part of the clause ("gemacht, Termin ist am 12.1.": the appointment's day)."""
    if _other_event(clause, context.action):
        return False
    return any(_same_part(clause, position, hit.phrase) for hit in future(clause, context))


def _other_event(clause: str, action: str) -> bool:
    """A word of some other event ("session", "cita", "wedding"), unless the step itself is
    about it ("pedir cita": the appointment is the step's own)."""
    return any(
        not re.search(rf"(?<!\w){re.escape(m.group(0))}", action, re.IGNORECASE)
        for m in cues.OTHER_EVENT.finditer(clause)
    )


def _same_part(clause: str, position: int, phrase: str) -> bool:
    """Whether `phrase` stands in the comma-delimited part of `clause` around `position`."""
    start = max(clause.rfind(mark, 0, position) for mark in ",;:")
    ends = [at for at in (clause.find(mark, position) for mark in ",;:") if at >= 0]
    return phrase in clause[start + 1 : min(ends, default=len(clause))]


def _note(clauses: list[str], context: Context) -> Finding:
    ignored = [c for c in clauses if cues.DONE.search(c) or future(c, context)]
    if ignored:
        reason = f"clause '{ignored[0]}': a completion or date cue, but negated, partial or not new"
        return Finding("note", confidence=UNSURE, reasons=(reason, "→ note"))
    return Finding("note", confidence=WEAK - 0.05, reasons=("no clause asks for a change → note",))


def _why(clause: str, found: re.Match[str], meaning: str) -> str:
    return f"clause '{clause}': '{found.group(0)}' is {meaning}"
