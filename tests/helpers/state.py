"""Client and commitment records (jobs.state) as the test firm's first events leave them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from jobs.state import Client, Commitment
from tests.helpers.firm import START

# Ana as `tests.helpers.events.created()` introduces her, met at START.
ANA = Client("ana", "Ana Ruiz", "ana@example.org", "Europe/Madrid", updated_at=START)
# Her commitment as `created()` makes it, before anything was scheduled or sent.
C1 = Commitment(
    commitment_id="c1",
    client_id="ana",
    coach_id="maria",
    profile="default",
    action="draft the grant proposal's first page",
    why="so the garden gets funded",
    due_date=date(2026, 12, 3),
    thread="t1",
    updated_at=START,
)


def client(**changes: Any) -> Client:
    """ANA with `changes`."""
    return replace(ANA, **changes)


def commitment(**changes: Any) -> Commitment:
    """C1 with `changes`."""
    return replace(C1, **changes)
