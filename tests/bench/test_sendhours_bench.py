"""`python -m bench.learning`'s send-hour half: on simulated clients with hidden best hours
and a fixed seed, drawing the hour gets more replies than the fixed 09:00, and no more than
sending each client at their best hour."""

from __future__ import annotations

import json

import pytest

from bench.learning import main
from bench.sendhours import run_hours


def test_learning_the_hour_beats_the_fixed_hour_on_a_simulated_firm() -> None:
    result = run_hours(clients=100, prompts=30, seed=7)
    assert result["fixed"] < result["loop"] <= result["oracle"]
    assert result["gain_points"] >= 2.0  # 2.3 at this seed


def test_the_report_gives_the_hours_gain_beside_the_questions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--clients", "20", "--prompts", "9", "--seed", "3", "--json"]) == 0
    hours = json.loads(capsys.readouterr().out)["hours"]
    assert set(hours) == {"fixed", "loop", "oracle", "gain_points", "gain_relative"}
    assert main(["--clients", "20", "--prompts", "9", "--seed", "3"]) == 0
    assert "of the loop over the fixed hour" in capsys.readouterr().out
