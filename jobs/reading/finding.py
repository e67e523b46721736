"""What reading a passage finds: an intent, a date or pause, a confidence and the reasons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from jobs.events import Intent

# Confidence scale: explicit cue in a clear clause → STRONG; a cue that needs inference → WEAK.
STRONG = 0.9
FIRM = 0.8
WEAK = 0.7
UNSURE = 0.55
CONFLICT_PENALTY = 0.15


@dataclass(frozen=True, slots=True)
class Finding:
    """One passage's intent, its new date or pause, how sure, and which clause decided why."""

    intent: Intent
    new_due: date | None = None
    pause_until: date | None = None
    confidence: float = UNSURE
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Context:
    """What the passage is read against: the reply's day, the action, due dates already known."""

    today: date | None
    action: str = ""
    dues: frozenset[date] = frozenset()
    dated: frozenset[str] = frozenset()  # the clauses searched for dates (bounded)
    language: str = "en"  # the client's language, for lemmas (verbs.language_of)
