"""Due dates in the past: how far back one may lie before the event giving it is refused."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

# Further back than this a due date is most likely a typo'd year ("2025-12-03" for
# "2026-12-03"): the event is dead-lettered unless it says `past_due_ok`.
MAX_PAST_DUE_DAYS = 30


def check_past_due(
    due: date | None, occurred_at: datetime, past_due_ok: bool, zone: str | None = None
) -> None:
    """Raise ValueError when `due` lies more than MAX_PAST_DUE_DAYS before the day the event
    happened (in `zone`, else in `occurred_at`'s own offset) and `past_due_ok` is not set."""
    if due is None or past_due_ok:
        return
    local = occurred_at.astimezone(ZoneInfo(zone)) if zone else occurred_at
    days_past = (local.date() - due).days
    if days_past > MAX_PAST_DUE_DAYS:
        raise ValueError(
            f"due_date {due.isoformat()} is {days_past} days before the event (more than "
            f"{MAX_PAST_DUE_DAYS}; a mistyped year?); send past_due_ok: true if it is deliberate"
        )
