"""The scorer's own terms for what it hands the reply reader and what it gets back.

Nothing here imports coachd: `bench.replies.load_reader` (the one adapter) turns the product's
`read_reply` into a `Reader`, so the rest of bench keeps working when the product moves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, tzinfo


@dataclass(frozen=True, slots=True)
class Commitment:
    """One commitment coachd's email was about: the action and its due date."""

    action: str
    due: date | None


@dataclass(frozen=True, slots=True)
class Context:
    """What the reader may be told besides the raw bytes."""

    zone: tzinfo | None = None
    commitments: tuple[Commitment, ...] = ()


@dataclass(frozen=True, slots=True)
class CommitmentReading:
    """The reader's verdict on one commitment of a multi-commitment reply."""

    intent: str | None
    new_due: date | None


@dataclass(frozen=True, slots=True)
class Reading:
    """What the reader concluded; `per_commitment` is None when the reader does not offer it."""

    kind: str
    intent: str | None = None
    new_due: date | None = None
    pause_until: date | None = None
    text: str = ""
    bounce_recipient: str | None = None
    bounce_permanent: bool = False
    bounce_class: str | None = None
    per_commitment: tuple[CommitmentReading, ...] | None = None


Reader = Callable[[bytes, Context], Reading]
