"""Tests for loading, merging and checking coach files."""

from __future__ import annotations

import tomllib
from datetime import time
from pathlib import Path

import pytest

import daemon
from daemon.config.load import (
    CoachConfig,
    CoachConfigError,
    CoachFile,
    ConfigLookupError,
    ConfigProblem,
    format_problems,
    load_coach_config,
)
from daemon.errors import CoachdError
from jobs.cadence import CadenceProfile, SendWindow
from jobs.questions import DEFAULT_BANK

EXAMPLE = Path(__file__).resolve().parents[3] / "deploy" / "coachd.example.toml"
DEMO = Path(daemon.__file__).resolve().parent / "demo" / "firm"

FIRM = """
[firm]
name = "Northstar Coaching"
from_address = "coach@northstar.example"
reply_domain = "reply.northstar.example"
"""

MARIA = """
[coaches.maria]
name = "Maria Lopez"
email = "maria@northstar.example"
timezone = "Europe/Madrid"
"""

BANK = """
[question_banks.mine]
[[question_banks.mine.questions]]
id = "a"
reason = "why"
depth = 1
text = "What would this give you?"
[[question_banks.mine.questions]]
id = "b"
reason = "risk"
depth = 2
text = "What feels risky about it?"
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[ConfigProblem]:
    with pytest.raises(CoachConfigError) as caught:
        load_coach_config(path)
    return list(caught.value.problems)


def only_problem(path: Path) -> ConfigProblem:
    problems = problems_of(path)
    assert len(problems) == 1, format_problems(problems)
    return problems[0]


def test_example_config_loads_with_both_coaches_profiles_and_bank() -> None:
    config = load_coach_config(EXAMPLE)

    assert config.firm.name == "Northstar Coaching"
    assert sorted(config.coaches) == ["james", "maria"]
    assert config.coach("maria").timezone != config.coach("james").timezone
    assert sorted(config.profiles) == ["gentle", "standard"]
    assert config.profile_for("maria", None) == config.profile("gentle")
    assert config.profile_for("james", None).reminders_before_due_days == (3, 1)
    assert sorted(config.question_banks) == ["default", "northstar"]
    assert config.profile("gentle").question_bank == "northstar"


def test_demo_config_has_northstar_firm_two_coaches_and_fast_profile() -> None:
    config = load_coach_config(DEMO)

    assert (config.firm.name, config.firm.from_address, config.firm.reply_domain) == (
        "Northstar Coaching",
        "coach@northstar.example",
        "reply.northstar.example",
    )
    zones = {cid: coach.timezone for cid, coach in config.coaches.items()}
    assert zones == {"maria": "Europe/Madrid", "james": "America/New_York"}
    expected = CadenceProfile(
        reminders_before_due_days=(1,),
        overdue_prompt_days=(1, 3, 6),
        send_at=time(9, 0),
        send_window=SendWindow(start=time(8, 0), end=time(20, 0)),
        weekdays_only=False,
        stop_after_unanswered=3,
        reflection_after_hours=2,
        questions_per_prompt=2,
    )
    assert config.profile("demo") == expected
    assert config.profile_for("james", None) == expected


def test_directory_files_are_merged_and_listed_as_sources(tmp_path: Path) -> None:
    firm = write(tmp_path, "a-firm.toml", FIRM)
    coaches = write(tmp_path, "b-coaches.toml", MARIA + '\nprofile = "gentle"\n')
    profiles = write(tmp_path, "c-profiles.toml", '[profiles.gentle]\nquestion_bank = "mine"\n')
    banks = write(tmp_path, "d-banks.toml", BANK)
    write(tmp_path, "notes.txt", "not a coach file")
    write(tmp_path / "sub", "ignored.toml", "this is not even TOML")

    config = load_coach_config(tmp_path)

    assert config.sources == (firm, coaches, profiles, banks)
    assert list(config.coaches) == ["maria"]
    assert config.profile_for("maria", None) == CadenceProfile(question_bank="mine")
    assert [q.id for q in config.bank("mine").questions] == ["a", "b"]


def test_key_defined_in_two_files_names_both(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", FIRM + MARIA)
    write(tmp_path, "b.toml", MARIA)

    problem = only_problem(tmp_path)

    assert (problem.file.name, problem.key_path) == ("b.toml", "coaches.maria")
    assert problem.message == "'maria' is already defined in a.toml"


def test_unknown_key_is_reported_with_its_key_path(tmp_path: Path) -> None:
    path = write(
        tmp_path, "firm.toml", FIRM + "[profiles.gentle]\nremnders_before_due_days = [1]\n"
    )

    problem = only_problem(path)

    assert problem == ConfigProblem(
        path,
        "profiles.gentle.remnders_before_due_days",
        "unknown key 'remnders_before_due_days' (not allowed here; did you mean"
        " 'reminders_before_due_days'?)",
    )


def test_unknown_top_level_section_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "firm.toml", FIRM + "[coach.maria]\nname = 'x'\n")

    assert only_problem(path) == ConfigProblem(
        path,
        "coach",
        "unknown key 'coach' (not allowed here; use firm, coaches, profiles, question_banks)",
    )


def test_file_model_describes_a_whole_file() -> None:
    parsed = CoachFile.model_validate(tomllib.loads(EXAMPLE.read_text(encoding="utf-8")))

    assert (sorted(parsed.coaches), sorted(parsed.profiles)) == (
        ["james", "maria"],
        ["gentle", "standard"],
    )


def test_unknown_time_zone_names_the_zone(tmp_path: Path) -> None:
    path = write(tmp_path, "firm.toml", FIRM + MARIA.replace("Europe/Madrid", "Europe/Madird"))

    problem = only_problem(path)

    assert problem.key_path == "coaches.maria.timezone"
    assert problem.message.startswith("'Europe/Madird' is not a known time zone")


def test_bad_time_says_what_a_time_looks_like(tmp_path: Path) -> None:
    text = FIRM + '[profiles.gentle]\nsend_window = { start = "8 o\'clock", end = "20:00" }\n'
    path = write(tmp_path, "firm.toml", text)

    assert only_problem(path) == ConfigProblem(
        path, "profiles.gentle.send_window.start", "must be a time like 09:00"
    )


def test_window_start_not_before_end_is_refused(tmp_path: Path) -> None:
    text = FIRM + '[profiles.gentle]\nsend_window = { start = "20:00", end = "08:00" }\n'
    path = write(tmp_path, "firm.toml", text)

    assert only_problem(path) == ConfigProblem(
        path,
        "profiles.gentle.send_window",
        "send_window.start must be earlier than send_window.end",
    )


def test_send_at_outside_the_window_names_the_profile_and_both_values(tmp_path: Path) -> None:
    """Issue 15 item 11: a send_at outside the window would silently drop every reminder."""
    text = (
        FIRM
        + '[profiles.gentle]\nsend_at = "07:00"\n'
        + 'send_window = { start = "08:00", end = "20:00" }\n'
    )
    path = write(tmp_path, "firm.toml", text)

    assert only_problem(path) == ConfigProblem(
        path,
        "profiles.gentle.send_at",
        "profile 'gentle' sends at 07:00, outside its send_window 08:00-20:00 (the end is "
        "excluded); reminders would never be sent",
    )


def test_send_at_on_the_window_end_is_outside_it(tmp_path: Path) -> None:
    """The window's end is exclusive, so a send_at equal to it is refused too."""
    text = FIRM + '[profiles.late]\nsend_at = "20:00"\n'
    path = write(tmp_path, "firm.toml", text)

    problem = only_problem(path)

    assert (problem.key_path, problem.message.split(" (")[0]) == (
        "profiles.late.send_at",
        "profile 'late' sends at 20:00, outside its send_window 08:00-20:00",
    )


