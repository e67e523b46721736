"""Whether a clause asks coachd to stop writing: the cue classes of a stop request, with scope."""

from __future__ import annotations

import re

from jobs.reading import cues, stopcues

SHORT_CLAUSE_WORDS = 6  # a clause this short may speak of the emails named just before
NEAR_CHARS = 40  # an email noun and "more" this close belong to one request
PLAIN = 0.9  # said with a firm cue: "unsubscribe", "take me off the list"
INFERRED = 0.8  # a cease verb with the emails, "don't write to me any more"
UNSURE = 0.6  # "let's leave it there": may be the step, not the emails; the coach confirms
# A request ending in a tag ("…these reminders, ok?", "viu?", "gell?") is no question.
_TAG_QUESTION = re.compile(
    r"[\s,](?:ok(?:ay)?|right|yeah|gell?|ja|oder|d'accord|hein|vale|eh|t[áa]|n[ée]|viu|sim)\s*\?\s*$",
    re.IGNORECASE,
)
# The client as the subject just before a verb: "I won't send", "je n'envoie": their own doing.
_FIRST_PERSON_BEFORE = re.compile(
    r"(?:^|\W)(?:i|ich|je|j'|yo|eu|we|wir|nous)\s+(?:[\w']+\s+){0,2}$", re.IGNORECASE
)


def stop_request(clauses: list[str]) -> tuple[str, float] | None:
    """The reason a clause asks for no more emails, and how sure: a firm cue ("unsubscribe",
    "remove me from the list") rather than an inferred one (a cease verb with an email noun)."""
    for clause in clauses:
        found = stopcues.STOP_CEASE.search(clause) or _no_more_messages(clause)
        if found and not (
            stopcues.CEASE.match(found.group(0)) and _negated_before(clause, found.start())
        ):
            return _why(clause, found, "a request to receive no more emails"), PLAIN
        if found := _removed(clause):
            return _why(clause, found, "asks to be taken off the emails"), PLAIN
    for index, clause in enumerate(clauses):
        before = clauses[index - 1] if index else ""
        if found := _cease_messages(clause, before) or _not_written_again(clause):
            why = "asks the emails to cease, or says they are not needed"
            return _why(clause, found, why), INFERRED
    return _inferred(clauses)


def _inferred(clauses: list[str]) -> tuple[str, float] | None:
    """Going alone (inferred), or ending it here or the emails weighing on the client (unsure:
    the step or the emails? the coach is asked)."""
    for clause in clauses:
        alone, prefer = stopcues.ON_MY_OWN.search(clause), stopcues.PREFER.search(clause)
        if alone and prefer:
            return f"clause '{clause}': prefers to go on alone ('{alone.group(0)}')", INFERRED
        if here := stopcues.END_HERE.search(clause):
            return _why(clause, here, "ends it here: the emails or only the step?"), UNSURE
        burden = stopcues.BURDEN.search(clause)
        if burden and stopcues.MESSAGE_NOUN.search(clause) and not cues.NEGATION.search(clause):
            why = "says the emails weigh on them: may want them to stop"
            return _why(clause, burden, why), UNSURE
    return None


def _removed(clause: str) -> re.Match[str] | None:
    """A removal verb with the client as its object and the list or the emails in the clause:
    "mich aus dem Verteiler nehmen", "merci de me retirer de vos envois"."""
    found = stopcues.REMOVE_ME.search(clause)
    if found and (stopcues.MESSAGE_NOUN.search(clause) or re.search(_LIST, clause, re.I)):
        return found
    address = stopcues.MY_ADDRESS.search(clause)
    if address and stopcues.REMOVE.search(clause):
        return address  # "please delete my email address from your system"
    return None


_LIST = r"(?<!\w)(?:mailing\s+list|list[ae]?|verteiler\w*|newsletter|diffusion)(?!\w)"


def _not_written_again(clause: str) -> re.Match[str] | None:
    """A writing verb negated with "more" or "further", not said of the client's own doing:
    "bitte schreib mich nicht mehr an", "please don't send anything further"."""
    more = stopcues.MORE.search(clause)
    if not (more and cues.NEGATION.search(clause)):
        return None
    for verb in stopcues.CONTACT.finditer(clause):
        if _FIRST_PERSON_BEFORE.search(clause[: verb.start()]):
            continue
        if abs(verb.start() - more.start()) <= NEAR_CHARS:
            return verb
    return None


def _no_more_messages(clause: str) -> re.Match[str] | None:
    """A negation, an email noun and "more" in one clause: "no quiero que me lleguen más avisos"."""
    noun, more = stopcues.MESSAGE_NOUN.search(clause), stopcues.MORE.search(clause)
    if not (noun and more and cues.NEGATION.search(clause) and stopcues.DELIVERY.search(clause)):
        return None
    if abs(noun.start() - more.start()) <= NEAR_CHARS:
        return noun
    return None


def _cease_messages(clause: str, before: str = "") -> re.Match[str] | None:
    """A cease or withdraw verb ("arrêter", "parar de", "bow out of") or "no need", with the
    emails, writing to the client or the coaching, not itself negated ("don't stop the
    reminders") nor a question, unless the question is a request ("pode cancelar…?")."""
    question = cues.QUESTION_END.search(clause) and not _TAG_QUESTION.search(clause)
    if question and not stopcues.REQUEST.search(clause):
        return None
    cue = (
        stopcues.CEASE.search(clause)
        or stopcues.WITHDRAW.search(clause)
        or stopcues.NO_NEED.search(clause)
    )
    if cue is None:
        return None
    short = len(clause.split()) <= SHORT_CLAUSE_WORDS  # "…, I'd rather you stopped": them
    if not (
        stopcues.MESSAGE_NOUN.search(clause)
        or stopcues.TO_ME.search(clause)
        or stopcues.PROGRAMME.search(clause)
        or (short and stopcues.MESSAGE_NOUN.search(before))
    ):
        return None
    if cue.re is not stopcues.NO_NEED and _negated_before(clause, cue.start()):
        return None
    return cue


def _negated_before(clause: str, position: int) -> bool:
    return any(found.start() < position for found in cues.NEGATION.finditer(clause[:position]))


def _why(clause: str, found: re.Match[str], meaning: str) -> str:
    return f"clause '{clause}': '{found.group(0)}' {meaning}"
