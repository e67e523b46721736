"""Whether a clause says the step is finished, with scope: a completion word or a completing
verb in a past form, the action's own verb (or one of its family) in a past form; not when
the clause is about a part, someone else's doing, or the word is a noun ("la lista")."""

from __future__ import annotations

import re

from jobs.reading import cues, frames
from jobs.reading.finding import FIRM, WEAK
from jobs.reading.verbs import Verb

# Scoped to their clause ("presque" in "on a parlé presque deux heures" is not about the step).
# fmt: off
PART = cues.words(
    r"half\w*", r"almost", r"nearly", r"first\s+half", r"part\s+of", r"h[äa]lfte", r"fast",
    r"moiti[ée]", r"presque", r"mitad", r"casi", r"a\s+medias", r"metade", r"quase",
    # fractions and counts: "a third written", "zwei Drittel", "12 of 20", "60 %"
    r"(?:a|one|two)\s+(?:third|quarter)s?", r"\w*drittel", r"\w*viertel", r"tiers", r"tercio",
    r"ter[çc]o", r"\d+\s*(?:of|von|sur|de)\s+\d+", r"\d+\s*%",
)
# A first version of the work is a sub-step, unless the step itself is the draft.
DRAFT = cues.words(
    r"(?:first\s+)?draft", r"entwurf", r"rohfassung", r"brouillon", r"premi[eè]re\s+version",
    r"borrador", r"primera\s+versi[óo]n", r"rascunho", r"primeira\s+vers[ãa]o",
)
# Said of the rest of the passage: what is still missing ("still need", "il me reste").
REMAINDER = cues.words(
    r"so\s+far", r"still\s+need", r"fehl\w+\s+noch", r"bis\s+jetzt", r"bisher", r"il\s+me\s+reste",
    r"reste\s+[àa]", r"me\s+quedan?", r"me\s+falta\w*", r"falta\w*", r"hasta\s+ahora",
    r"at[ée]\s+agora",
)
# fmt: on
# A determiner before a completion word makes it a noun: "la lista", "le fait que", "en fait".
_DETERMINER_BEFORE = re.compile(
    r"(?<!\w)(?:the|a|this|my|die|der|das|eine?|la|le|les|une?|cette|ma|en|el|una|esta|esa|mi|"
    r"de|o|um|uma|essa|esta|minha)\s+$",
    re.IGNORECASE,
)
# Someone else did it: "quelqu'un qui l'a faite", "someone who's done it".
_OTHER_DOER = re.compile(
    r"(?:(?<!\w)(?:who|qui|quien(?:es)?|quem|jemand\w*|someone|somebody|quelqu'un|alguien|"
    r"algu[ée]m)|,\s*(?:que|qui|which|die|der|das))(?!\w)[^.!?,]{0,24}$",
    re.IGNORECASE,
)


def partial(clauses: list[str], clause: str, action: str) -> bool:
    """The completion is only of a part: a part word in its clause, a draft of a step that is
    more than the draft, or the passage saying what is still missing."""
    if PART.search(clause) or REMAINDER.search(" ".join(clauses)):
        return True
    return bool(DRAFT.search(clause)) and not DRAFT.search(action)


def completion(clause: str, language: str, verb: Verb | None) -> tuple[float, str, int] | None:
    """How sure the clause says the step is finished, why, and where the cue stands."""
    for found in cues.DONE.finditer(clause):
        before = clause[: found.start()]
        if not (_DETERMINER_BEFORE.search(before) or _OTHER_DOER.search(before)):
            return FIRM, f"'{found.group(0)}' is a completion word", found.start()
    if token := frames.completed(clause, language):
        at = clause.lower().find(token.word)
        if not _OTHER_DOER.search(clause[: max(at, 0)]):
            why = f"'{token.word}' is a completing verb ({token.lemma}) in a past form"
            return FIRM, why, max(at, 0)
    if verb and (past := verb.past_in(clause)):
        why = f"past form '{past}' of the action's verb '{verb.word}'"
        return WEAK + 0.05, why, clause.find(past)
    return None