def test_missing_firm_is_reported_against_the_folder(tmp_path: Path) -> None:
    write(tmp_path, "coaches.toml", MARIA)

    problem = only_problem(tmp_path)

    assert (problem.file, problem.key_path) == (tmp_path, "firm")


def test_second_firm_is_refused_naming_the_first(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", FIRM)
    write(tmp_path, "b.toml", FIRM)

    problem = only_problem(tmp_path)

    assert (problem.file.name, problem.key_path) == ("b.toml", "firm")
    assert "a.toml" in problem.message


def test_unknown_profile_and_bank_references_are_reported(tmp_path: Path) -> None:
    text = FIRM + MARIA + 'profile = "gentel"\n[profiles.gentle]\nquestion_bank = "mine"\n'
    path = write(tmp_path, "firm.toml", text)

    problems = problems_of(path)

    assert [(p.key_path, p.message) for p in problems] == [
        (
            "coaches.maria.profile",
            "there is no profile named 'gentel' (known: gentle, standard)",
        ),
        (
            "profiles.gentle.question_bank",
            "there is no question bank named 'mine' (known: default)",
        ),
    ]


def test_toml_syntax_error_gives_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "firm.toml", '[firm]\nname = "Northstar"\nfrom_address = \n')

    problem = only_problem(path)

    assert (problem.file, problem.key_path) == (path, "")
    assert problem.message.startswith("is not valid TOML: ")
    assert "line 3" in problem.message


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", FIRM.replace("reply.northstar.example", "not a host"))
    coaches = MARIA.replace("Europe/Madrid", "Mars/Olympus") + 'profile = "nope"\n'
    coaches += '[coaches.James]\nname = "James"\n'
    write(tmp_path, "b.toml", coaches)
    profiles = '[profiles.gentle]\nsend_at = "25:00"\nstop_after_unanswered = 0\nspeed = 1\n'
    profiles += '[profiles.solo]\nquestions_per_prompt = 2\nquestion_bank = "mine"\n'
    write(tmp_path, "c.toml", profiles + BANK)
    write(tmp_path, "d.toml", "[coaches.maria\n")

    problems = problems_of(tmp_path)

    assert {(p.file.name, p.key_path) for p in problems} == {
        ("a.toml", "firm.reply_domain"),
        ("b.toml", "coaches.maria.timezone"),
        ("b.toml", "coaches.James"),
        ("c.toml", "profiles.gentle.send_at"),
        ("c.toml", "profiles.gentle.stop_after_unanswered"),
        ("c.toml", "profiles.gentle.speed"),
        ("c.toml", "profiles.solo.question_bank"),
        ("d.toml", ""),
    }
    assert len(problems) == 8


