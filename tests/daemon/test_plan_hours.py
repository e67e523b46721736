"""`coachd plan` for a profile that learns the send hour: prompts at the window's start, and
a line saying what that time means."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.cli import main
from daemon.commands import EXIT_OK
from tests.helpers.firm import firm_file

HOURS_PROFILE = """
[profiles.hours]
learn_send_hour = true
send_window = { start = "07:30", end = "19:00" }
"""


def test_plan_shows_prompts_at_the_windows_start_and_says_their_hour_is_drawn_when_they_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    config = firm_file(tmp_path, HOURS_PROFILE)
    args = ["--due", "2026-12-04", "--timezone", "Europe/Madrid", "--now", "2026-11-23T08:00Z"]

    assert main(["plan", *args, "--profile", "hours", "--config", str(config)]) == EXIT_OK
    hours = capsys.readouterr().out.splitlines()
    assert main(["plan", *args, "--profile", "twice", "--config", str(config)]) == EXIT_OK
    fixed = capsys.readouterr().out

    assert [line.split()[4] for line in hours[3:7]] == ["09:00", "07:30", "07:30", "07:30"]
    assert hours[-1] == (
        "Overdue prompts are shown at the send window's start: each goes at the hour the"
        " learning loop draws when it fires (learn_send_hour), 07:30-19:00 that day."
    )
    assert "learn_send_hour" not in fixed
