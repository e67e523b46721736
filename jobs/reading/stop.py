"""Whether a clause asks coachd to stop writing: the cue classes of a stop request, with scope."""

from __future__ import annotations

import re

from jobs.reading import cues

NEAR_CHARS = 40  # an email noun and "more" this close belong to one request
# A request ending in a tag ("…these reminders, ok?", "viu?", "gell?") is no question.
_TAG_QUESTION = re.compile(
    r"[\s,](?:ok(?:ay)?|right|yeah|gell?|ja|oder|d'accord|hein|vale|eh|t[áa]|n[ée]|viu|sim)\s*\?\s*$",
    re.IGNORECASE,
)


def stop_request(clauses: list[str]) -> tuple[str, bool] | None:
    """The reason a clause asks for no more emails, and whether it is said plainly (a firm cue
    like "unsubscribe") rather than inferred (a cease verb with an email noun, going alone)."""
    for clause in clauses:
        found = cues.STOP_CEASE.search(clause) or _no_more_messages(clause)
        if found and not (
            cues.CEASE.match(found.group(0)) and _negated_before(clause, found.start())
        ):
            return _why(clause, found, "a request to receive no more emails"), True
    for clause in clauses:
        if found := _cease_messages(clause):
            return _why(
                clause, found, "asks the emails to cease, or says they are not needed"
            ), False
    for clause in clauses:
        alone, prefer = cues.ON_MY_OWN.search(clause), cues.PREFER.search(clause)
        if alone and prefer:
            return f"clause '{clause}': prefers to go on alone ('{alone.group(0)}')", False
    return None


def _no_more_messages(clause: str) -> re.Match[str] | None:
    """A negation, an email noun and "more" in one clause: "no quiero que me lleguen más avisos"."""
    noun, more = cues.MESSAGE_NOUN.search(clause), cues.MORE.search(clause)
    if not (noun and more and cues.NEGATION.search(clause) and cues.DELIVERY.search(clause)):
        return None
    if abs(noun.start() - more.start()) <= NEAR_CHARS:
        return noun
    return None


def _cease_messages(clause: str) -> re.Match[str] | None:
    """A cease verb ("arrêter", "parar de", "sparen") or "no need" with the emails or with
    writing to the client, not itself negated ("don't stop the reminders") nor a question."""
    if cues.QUESTION_END.search(clause) and not _TAG_QUESTION.search(clause):
        return None
    cue = cues.CEASE.search(clause) or cues.NO_NEED.search(clause)
    if cue is None:
        return None
    if not (cues.MESSAGE_NOUN.search(clause) or cues.TO_ME.search(clause)):
        return None
    if cue.re is cues.CEASE and _negated_before(clause, cue.start()):
        return None
    return cue


def _negated_before(clause: str, position: int) -> bool:
    return any(found.start() < position for found in cues.NEGATION.finditer(clause[:position]))


def _why(clause: str, found: re.Match[str], meaning: str) -> str:
    return f"clause '{clause}': '{found.group(0)}' {meaning}"
