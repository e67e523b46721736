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
_TOGETHER = re.compile(r"together|gemeinsam|ensemble|juntos|juntas", re.IGNORECASE)
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


def blocked(clauses: list[str], language: str, *, strong: bool) -> Finding | None:
    """The first clause that says the client is blocked: `strong` an obstacle named (waiting,
    broken, help), else not being able to (weaker: a new date may follow)."""
    for clause in clauses:
        why = _obstacle(clause, language) if strong else _unable(clause, language)
        if why:
            kind = "obstacle, waiting or help" if strong else "cannot do it"
            reason = f"clause '{clause}': {why} is {kind} → blocked"
            return Finding("blocked", confidence=FIRM if strong else WEAK, reasons=(reason,))
    return None


def _obstacle(clause: str, language: str) -> str | None:
    for found in cues.BLOCKED.finditer(clause):
        if not _ACTIVE_BEFORE.search(clause[: found.start()]):
            return f"'{found.group(0)}'"
    breaking = frames.in_class(clause, language, verbclasses.BREAKING)
    if breaking and breaking.word != breaking.lemma:
        return f"'{breaking.word}' (a breaking-down verb, {breaking.lemma})"
    return None


def _unable(clause: str, language: str) -> str | None:
    if found := cues.UNABLE.search(clause):
        return f"'{found.group(0)}'"
    for members, meaning in ((verbclasses.ABILITY, "able to"), (verbclasses.WORKING, "working")):
        if verb := frames.negated_verb(clause, language, members):
            return f"'{verb.word}' negated (a verb of being {meaning}, {verb.lemma})"
    know = frames.negated_verb(clause, language, _KNOW)
    if know and _HOW.search(clause):
        return f"'{know.word}' negated with a how-word (not knowing how to go on)"
    return None
