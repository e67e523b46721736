"""A broken coach file says what to fix: the key whose line TOML stumbled on, the likely
cause, and the key meant."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.cli import main
from daemon.config.load import CoachConfigError, ConfigProblem, load_coach_config

FIRM = """[firm]
name = "Northstar Coaching"
from_address = "coach@northstar.example"
reply_domain = "reply.northstar.example"
"""
QUOTES = 'text and times go in "double quotes", like name = "Maria Lopez", send_at = "09:00"'


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "firm.toml"
    path.write_text(FIRM + text, encoding="utf-8")
    with pytest.raises(CoachConfigError) as caught:
        load_coach_config(path)
    assert all(isinstance(p, ConfigProblem) for p in caught.value.problems)
    return [f"{p.key_path}: {p.message}" for p in caught.value.problems]


@pytest.mark.parametrize(
    ("line", "error", "hint"),
    [
        ("name = Maria Lopez", "Invalid value (at line 6, column 8)", QUOTES),
        (
            "digest_at = 08:30",
            "Expected newline or end of document after a statement (at line 6, column 14)",
            QUOTES,
        ),
        (
            'name = "Maria Lopez',
            "Illegal character '\\n' (at line 6, column 20)",
            'a text in "double quotes" must end on the line it starts: close the quote',
        ),
    ],
)
def test_a_toml_error_names_the_key_of_its_line_and_what_is_likely_wrong(
    tmp_path: Path, line: str, error: str, hint: str
) -> None:
    found = problems(tmp_path, f"[coaches.maria]\n{line}\n")

    assert found == [f": is not valid TOML: {error}, in: {line.partition(' =')[0]} = … ({hint})"]


def test_a_toml_error_with_no_usual_cause_gets_no_hint(tmp_path: Path) -> None:
    found = problems(tmp_path, "[coaches.maria]\n[coaches.maria]\n")

    assert found == [
        ": is not valid TOML: Cannot declare ('coaches', 'maria') twice (at line 6, column 15)"
        ", in: [coaches.maria]"
    ]


def test_a_misspelt_key_names_the_key_meant_at_any_depth(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        '[coaches.maria]\nname = "Maria"\nemail = "maria@northstar.example"\n'
        'time_zone = "Europe/Madrid"\n'
        '[profiles.gentle]\nsend_window = { strat = "09:00" }\n'
        "[question_banks.mine]\n[[question_banks.mine.questions]]\n"
        'id = "a"\nreasn = "why"\ndepth = 1\ntext = "What would it give you?"\n'
        "[[question_banks.mine.questions]]\n"
        'id = "b"\nreason = "risk"\ndepth = 1\ntext = "What feels risky?"\ncolour = 3\n',
    )

    assert (
        "coaches.maria.time_zone: unknown key 'time_zone' (not allowed here; did you mean"
        " 'timezone'?)"
    ) in found
    assert (
        "profiles.gentle.send_window.strat: unknown key 'strat' (not allowed here; did you mean"
        " 'start'?)"
    ) in found
    assert (
        "question_banks.mine.questions[1].reasn: unknown key 'reasn' (not allowed here; did you"
        " mean 'reason'?)"
    ) in found
    # Nothing close: no guess.
    assert "question_banks.mine.questions[2].colour: unknown key 'colour' (not allowed here)" in (
        found
    )


def test_check_config_prints_the_hint_beside_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "firm.toml"
    path.write_text(FIRM + "[coaches.maria]\nname = Maria Lopez\n", encoding="utf-8")

    assert main(["check-config", str(tmp_path)]) == 1

    out = capsys.readouterr().out
    assert f"{path}: is not valid TOML: Invalid value (at line 6, column 8), in: name = …" in out
    assert "Maria Lopez (" not in out  # a value is never quoted back: it may be an address
