"""Classify a client's new words as done, reschedule, blocked, stop, undo or note, saying why."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from jobs.events import Intent
from jobs.reading import cues
from jobs.reading.commitments import split_for
from jobs.reading.dates import DAYS_PER_WEEK, find_dates, iso_date
from jobs.reading.finding import Context, Finding
from jobs.reading.passage import read_passage

__all__ = ["Asked", "CommitmentIntent", "Intent", "IntentReading", "classify_intent"]


MAX_INTENT_CHARS = 2000  # the decision is in the first lines; the rest only costs time
MAX_SNOOZE_UNITS = 365
COMMAND_CONFIDENCE = 0.98
MISSING_CONFIDENCE = 0.3
YES_CONFIDENCE = 0.65

_COMMAND_DONE = re.compile(r"^done[.!]*$", re.IGNORECASE)
_COMMAND_STOP = re.compile(
    r"^(?:stop|unsubscribe|stopp|para|basta|pare|arr[êe]te[zs]?|abmelden|cancelar)[.!]*$",
    re.IGNORECASE,
)
# "Stop please. nothing against you, …", "Stopp. Bittschön koane Mails mehr": the command as
# the reply's first sentence, more words after it (only words that mean nothing else).
_COMMAND_STOP_FIRST = re.compile(
    r"^(?:stop|stopp|unsubscribe|abmelden)"
    r"(?:\s+(?:please|pls|plz|bitte|por\s+favor|svp|s'il\s+vous\s+pla[îi]t))?\s*[.!]+\s+\S",
    re.IGNORECASE,
)
STOP_FIRST_CONFIDENCE = 0.9  # firm: acted on, yet below a command alone on its line
_COMMAND_SNOOZE = re.compile(r"^snooze\s+(\d{1,3})\s*(d|days?|w|weeks?)?[.!]*$", re.IGNORECASE)
_COMMAND_NEW_DATE = re.compile(r"^new\s+date\s*:?\s+(.+)$", re.IGNORECASE)
_COMMAND_PAUSE = re.compile(r"^pause\s+until\s*:?\s+(.+)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Asked:
    """One commitment the answered email was about: the client's own words for the action,
    and its due date as coachd knows it (a repeated due date is no new date)."""

    action: str
    due: date | None = None


@dataclass(frozen=True, slots=True)
class CommitmentIntent:
    """The reading for one commitment of a multi-commitment email."""

    intent: Intent
    new_due: date | None = None
    confidence: float = 0.0
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IntentReading:
    """What the client's words ask for: the intent, any new date or pause, and why.

    `confidence` (0 to 1) says how sure the reading is: ≥0.9 a command word or an explicit cue
    in a clear clause ("please take me off", "undo"); 0.8 a firm cue (a completion word, a
    moving verb with a date, waiting on someone); 0.7 to 0.75 an inferred cue (the action's own
    verb in the past, a date given as the answer, "can't"); 0.55 and below: conflicting cues
    or none (a note that might be more). Callers take the safe path under 0.7.
    `per_commitment` holds one reading per `Asked` when the email covered several.
    """

    intent: Intent
    new_due: date | None = None
    pause_until: date | None = None
    reasons: tuple[str, ...] = ()
    confidence: float = COMMAND_CONFIDENCE
    per_commitment: tuple[CommitmentIntent, ...] = ()


def classify_intent(text: str, today: date | None, *, asked: Sequence[Asked] = ()) -> IntentReading:
    """Read intent from new words; `today` is the reply's day in the client's zone (None: unknown).

    Command words on the first line win; otherwise the words are read clause by clause (see
    `passage.read_passage`), one passage per commitment when `asked` lists several.
    """
    text = text[:MAX_INTENT_CHARS]
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    command = _command(first, today)
    if command is not None:
        return command
    dues = frozenset(a.due for a in asked if a.due is not None)
    if len(asked) > 1:
        return _several(text, today, asked, dues)
    action = asked[0].action if asked else ""
    return _reading(read_passage(text, Context(today, action, dues)))


def _reading(found: Finding) -> IntentReading:
    return IntentReading(
        found.intent, found.new_due, found.pause_until, found.reasons, found.confidence
    )


def _several(
    text: str, today: date | None, asked: Sequence[Asked], dues: frozenset[date]
) -> IntentReading:
    """One reading per commitment; overall the shared intent, else a note."""
    whole = read_passage(text, Context(today, "", dues))
    if whole.intent in ("stop", "undo") or whole.pause_until is not None:
        return _reading(whole)
    if whole.intent == "done" and cues.ALL_OF_THEM.search(whole.reasons[0]):
        each = CommitmentIntent("done", None, whole.confidence, whole.reasons)
        return IntentReading(
            "done", None, None, whole.reasons, whole.confidence, (each,) * len(asked)
        )
    parts = split_for(text, [a.action for a in asked])
    readings = tuple(
        _one(part, Context(today, item.action, dues), index)
        for index, (part, item) in enumerate(zip(parts, asked, strict=True), start=1)
    )
    intents = {r.intent for r in readings}
    shared = intents.pop() if len(intents) == 1 else "note"
    due = readings[0].new_due if shared == "reschedule" else None
    reasons = tuple(f"#{i}: {r.reasons[0]}" for i, r in enumerate(readings, start=1) if r.reasons)
    confidence = min(r.confidence for r in readings)
    return IntentReading(shared, due, None, reasons, confidence, readings)


def _one(part: str | None, context: Context, index: int) -> CommitmentIntent:
    if part is None:
        why = f"no line of the reply is about commitment {index}"
        return CommitmentIntent("note", None, MISSING_CONFIDENCE, (why,))
    if cues.YES.match(part) and not cues.NEGATION.search(part):
        return CommitmentIntent(
            "done", None, YES_CONFIDENCE, (f"line '{part}': a plain yes → done",)
        )
    found = read_passage(part, context)
    return CommitmentIntent(found.intent, found.new_due, found.confidence, found.reasons)


def _command(first: str, today: date | None) -> IntentReading | None:
    if _COMMAND_DONE.match(first):
        return IntentReading("done", reasons=("command word 'done'",))
    stop = _stop_command(first)
    if stop is not None:
        return stop
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


def _stop_command(first: str) -> IntentReading | None:
    if _COMMAND_STOP.match(first):
        return IntentReading("stop", reasons=(f"command word '{first.lower()}'",))
    if lead := _COMMAND_STOP_FIRST.match(first):
        word = lead.group(0).split()[0].strip(".!").lower()
        reason = f"command word '{word}' as the reply's first sentence"
        return IntentReading("stop", reasons=(reason,), confidence=STOP_FIRST_CONFIDENCE)
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
