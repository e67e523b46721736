"""Coach config loading: every coach file read, checked across files, and merged into one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

from daemon.config.files import Loaded, add_file, config_files, read_toml
from daemon.config.models import (
    BUILTIN_BANK,
    BUILTIN_PROFILE,
    Coach,
    CoachConfig,
    CoachFile,
    ConfigLookupError,
    ConfigProblem,
    Firm,
)
from daemon.config.placeholders import placeholder_warnings
from daemon.errors import CoachdError
from jobs.cadence import CadenceProfile
from jobs.questions import DEFAULT_BANK, QuestionBank
from jobs.sandbox import refused_templates

# The models live in daemon.config.models; callers keep importing them from here.
__all__ = [
    "Coach",
    "CoachConfig",
    "CoachConfigError",
    "CoachFile",
    "ConfigLookupError",
    "ConfigProblem",
    "Firm",
    "format_problems",
    "load_coach_config",
]

# The first overdue prompt asks depth-1 questions, so a bank needs enough of them.
FIRST_DEPTH: Final = 1
# Two prompts in a row never share a question, so a bank needs two prompts' worth.
PROMPTS_WITHOUT_REPEAT: Final = 2


class CoachConfigError(CoachdError):
    """Raised when coach files cannot be loaded; `problems` lists every problem found."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        super().__init__(format_problems(problems))
        self.problems = tuple(problems)


def format_problems(problems: Iterable[ConfigProblem]) -> str:
    """One line per problem, `{file}: {key_path}: {message}`; whole-file problems have no key."""
    return "\n".join(str(problem) for problem in problems)


def _check_firm(loaded: Loaded, path: Path) -> None:
    if not loaded.firm_files:
        loaded.add(path, "firm", "no file has a [firm] section; exactly one file needs it")


def _check_references(loaded: Loaded) -> None:
    known_profiles = {BUILTIN_PROFILE, *loaded.origins.get("profiles", {})}
    for coach_id, coach in loaded.coaches.items():
        if coach.profile not in known_profiles:
            file = loaded.origins["coaches"][coach_id]
            choices = ", ".join(sorted(known_profiles))
            message = f"there is no profile named '{coach.profile}' (known: {choices})"
            loaded.add(file, f"coaches.{coach_id}.profile", message)
    known_banks = {BUILTIN_BANK, *loaded.origins.get("question_banks", {})}
    for name, profile in loaded.profiles.items():
        if profile.question_bank not in known_banks:
            file = loaded.origins["profiles"][name]
            choices = ", ".join(sorted(known_banks))
            message = (
                f"there is no question bank named '{profile.question_bank}' (known: {choices})"
            )
            loaded.add(file, f"profiles.{name}.question_bank", message)


def _check_template_dirs(loaded: Loaded) -> None:
    owners: list[tuple[Path | None, str, Path | None]] = [
        (loaded.firm_files[0] if loaded.firm_files else None, "firm", _firm_dir(loaded)),
    ]
    owners += [
        (loaded.origin("coaches", cid), f"coaches.{cid}", coach.templates_dir)
        for cid, coach in loaded.coaches.items()
    ]
    for file, key, directory in owners:
        if file is None or directory is None:
            continue
        if not directory.is_dir():
            loaded.add(file, f"{key}.templates_dir", f"the folder {directory} does not exist")
            continue
        for template, reason in refused_templates(directory):
            loaded.add(file, f"{key}.templates_dir", f"template {template} {reason}")


def _firm_dir(loaded: Loaded) -> Path | None:
    return loaded.firm.templates_dir if loaded.firm else None


def _bank_shortfall(bank_name: str, bank: QuestionBank, per_prompt: int) -> str | None:
    first = sum(1 for question in bank.questions if question.depth == FIRST_DEPTH)
    if first < per_prompt:
        return (
            f"question bank '{bank_name}' has {first} question(s) with depth = {FIRST_DEPTH}, "
            f"but this profile asks {per_prompt} per prompt"
        )
    needed = PROMPTS_WITHOUT_REPEAT * per_prompt
    if len(bank.questions) < needed:
        return (
            f"question bank '{bank_name}' needs at least {needed} questions so that "
            "two prompts in a row never repeat a question"
        )
    return None


def _check_banks_usable(loaded: Loaded) -> None:
    banks = {BUILTIN_BANK: DEFAULT_BANK, **loaded.question_banks}
    profiles = {BUILTIN_PROFILE: CadenceProfile(), **loaded.profiles}
    for name, profile in profiles.items():
        bank = banks.get(profile.question_bank)
        shortfall = bank and _bank_shortfall(
            profile.question_bank, bank, profile.questions_per_prompt
        )
        if not shortfall:
            continue
        if (file := loaded.origin("profiles", name)) is not None:
            loaded.add(file, f"profiles.{name}.question_bank", shortfall)
        elif (file := loaded.origin("question_banks", profile.question_bank)) is not None:
            loaded.add(file, f"question_banks.{profile.question_bank}.questions", shortfall)


def _check_send_at_in_window(loaded: Loaded) -> None:
    """A send_at outside the window moves every day-based step to a window's start, and a
    reminder moved onto its due day is dropped: the profile would quietly send none."""
    for name, profile in loaded.profiles.items():
        window = profile.send_window
        if window.contains(profile.send_at) or (file := loaded.origin("profiles", name)) is None:
            continue
        loaded.add(
            file,
            f"profiles.{name}.send_at",
            f"profile '{name}' sends at {profile.send_at:%H:%M}, outside its send_window "
            f"{window.start:%H:%M}-{window.end:%H:%M} (the end is excluded); reminders "
            "would never be sent",
        )


def load_coach_config(path: Path) -> CoachConfig:
    """Load one coach file, or merge every `*.toml` in a folder; raise with all problems found."""
    loaded = Loaded()
    files = config_files(loaded, path)
    for file in files:
        data = read_toml(loaded, file)
        if data is not None:
            add_file(loaded, file, data)
    if files and not loaded.unreadable:
        _check_firm(loaded, path)
        _check_references(loaded)
    if files:
        _check_template_dirs(loaded)
        _check_banks_usable(loaded)
        _check_send_at_in_window(loaded)
    if loaded.problems or loaded.firm is None:
        raise CoachConfigError(loaded.problems)
    return CoachConfig(
        warnings=tuple(placeholder_warnings(loaded)),
        firm=loaded.firm,
        coaches=loaded.coaches,
        profiles={BUILTIN_PROFILE: CadenceProfile(), **loaded.profiles},
        question_banks={BUILTIN_BANK: DEFAULT_BANK, **loaded.question_banks},
        sources=tuple(files),
    )