def test_bank_without_enough_first_questions_is_refused(tmp_path: Path) -> None:
    text = FIRM + BANK + '[profiles.solo]\nquestions_per_prompt = 2\nquestion_bank = "mine"\n'
    path = write(tmp_path, "firm.toml", text)

    problem = only_problem(path)

    assert problem.key_path == "profiles.solo.question_bank"
    assert "has 1 question(s) with depth = 1" in problem.message


def test_list_positions_in_key_paths_count_from_one(tmp_path: Path) -> None:
    path = write(tmp_path, "firm.toml", FIRM + BANK.replace('reason = "risk"', 'reason = "fear"'))

    problem = only_problem(path)

    assert problem.key_path == "question_banks.mine.questions[2].reason"
    assert problem.message.startswith("must be one of 'partnering'")


def test_built_in_profile_and_bank_are_always_there(tmp_path: Path) -> None:
    config = load_coach_config(write(tmp_path, "firm.toml", FIRM + MARIA))

    assert config.profile("standard") == CadenceProfile()
    assert config.bank("default") == DEFAULT_BANK
    assert config.profile_for("maria", None) == CadenceProfile()
    assert config.profile_for("maria", "standard") == CadenceProfile()


def test_built_in_profile_can_be_overridden(tmp_path: Path) -> None:
    text = FIRM + "[profiles.standard]\nweekdays_only = false\n"
    config = load_coach_config(write(tmp_path, "firm.toml", text))

    assert config.profile("standard") == CadenceProfile(weekdays_only=False)


def test_unknown_names_raise_a_lookup_error(tmp_path: Path) -> None:
    config = load_coach_config(write(tmp_path, "firm.toml", FIRM + MARIA))

    with pytest.raises(ConfigLookupError) as caught:
        config.profile_for("maria", "missing")

    assert (caught.value.kind, caught.value.name) == ("profile", "missing")
    assert isinstance(caught.value, CoachdError)
    with pytest.raises(KeyError):
        config.coach("nobody")


def test_template_dirs_resolve_relative_to_their_file(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    (conf / "firm-tpl").mkdir(parents=True)
    (conf / "maria-tpl").mkdir()
    write(conf, "a.toml", FIRM + 'templates_dir = "firm-tpl"\n')
    write(conf, "b.toml", MARIA + 'templates_dir = "maria-tpl"\n' + MARIA.replace("maria", "ann"))

    config = load_coach_config(conf)

    assert config.template_dir_for("maria") == conf / "maria-tpl"
    assert config.template_dir_for("ann") == conf / "firm-tpl"


def test_missing_template_dir_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "firm.toml", FIRM + 'templates_dir = "nowhere"\n')

    problem = only_problem(path)

    assert (problem.key_path, problem.message) == (
        "firm.templates_dir",
        f"the folder {tmp_path / 'nowhere'} does not exist",
    )


def test_addresses_and_urls_are_validated(tmp_path: Path) -> None:
    firm = FIRM.replace("coach@northstar.example", "Coach <coach@northstar.example>")
    firm += 'unsubscribe_url = "http://northstar.example/u/"\n'
    path = write(tmp_path, "firm.toml", firm)

    assert {p.key_path for p in problems_of(path)} == {
        "firm.from_address",
        "firm.unsubscribe_url",
    }


def test_format_problems_prints_one_line_each() -> None:
    problems = [
        ConfigProblem(Path("coaches.toml"), "coaches.maria.timezone", "bad zone"),
        ConfigProblem(Path("firm.toml"), "", "is not valid TOML"),
    ]

    assert format_problems(problems) == (
        "coaches.toml: coaches.maria.timezone: bad zone\nfirm.toml: is not valid TOML"
    )
    assert str(CoachConfigError(problems)) == format_problems(problems)


def test_config_is_frozen(tmp_path: Path) -> None:
    config: CoachConfig = load_coach_config(write(tmp_path, "firm.toml", FIRM))

    with pytest.raises(ValueError, match="frozen"):
        config.firm = config.firm  # type: ignore[misc]


def test_template_symlinked_outside_its_folder_is_reported_with_file_and_reason(
    tmp_path: Path,
) -> None:
    """check-config names the coach file, the key, the template and why it is refused."""
    (tmp_path / "coachd.env").write_text("COACHD_SMTP_PASSWORD=hunter2\n")
    (tmp_path / "tpl" / "reminder").mkdir(parents=True)
    (tmp_path / "tpl" / "reminder" / "body.txt").symlink_to(tmp_path / "coachd.env")
    path = write(tmp_path, "firm.toml", FIRM + 'templates_dir = "tpl"\n')

    problem = only_problem(path)

    template = tmp_path / "tpl" / "reminder" / "body.txt"
    assert (problem.file, problem.key_path, problem.message) == (
        path,
        "firm.templates_dir",
        f"template {template} resolves outside the templates folder (a symlink?)",
    )
