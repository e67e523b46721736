"""Whether a clause says the client is blocked: an obstacle, waiting, a breakdown, a request
for help, or not being able to (a frame: an ability verb under negation, in any inflection)."""

from __future__ import annotations

import re

from jobs.reading import cues, frames, verbclasses
from jobs.reading.finding import FIRM, WEAK, Finding

# "j'ai bloqué l'après-midi", "I've blocked out Friday": the client reserved time, an active
# verb with a have-auxiliary, not a blocked client ("ich bin blockiert", "I've been blocked").
_ACTIVE_BEFORE = re.compile(
    r"(?:\bi've|\bi\s+have|j'ai|\bai|\bhabe?|\bhe|\btenho)\s+(?!been\b|été\b|sido\b)(?:\w+\s+)?$",
    re.IGNORECASE,
)
# Someone else as the clause's subject: a determiner and a noun, or a third-person pronoun.
_THIRD_PARTY = re.compile(
    r"^\W*(?:(?:the|my|our|their|his|her|die|der|das|mein\w*|unser\w*|le|la|les|mon|ma|mes|"
    r"notre|el|los|las|mi|mis|nuestr\w+|o|a|os|as|meu|minha|nosso|nossa)\s+(?P<noun>[^\W\d_]+)"
    r"|they|he|she|sie|er|ils|elles?|il|ellos|ellas?|[ée]l|eles?|elas?)\b",
    re.IGNORECASE,
)
_NOBODY = re.compile(
    r"(?<!\w)(?:nobody|no\s+one|niemand|personne|nadie|ningu[ée]m)(?!\w)", re.IGNORECASE
)
_FIRST_PERSON = re.compile(r"(?<!\w)(?:i|ich|je|yo|eu|we|wir|nous)(?!\w)", re.IGNORECASE)
# German separable "vorankommen": "ich komme einfach nicht voran".
_SEPARABLE_STUCK = re.compile(
    r"\bkomm\w*\s+(?:\w+\s+){0,3}nicht\s+(?:voran|weiter|vorw[äa]rts)\b", re.IGNORECASE
)
_WITHOUT = re.compile(r"(?<!\w)(?:without|ohne|sans|sin|sem)(?!\w)", re.IGNORECASE)
# "olhar junto", "verlo junto" (looking at it together), not "dou os parabéns junto" (as well).
_TOGETHER = re.compile(
    r"together|gemeinsam|ensemble|juntos|juntas|"
    r"\b(?:olh|ver|v[eê]|mir|revis|analis)\w*\s+(?:\w+\s+)?junto\b",
    re.IGNORECASE,
)
# Not knowing how: a knowing verb, a negation and a how-word ("weiß ehrlich gesagt nicht, wie").
_KNOW = frozenset({"know", "wissen", "savoir", "saber"})
_HOW = re.compile(
    r"(?<!\w)(?:how|where|wie|wo|womit|comment|par\s+o[ùu]|c[óo]mo|por\s+d[óo]nde|como|por\s+onde)"
    r"(?!\w)",
    re.IGNORECASE,
)


def help_with_day(clause: str) -> bool:
    """A request for the coach's help (a question with a help cue, or "together"): a day in
    it is a meeting, not a new due date."""
    return (bool(cues.BLOCKED.search(clause)) and "?" in clause) or bool(_TOGETHER.search(clause))


def blocked(clauses: list[str], language: str, *, strong: bool, action: str = "") -> Finding | None:
    """The first clause that says the client is blocked: `strong` an obstacle named (waiting,
    broken, help), else not being able to (weaker: a new date may follow)."""
    for clause in clauses:
        why = _obstacle(clause, language, action) if strong else _unable(clause, language)
        if why:
            kind = "obstacle, waiting or help" if strong else "cannot do it"
            reason = f"clause '{clause}': {why} is {kind} → blocked"
            return Finding("blocked", confidence=FIRM if strong else WEAK, reasons=(reason,))
    return None


def _obstacle(clause: str, language: str, action: str) -> str | None:
    for found in cues.BLOCKED.finditer(clause):
        if not _ACTIVE_BEFORE.search(clause[: found.start()]):
            return f"'{found.group(0)}'"
    if "?" in clause and (helped := frames.in_class(clause, language, verbclasses.HELPING)):
        return f"'{helped.word}' asked in a question (a request for help)"
    if owed := _others_owe(clause, language, action):
        return owed
    breaking = frames.in_class(clause, language, verbclasses.BREAKING)
    if breaking and breaking.word != breaking.lemma:
        return f"'{breaking.word}' (a breaking-down verb, {breaking.lemma})"
    return None


def _others_owe(clause: str, language: str, action: str) -> str | None:
    """Someone else, not the client nor the step's own object, has not answered, sent or
    delivered: "the council still haven't sent the permit", "der Vermieter hat sich nicht
    gemeldet", "le notaire n'a pas répondu"."""
    nobody = _NOBODY.search(clause)
    if nobody and (verb := frames.in_class(clause, language, verbclasses.DELIVERING)):
        return f"'{nobody.group(0)}' with '{verb.word}' (nobody answers)"
    subject = _THIRD_PARTY.match(clause)
    if subject is None or _FIRST_PERSON.search(clause[: subject.end()]):
        return None
    if subject.group("noun") and subject.group("noun").lower()[:5] in action.lower():
        return None  # "the report isn't sent": the step's own object, not a party
    verb = frames.negated_verb(clause, language, verbclasses.DELIVERING)
    if verb is None:
        return None
    return f"'{subject.group(0).strip()}' has not '{verb.word}' (someone else owes an answer)"


def _unable(clause: str, language: str) -> str | None:
    if found := cues.UNABLE.search(clause):
        return f"'{found.group(0)}'"
    if (without := _WITHOUT.search(clause)) and cues.NEGATION.search(clause[: without.start()]):
        return f"'{without.group(0)}' with a negation (something it needs is missing)"
    if stuck := _SEPARABLE_STUCK.search(clause):
        return f"'{stuck.group(0)}' (not getting on)"
    classes = (
        (verbclasses.ABILITY, "able to"),
        (verbclasses.WORKING, "working"),
        (verbclasses.PROGRESSING, "getting on"),
    )
    for members, meaning in classes:
        if verb := frames.negated_verb(clause, language, members):
            return f"'{verb.word}' negated (a verb of being {meaning}, {verb.lemma})"
    know = frames.negated_verb(clause, language, _KNOW)
    if know and _HOW.search(clause):
        return f"'{know.word}' negated with a how-word (not knowing how to go on)"
    return None
