"""The test firm the loop tests run: its coach file, its signing key and the moment time starts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

# Monday 30 November 2026, 08:00 in Madrid.
START = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
SIGNING_KEY = b"test-signing-key-0123456789-abcdefghij"

FIRM_TOML = """
[firm]
name = "Northstar Coaching"
from_address = "coach@northstar.example"
reply_domain = "reply.northstar.example"

[coaches.maria]
name = "Maria Lopez"
email = "maria@northstar.example"
timezone = "Europe/Madrid"

[profiles.twice]
reminders_before_due_days = [2]
overdue_prompt_days = [1, 4]
stop_after_unanswered = 2
questions_per_prompt = 2
"""


def firm_file(folder: Path, *more: str) -> Path:
    """The test firm's coach file in `folder`, with `more` tables (profiles, say) after it."""
    path = folder / "firm.toml"
    path.write_text(FIRM_TOML + "".join(more))
    return path
