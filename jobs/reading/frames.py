"""Verb frames: a clause's verbs by meaning (their lemma's class), tense and negation.

"konnte ich noch nicht rausschicken" is ability + negation (blocked); "hab alles abgearbeitet"
is a completing verb in a perfect form (done); "lo movemos al 15" is a moving verb (a new
date). The classes are in verbclasses.py; the lemmas come from simplemma (verbs.lemma).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from jobs.reading import verbclasses
from jobs.reading.verbs import EN_PAST, lemma

MIN_STEM_CHARS = 5  # shorter Romance stems ("par" of parar) start too many other words
MAX_ENDING_CHARS = 4
ROMANCE = ("fr", "es", "pt")
TOKEN_CACHE_SIZE = 512
NEGATION_WINDOW = 3  # words between a verb and the negation that scopes over it
ELISION_CHARS = 2  # l', j', n', d': the word is the part after the apostrophe
_WORD = re.compile(r"[^\W\d_][\w'\u2019-]*")
_NEGATORS = frozenset({
    "not", "no", "never", "cannot", "can't", "couldn't", "won't", "isn't", "doesn't", "don't",
    "didn't", "haven't", "hasn't", "wasn't", "aren't", "weren't", "nicht", "nichts", "kein",
    "keine", "nie", "nix", "pas", "plus", "rien", "jamais", "ne", "nada", "nunca", "não", "nao",
})  # fmt: skip
_GERMAN_INSEPARABLE = ("er", "be", "ver", "zer", "ent", "emp")
_ROMANCE_PAST = (
    "é", "ée", "és", "ées", "i", "is", "it", "ite", "ites", "its", "u", "ue", "us", "ues",
    "ó", "í", "aste", "ado", "ada", "ados", "adas", "ido", "ida", "idos", "idas", "cho", "cha",
    "chos", "chas", "ei", "ou", "eu", "iu", "ito", "ita", "itos", "itas", "iz", "ez", "ice", "izo",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a clause with its lemma, at its place."""

    word: str
    lemma: str
    index: int


@lru_cache(maxsize=TOKEN_CACHE_SIZE)
def tokens(clause: str, language: str) -> tuple[Token, ...]:
    """The words of `clause` in order, lower case, each with its lemma in `language` (cached:
    every verb class asks about the same clauses)."""
    found = []
    for index, raw in enumerate(_WORD.findall(clause.replace("\u2019", "'"))):
        head, mark, tail = raw.lower().partition("'")
        elided = tail and (len(head) <= ELISION_CHARS or head.endswith("qu"))
        word = tail if elided else head + mark + tail
        found.append(Token(word, lemma(word, language), index))
    return tuple(found)


def is_past(token: Token, language: str) -> bool:
    """A past or perfect form: "finished", "sent", "abgehakt", "erledigt", "hechas", "feito"."""
    word = token.word
    if word == token.lemma and not (language == "en" and word in EN_PAST):
        return False  # the dictionary form is a plan or an order, not a completion
    if language == "en":
        return word in EN_PAST or word.endswith("ed")
    if language == "de":
        if word.endswith(("te", "ten", "tet")):
            return True
        perfect = "ge" in word[:-3] or word.startswith(_GERMAN_INSEPARABLE)
        return word.endswith(("t", "en")) and perfect
    return word.endswith(_ROMANCE_PAST)


def in_class(clause: str, language: str, members: frozenset[str]) -> Token | None:
    """The first word of `clause` whose lemma is in `members`."""
    return next((t for t in tokens(clause, language) if _member(t, language, members)), None)


def _member(token: Token, language: str, members: frozenset[str]) -> bool:
    """The lemma is a member; or, in French, Spanish and Portuguese, where simplemma may give
    a noun for a verb form ("avance" for "n'avance pas"), the word starts with a member's stem."""
    if token.lemma in members:
        return True
    if language not in ROMANCE:
        return False
    return any(
        token.word.startswith(stem) and len(token.word) - len(stem) <= MAX_ENDING_CHARS
        for stem in _romance_stems(members)
    )  # a verb ending ("avance", "avanzamos"), not a noun's ("déplacement", "avanzamiento")


@cache
def _romance_stems(members: frozenset[str]) -> tuple[str, ...]:
    stems = (m[:-2] for m in members if m.endswith(("er", "ir", "ar", "re")))
    return tuple(s for s in stems if len(s) >= MIN_STEM_CHARS)


def completed(clause: str, language: str) -> Token | None:
    """A completing verb in a past or perfect form: "abgehakt", "wrapped up", "hechas"."""
    for token in tokens(clause, language):
        if token.lemma in verbclasses.COMPLETE and is_past(token, language):
            return token
    return None


def negated_verb(clause: str, language: str, members: frozenset[str]) -> Token | None:
    """A verb of `members` with a negation within a few words of it, before or after
    ("can't", "konnte ich noch nicht", "je n'y arrive pas", "no funciona")."""
    words = tokens(clause, language)
    for token in words:
        if not _member(token, language, members):
            continue
        near = words[max(0, token.index - NEGATION_WINDOW) : token.index + NEGATION_WINDOW + 1]
        if any(w.word in _NEGATORS for w in near):
            return token
    return None
