"""The action's own verb, and whether a word is its past or perfect form ("posted", "enviei")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from jobs.reading import verbclasses
from jobs.reading.language import reply_language

MIN_STEM_CHARS = 3
MIN_PAST_STEM = 2
SHORT_PRETERITE_CHARS = 3
_INFINITIVE_END = re.compile(r"(?:en|er|ir|ír|ar|re|n)$")
_WORD = re.compile(r"[^\W\d_][\w'\u2019-]*")
_PARTICIPLE = re.compile(r"^(\w{2,}?)(ad[oa]s?|id[oa]s?|ée?s?|ie?s?|ue?s?)$")
_ROMANCE_INFINITIVE = re.compile(r"^\w+(?:ar|er|ir|ír|re)$")
# fmt: off
# Irregular English pasts and plain synonyms a client uses for the action's verb.
EN_PAST = {
    "sent": "send", "wrote": "write", "written": "write", "rang": "ring", "rung": "ring",
    "bought": "buy", "made": "make", "got": "get", "took": "take", "spoke": "speak",
    "spoken": "speak", "paid": "pay", "told": "tell", "ran": "run", "sold": "sell", "did": "do",
    "brought": "bring", "held": "hold", "met": "meet", "found": "find", "put": "put", "set": "set",
    "had": "have", "gave": "give", "given": "give", "drew": "draw", "drawn": "draw",
    "went": "go", "gone": "go", "came": "come", "began": "begin", "begun": "begin", "saw": "see",
    "seen": "see", "left": "leave", "kept": "keep", "felt": "feel", "knew": "know", "said": "say",
    "thought": "think", "heard": "hear", "lost": "lose", "won": "win", "chose": "choose",
    "drove": "drive", "flew": "fly", "fell": "fall", "ate": "eat", "forgot": "forget",
    "spent": "spend", "taught": "teach", "threw": "throw", "woke": "wake", "wore": "wear",
    "built": "build", "caught": "catch", "fought": "fight", "hung": "hang", "lent": "lend",
    "meant": "mean", "rode": "ride", "shook": "shake", "stood": "stand",
    "understood": "understand", "dealt": "deal", "broke": "break", "broken": "break",
}
_SYNONYMS = {
    "call": {"ring", "phone", "speak", "talk"}, "email": {"send", "write"}, "send": {"email",
    "post", "mail"},
    "ring": {"call", "phone"}, "post": {"send", "publish"}, "anrufen": {"sprechen", "telefonieren"},
    "appeler": {"parler", "téléphoner"}, "llamar": {"hablar"}, "ligar": {"falar"},
    "enviar": {"mandar"}, "mandar": {"enviar"}, "schicken": {"senden"}, "envoyer": {"poster"},
}
_PAST_ENDINGS = {
    "en": ("ed",),
    "de": ("t", "te", "ten", "en"),
    "fr": ("é", "ée", "és", "ées", "i", "is", "it", "ite", "ites", "its", "ise", "ises", "u", "ue"),
    "es": ("é", "ó", "ado", "ada", "ados", "adas", "ido", "ida", "idos", "idas", "í", "aste"),
    "pt": ("ei", "ou", "ado", "ada", "ados", "adas", "ido", "ida", "idos", "idas", "eu", "iu"),
}
# fmt: on
_ROMANCE = ("fr", "es", "pt")


@cache
def _lemmatizer() -> object:
    """simplemma, imported on first use: its language data costs ~1 s per language to load."""
    import simplemma  # noqa: PLC0415 \u2014 lazy on purpose (see docstring)

    return simplemma


def lemma(word: str, language: str) -> str:
    """The dictionary form of `word` in `language`, lower case (the word itself if unknown)."""
    lowered = word.lower()
    if language == "en" and lowered in EN_PAST:
        return EN_PAST[lowered]
    module = _lemmatizer()
    found: str = module.lemmatize(lowered, lang=language)  # type: ignore[attr-defined]
    return found.lower()


def action_verb(action: str, language: str) -> str | None:
    """The main verb of an action as coachd words it: English first word, German last, else the
    first infinitive ("enviar la factura", "envoyer le devis")."""
    tokens = [t.lower() for t in _WORD.findall(action)]
    if not tokens:
        return None
    if language == "en":
        return str(tokens[0])
    if language == "de":
        return str(tokens[-1])
    return str(next((t for t in tokens if _ROMANCE_INFINITIVE.match(t)), tokens[0]))


def language_of(action: str, text: str) -> str:
    """The language to lemmatise in: the client's words first, the action's as a tie-break."""
    return reply_language(f"{text} {action}")


def past_form_of(verb: str, clause: str, language: str) -> str | None:
    """The first word of `clause` that is a past or perfect form of `verb` (or a synonym)."""
    base = lemma(verb, language)
    wanted = {
        verb,
        base,
        *_SYNONYMS.get(verb, ()),
        *verbclasses.family(verb),
        *verbclasses.family(base),
    }
    for word in _WORD.findall(clause):
        lowered = word.lower().split("'")[-1].split("\u2019")[-1]
        if lowered in wanted or lowered.endswith(("ing", "ndo")):
            continue  # the infinitive or a gerund is a plan or a process, not a completion
        if not _looks_past(lowered, language):
            continue
        if lemma(lowered, language) in wanted or _same_stem(lowered, wanted, language):
            return str(word)
        if wanted & _infinitives(lowered):
            return str(word)  # "pedido": simplemma gives the noun; its verb is "pedir"
    return None


def _infinitives(word: str) -> set[str]:
    """The infinitives a Romance participle can come from: "pedido" → pedir/peder,
    "réservé" → réserver, "marcada" → marcar."""
    found = _PARTICIPLE.match(word)
    if found is None:
        return set()
    stem, ending = found.group(1), found.group(2)
    if ending.startswith(("ad", "é")):
        return {stem + "ar", stem + "er"}
    return {stem + "er", stem + "ir", stem + "ír", stem + "re"}


def _looks_past(word: str, language: str) -> bool:
    if language == "en" and word in EN_PAST:
        return True
    endings = (
        [e for other in _ROMANCE for e in _PAST_ENDINGS[other]]  # close languages: take all
        if language in _ROMANCE
        else _PAST_ENDINGS.get(language, ())
    )  # with a stem of two letters at least: "pedido" is a participle, "pido" a present;
    # a word of two or three letters is an irregular preterite ("di", "fui", "fiz", "dei")
    short = len(word) <= SHORT_PRETERITE_CHARS
    return any(word.endswith(e) and (short or len(word) - len(e) >= MIN_PAST_STEM) for e in endings)


def _same_stem(word: str, wanted: set[str], language: str) -> bool:
    """The verb's stem inside the word: German "abgeschickt" carries "schick" of "schicken";
    "résilié" starts with "résili" of "résilier" even when the language guess was wrong."""
    stems = {_INFINITIVE_END.sub("", w) for w in wanted}
    if language == "de":
        return any(len(s) >= MIN_STEM_CHARS and s in word for s in stems)
    return any(len(s) > MIN_STEM_CHARS and word.startswith(s) for s in stems)


@dataclass(frozen=True, slots=True)
class Verb:
    """The action's main verb in the client's language, found in their clauses."""

    word: str
    language: str

    def past_in(self, clause: str) -> str | None:
        """Its past or perfect form in `clause` ("posted", "enviei"), if any."""
        return past_form_of(self.word, clause, self.language)

    def said_in(self, clause: str) -> str | None:
        """Any form of it in `clause` ("je l'envoie lundi", "lo entrego el lunes")."""
        wanted = {self.word, lemma(self.word, self.language)}
        for word in _WORD.findall(clause):
            lowered = word.lower().split("'")[-1].split("\u2019")[-1]
            if lowered in wanted or lemma(lowered, self.language) in wanted:
                return str(word)
            if _same_stem(lowered, wanted, self.language):
                return str(word)
        return None
