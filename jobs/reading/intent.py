"""Classify a client's new words as done, reschedule, blocked, stop or note, saying why."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from jobs.reading.dates import DAYS_PER_WEEK, DateHit, find_dates, iso_date

Intent = Literal["done", "reschedule", "blocked", "stop", "note", "undo"]

MAX_INTENT_CHARS = 2000  # the decision is in the first lines; the rest only costs time
MAX_SNOOZE_UNITS = 365
NEGATION_WINDOW_WORDS = 4

_COMMAND_DONE = re.compile(r"^done[.!]*$", re.IGNORECASE)
_COMMAND_STOP = re.compile(
    r"^(?:stop|unsubscribe|stopp|para|basta|pare|arr[êe]te[zs]?|abmelden|cancelar)[.!]*$",
    re.IGNORECASE,
)
_COMMAND_SNOOZE = re.compile(r"^snooze\s+(\d{1,3})\s*(d|days?|w|weeks?)?[.!]*$", re.IGNORECASE)
_COMMAND_NEW_DATE = re.compile(r"^new\s+date\s*:?\s+(.+)$", re.IGNORECASE)
_COMMAND_PAUSE = re.compile(r"^pause\s+until\s*:?\s+(.+)$", re.IGNORECASE)


def _words(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w'])(?:" + "|".join(patterns) + r")(?![\w'])", re.IGNORECASE)


# Phrase tables, one line per language (en, es, de, fr, pt): kept compact on purpose.
# fmt: off
_STOP = _words(
    r"(?:please\s+)?stop\s+(?:e-?mailing|sending|messaging|contacting|writing|reminding)",
    r"stop\s+(?:these|the|your|all)\s+(?:e-?mails|messages|reminders)", r"unsubscribe(?:\s+me)?",
    r"remove\s+me\s+from", r"opt\s+out", r"no\s+more\s+(?:e-?mails|reminders|messages)",
    r"don'?t\s+(?:e-?mail|contact|write\s+to)\s+me",
    r"no\s+m[áa]s\s+(?:correos|mensajes|recordatorios)", r"dar(?:me)?\s+de\s+baja",
    r"dej(?:a|en|ad)\s+de\s+(?:escribirme|enviarme|mandarme)",
    r"abmelden", r"keine\s+(?:e-?mails|mails|nachrichten|erinnerungen)\s+mehr",
    r"h[öo]ren\s+sie\s+auf", r"h[öo]rt\s+auf",
    r"arr[êe]tez", r"arr[êe]te\s+de\s+m'[ée]crire", r"d[ée]sabonner", r"d[ée]sinscri(?:re|vez)",
    r"ne\s+plus\s+recevoir", r"plus\s+de\s+(?:mails|courriels|e-mails|messages)",
    r"pare\s+de\s+(?:me\s+)?(?:enviar|mandar|escrever)", r"cancelar\s+(?:a\s+)?inscri[çc][ãa]o",
    r"descadastrar", r"n[ãa]o\s+quero\s+mais\s+receber", r"chega\s+de\s+(?:e-?mails|mensagens)",
)
_DONE = _words(
    r"done", r"finished(?:\s+it)?", r"completed?", r"i\s+did\s+it", r"did\s+it", r"nailed\s+it",
    r"hecho", r"terminad[oa]", r"lo\s+termin[ée]", r"ya\s+lo\s+hice", r"listo", r"acab[ée]",
    r"completad[oa]",
    r"erledigt", r"fertig", r"geschafft", r"abgeschlossen", r"hab(?:e)?\s+es\s+gemacht",
    r"c'est\s+fait", r"termin[ée]e?", r"fini(?:e)?", r"j'ai\s+fini", r"accompli",
    r"feito", r"terminei", r"conclu[íi]d[oa]", r"acabei", r"consegui",
)
_NEGATION = frozenset((
    "not", "no", "never", "yet", "almost", "nearly", "half",
    "casi", "todavía", "todavia", "aún", "aun",
    "nicht", "nie", "kein", "keine", "noch", "fast",
    "pas", "ne", "jamais", "presque",
    "não", "nao", "nunca", "ainda", "quase",
    # future, not past: "I'll have it done by…", "will be finished", "voy a tenerlo hecho"
    "will", "would", "should", "going", "gonna", "hope", "voy", "vou", "werde", "wird",
    "sera", "serai", "será", "estará", "tendré", "ficará",
))
_BLOCKED = _words(
    r"stuck", r"blocked", r"can'?t\s+(?:do|get|find|seem|manage|figure)", r"cannot\s+(?:do|get)",
    r"no\s+time", r"need\s+(?:some\s+)?help", r"struggling", r"overwhelmed",
    r"don'?t\s+know\s+how", r"haven'?t\s+had\s+(?:the\s+)?time",
    r"atascad[oa]", r"no\s+puedo", r"no\s+tengo\s+tiempo", r"necesito\s+ayuda",
    r"bloquead[oa]", r"trabad[oa]", r"sin\s+tiempo", r"no\s+s[ée]\s+c[óo]mo",
    r"komme\s+nicht\s+weiter", r"keine\s+zeit", r"brauche\s+hilfe", r"blockiert",
    r"stecke\s+fest", r"schaffe\s+es\s+nicht",
    r"je\s+bloque", r"bloqu[ée]e?", r"pas\s+le\s+temps", r"besoin\s+d'aide",
    r"je\s+n'y\s+arrive\s+pas", r"coinc[ée]e?", r"je\s+ne\s+peux\s+pas",
    r"estou\s+travad[oa]", r"travad[oa]", r"n[ãa]o\s+consigo", r"sem\s+tempo",
    r"n[ãa]o\s+tenho\s+tempo", r"preciso\s+de\s+ajuda", r"empacad[oa]",
)
_RESCHEDULE_CUE = _words(
    r"move", r"push", r"postpone", r"reschedule", r"delay", r"shift", r"later", r"instead",
    r"more\s+time", r"extend", r"i'?ll", r"i\s+will", r"can\s+we", r"could\s+we", r"new\s+date",
    r"mover", r"mueve", r"aplazar", r"posponer", r"cambiar", r"m[áa]s\s+tiempo", r"lo\s+har[ée]",
    r"verschieben", r"sp[äa]ter", r"mehr\s+zeit", r"mache\s+ich", r"erledige\s+ich",
    r"reporter", r"d[ée]caler", r"plus\s+de\s+temps", r"je\s+le\s+ferai",
    r"adiar", r"remarcar", r"mais\s+tempo", r"vou\s+fazer", r"farei",
)
_DONT_STOP = _words(r"don'?t\s+stop", r"do\s+not\s+stop", r"no\s+pares", r"nicht\s+aufh[öo]ren")
# fmt: on


@dataclass(frozen=True, slots=True)
class Asked:
    """One commitment the answered email was about: the client's own words for the action,
    and its due date as coachd knows it (a repeated due date is no new date)."""

    action: str
    due: date | None = None


@dataclass(frozen=True, slots=True)
class IntentReading:
    """What the client's words ask for: the intent, any new date or pause, and why."""

    intent: Intent
    new_due: date | None = None
    pause_until: date | None = None
    reasons: tuple[str, ...] = ()
    confidence: float = 1.0  # 0-1: below replyeffect.CONFIDENT coachd takes the safe path


