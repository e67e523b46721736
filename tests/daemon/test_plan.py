"""`coachd plan` as the README tells it (issue 15 item 14): no config needed, skips explained."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.cli import main
from daemon.commands import EXIT_INVALID, EXIT_OK

EXAMPLE_CONFIG = Path(__file__).parents[2] / "deploy" / "coachd.example.toml"
# Friday 4 December 2026 in Madrid; "now" is Tuesday 8 December 13:00 there.
DEFAULT_CONFIG = Path("/etc/coachd")
DUE, ZONE, LATE = "2026-12-04", "Europe/Madrid", "2026-12-08T12:00+00:00"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("COACHD_REDIS_URL", "COACHD_SIGNING_KEY", "COACHD_CONFIG_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env is read


@pytest.fixture
def fresh_machine() -> None:
    """No COACHD_CONFIG_PATH and nothing at its default, /etc/coachd."""
    if DEFAULT_CONFIG.exists():
        pytest.skip(f"this machine has coach files at {DEFAULT_CONFIG}")


def plan(*args: str) -> int:
    return main(["plan", "--due", DUE, "--timezone", ZONE, *args])


@pytest.mark.usefixtures("fresh_machine")
def test_plan_without_config_uses_the_built_in_profile_and_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The README's own example line works on a machine with no coach files."""
    assert plan("--now", "2026-11-23T08:00+00:00") == EXIT_OK

    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "Profile 'standard' (built in; no coach files at /etc/coachd), due Friday 04 December"
        " 2026, client time zone Europe/Madrid"
    )
    # The built-in ladder: one reminder two days before, prompts 1, 4 and 9 days after.
    assert [line.split()[0] for line in out[3:]] == [
        "reminder-2d",
        "overdue-1d",
        "overdue-4d",
        "overdue-9d",
    ]


@pytest.mark.usefixtures("fresh_machine")
def test_plan_says_which_steps_it_skips_because_their_time_has_passed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert plan("--now", LATE) == EXIT_OK

    out = capsys.readouterr().out
    table, skipped = out.split("\n\nSkipped, because its time has passed:\n")
    assert [line.split()[0] for line in table.splitlines()[3:]] == ["overdue-4d", "overdue-9d"]
    assert skipped.splitlines() == [
        "reminder-2d   reminder  Wed 2026-12-02 09:00 CET        2026-12-02 08:00",
        "overdue-1d    overdue   Mon 2026-12-07 09:00 CET        2026-12-07 08:00"
        "  (instead: overdue-4d)",
    ]


@pytest.mark.usefixtures("fresh_machine")
def test_a_plan_with_nothing_skipped_lists_no_skips(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan("--now", "2026-11-23T08:00+00:00") == EXIT_OK
    assert "Skipped" not in capsys.readouterr().out


def test_plan_with_coach_files_names_them(capsys: pytest.CaptureFixture[str]) -> None:
    code = plan("--config", str(EXAMPLE_CONFIG), "--profile", "gentle", "--now", LATE)

    assert code == EXIT_OK
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"Profile 'gentle' (from {EXAMPLE_CONFIG}), due Friday 04 December")


def test_plan_reads_coachd_config_path_when_it_is_there(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "coachd"
    folder.mkdir()
    (folder / "firm.toml").write_text(EXAMPLE_CONFIG.read_text())
    monkeypatch.setenv("COACHD_CONFIG_PATH", str(folder))

    assert plan("--profile", "gentle", "--now", LATE) == EXIT_OK
    assert f"Profile 'gentle' (from {folder})" in capsys.readouterr().out


def test_an_explicit_config_path_that_is_missing_is_an_error_not_the_built_ins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COACHD_CONFIG_PATH", str(tmp_path / "nowhere"))

    assert plan("--now", LATE) != EXIT_OK
    assert f"{tmp_path / 'nowhere'}: does not exist" in capsys.readouterr().err


@pytest.mark.usefixtures("fresh_machine")
def test_a_profile_that_is_not_built_in_needs_the_coach_files(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert plan("--profile", "gentle") == EXIT_INVALID
    assert capsys.readouterr().err == (
        "coachd: no coach files at /etc/coachd, and 'gentle' is not built in (built in:"
        " standard); say where yours are with --config PATH\n"
    )
