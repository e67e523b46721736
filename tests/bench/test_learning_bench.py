"""`python -m bench.learning`: on a simulated firm with a fixed seed, the learning loop gets
more replies than the fixed rotation, and no more than the oracle."""

from __future__ import annotations

import json

import pytest

from bench.learning import main, run


def test_the_loop_beats_the_rotation_on_a_simulated_firm() -> None:
    result = run(clients=60, prompts=24, seed=7)
    assert result["rotation"] < result["loop"] <= result["oracle"]
    assert result["gain_points"] >= 3.0


def test_the_same_seed_gives_the_same_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--clients", "20", "--prompts", "9", "--seed", "3", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["--clients", "20", "--prompts", "9", "--seed", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == first
    assert main(["--clients", "20", "--prompts", "9", "--seed", "3"]) == 0
    assert "of the loop over the rotation" in capsys.readouterr().out