def classify_intent(text: str, today: date | None, *, asked: Sequence[Asked] = ()) -> IntentReading:
    """Read intent from new words; `today` is the reply's day in the client's zone (None: unknown).

    Command words on the first line win; then stop, done (unless negated or asked),
    a future date (reschedule), blocked, and otherwise a note.
    """
    text = text[:MAX_INTENT_CHARS]
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    command = _command(first, today)
    if command is not None:
        return command
    stop = _STOP.search(text)
    if stop and not _DONT_STOP.search(text):
        return IntentReading("stop", reasons=(f"stop phrase '{stop.group(0)}'",))
    done = _affirmed_done(text)
    if done:
        return IntentReading("done", reasons=(f"done phrase '{done}'",))
    due_dates = frozenset(a.due for a in asked if a.due is not None)
    return _reschedule_or_blocked(text, today, due_dates)


def _command(first: str, today: date | None) -> IntentReading | None:
    if _COMMAND_DONE.match(first):
        return IntentReading("done", reasons=("command word 'done'",))
    if _COMMAND_STOP.match(first):
        return IntentReading("stop", reasons=(f"command word '{first.lower()}'",))
    snooze = _COMMAND_SNOOZE.match(first)
    if snooze:
        return _snooze(snooze, today)
    new_date = _COMMAND_NEW_DATE.match(first)
    if new_date:
        return _dated_command("new date", new_date.group(1), today)
    pause = _COMMAND_PAUSE.match(first)
    if pause:
        return _dated_command("pause until", pause.group(1), today)
    return None


