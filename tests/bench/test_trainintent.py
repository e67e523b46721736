"""bench.trainintent: fits on the tune split only and scores a held-out batch."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.trainintent import DEFAULT_PEOPLE, main


def test_the_holdout_report_scores_rules_model_and_both_on_the_held_out_batch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tune = sorted((DEFAULT_PEOPLE / "tune" / "en").glob("f_*.eml"))[:4]
    older = sorted((DEFAULT_PEOPLE / "tune" / "en").glob("e_*.eml"))[:8]
    frozen = sorted((DEFAULT_PEOPLE / "frozen" / "en").glob("*.eml"))[:1]
    for split, files in (("tune", [*tune, *older]), ("frozen", frozen)):
        folder = tmp_path / split / "en"
        folder.mkdir(parents=True)
        for eml in files:
            shutil.copy(eml, folder)
            shutil.copy(eml.with_suffix(".json"), folder)

    assert main(["--people", str(tmp_path), "--holdout", "f_"]) == 0

    report = capsys.readouterr().out
    assert "fitted on 8 tune cases, scored on 4 held out (f_*)" in report  # frozen unread
    for line in ("rules alone", "model alone", "combined reader"):
        assert f"  {line}" in report and "/4 " in report
