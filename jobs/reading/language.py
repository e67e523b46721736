"""Which of the five languages a short reply is in, for lemmas: function words and letters.

dates.guess_language picks dateparser's language from a few very common words; a two-word reply
("Gebucht, 14. Januar") has none of them, and a lemma looked up in the wrong language finds
nothing. Here more function words count, and letters only one language uses ("ß", "ñ", "ã")
count double.
"""

from __future__ import annotations

import re

from jobs.reading.dates import LANGUAGES, language_scores

LETTER_WEIGHT = 2
MAX_CHARS = 2000
# fmt: off
_FUNCTION_WORDS = {
    "en": "a an the and but or is are was were it i you he she we they my your me to of in on at"
          " for with from by this that have has had not don't can't will would just so",
    "de": "der die das den dem des ein eine einen einem und aber oder ist sind war ich du er sie"
          " wir ihr es mein dein mir mich dir zu von im am beim zum zur mit für auf bis nicht"
          " noch schon hab habe hat auch jetzt nix kein keine",
    "fr": "le la les un une des du de et mais ou est sont était je tu il elle nous vous ils mon"
          " ma mes me moi à au aux pour avec sur dans pas ne plus déjà c'est j'ai ça qui que",
    "es": "el la los las un una unos unas y pero o es son era yo tú él ella nosotros mi mis me"
          " te a al del de en con para por no ya todavía muy lo le les que también",
    "pt": "o a os as um uma uns umas e mas ou é são era eu tu ele ela nós meu minha me te ao"
          " do da dos das em no na com para por não já ainda muito que também",
}
# Day and month names are one language's each (but "april", "august": two; they count for both).
_CALENDAR = {
    "en": "monday tuesday wednesday thursday friday saturday sunday january february march april"
          " may june july august september october november december",
    "de": "montag dienstag mittwoch donnerstag freitag samstag sonntag januar februar märz april"
          " mai juni juli august september oktober november dezember",
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche janvier février mars avril mai juin"
          " juillet août septembre octobre novembre décembre",
    "es": "lunes martes miércoles jueves viernes sábado domingo enero febrero marzo abril mayo"
          " junio julio agosto septiembre octubre noviembre diciembre",
    "pt": "segunda terça quarta quinta sexta sábado domingo janeiro fevereiro março abril maio"
          " junho julho agosto setembro outubro novembro dezembro",
}
_LETTERS = {
    "de": re.compile(r"[ßäöü]", re.IGNORECASE),
    "fr": re.compile(r"[èêëàâîïôûùœç]", re.IGNORECASE),
    "es": re.compile(r"[ñ¿¡]", re.IGNORECASE),
    "pt": re.compile(r"[ãõç]|ção|ções", re.IGNORECASE),
}
# fmt: on
_SETS = {
    lang: frozenset(f"{words} {_CALENDAR[lang]}".split()) for lang, words in _FUNCTION_WORDS.items()
}
_WORD = re.compile(r"[^\W\d_][\w'-]*")


def reply_language(text: str) -> str:
    """The likeliest language of `text`; dates.guess_language's choice on a tie."""
    sample = text[:MAX_CHARS].lower()
    words = _WORD.findall(sample)
    scores = {lang: sum(w in _SETS[lang] for w in words) for lang in LANGUAGES}
    for lang, letters in _LETTERS.items():
        scores[lang] += LETTER_WEIGHT * len(letters.findall(sample))
    best = max(scores.values())
    if best == 0:
        return "en"
    tied = [lang for lang in LANGUAGES if scores[lang] == best]
    if len(tied) == 1:
        return tied[0]
    fallback = language_scores(sample)
    return max(tied, key=lambda lang: fallback[lang])