def _snooze(found: re.Match[str], today: date | None) -> IntentReading:
    amount = int(found.group(1))
    unit = (found.group(2) or "d").lower()
    days = amount * (DAYS_PER_WEEK if unit.startswith("w") else 1)
    word = f"command 'snooze {amount}{unit[0]}'"
    if today is None:
        return IntentReading("note", reasons=(f"{word} but the reply date is unknown",))
    if not 0 < amount <= MAX_SNOOZE_UNITS:
        return IntentReading("note", reasons=(f"{word} is out of range",))
    due = today + timedelta(days=days)
    return IntentReading("reschedule", new_due=due, reasons=(f"{word} → {due.isoformat()}",))


def _dated_command(word: str, argument: str, today: date | None) -> IntentReading:
    day = iso_date(argument)
    if day is None and today is not None:
        hits = find_dates(argument, today)
        day = hits[0].day if hits else None
    if day is None:
        return IntentReading("note", reasons=(f"command '{word}' without a date I can read",))
    if today is not None and day <= today:
        return IntentReading("note", reasons=(f"command '{word}' {day} is not after the reply",))
    reason = (f"command '{word}' → {day.isoformat()}",)
    if word == "new date":
        return IntentReading("reschedule", new_due=day, reasons=reason)
    return IntentReading("note", pause_until=day, reasons=reason)


def _affirmed_done(text: str) -> str | None:
    """The first done phrase that is neither negated nor part of a question."""
    for found in _DONE.finditer(text):
        sentence_end = re.search(r"[.!?\n]", text[found.end() :])
        if sentence_end and sentence_end.group(0) == "?":
            continue
        before = re.findall(r"[\w'\u2019]+", text[: found.start()].lower())
        window = before[-NEGATION_WINDOW_WORDS:]
        if any(
            word in _NEGATION or word.endswith(("n't", "n\u2019t", "'ll", "\u2019ll"))
            for word in window
        ):
            continue
        return found.group(0)
    return None


def _reschedule_or_blocked(
    text: str, today: date | None, due_dates: frozenset[date] = frozenset()
) -> IntentReading:
    blocked = _BLOCKED.search(text)
    blocked_reasons = (f"blocked phrase '{blocked.group(0)}'",) if blocked else ()
    if today is None:
        reasons = blocked_reasons or ("no command or clear intent; dates not resolved",)
        return IntentReading("blocked" if blocked else "note", reasons=reasons)
    hits = find_dates(text, today)
    # The due date coachd already has, said again ("I'll do the rest on Wednesday"), is no new date.
    future = [hit for hit in hits if hit.day > today and hit.day not in due_dates]
    cue = _RESCHEDULE_CUE.search(text)
    chosen = _choose(future, has_cue=cue is not None)
    if chosen is not None:
        reason = f"date phrase '{chosen.phrase}' → {chosen.day.isoformat()}"
        return IntentReading("reschedule", new_due=chosen.day, reasons=(reason, *blocked_reasons))
    past = [
        f"date phrase '{hit.phrase}' is not after the reply" for hit in hits if hit not in future
    ]
    if blocked:
        return IntentReading("blocked", reasons=(*blocked_reasons, *past[:1]))
    return IntentReading("note", reasons=("no command, date or clear intent", *past[:1]))


def _choose(hits: list[DateHit], *, has_cue: bool) -> DateHit | None:
    explicit = [hit for hit in hits if hit.explicit]
    if explicit:
        return explicit[0]
    return hits[0] if hits and has_cue else None
