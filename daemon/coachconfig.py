"""Coach files: the TOML models a coaching firm owns, and loading, merging and checking them."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Final, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails

from daemon.errors import CoachdError
from jobs.cadence import CadenceProfile
from jobs.questions import DEFAULT_BANK, QuestionBank

NAME_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,63}$"
BUILTIN_PROFILE: Final = "standard"
BUILTIN_BANK: Final = "default"
CONFIG_SUFFIX: Final = ".toml"
MAX_TEXT_LENGTH: Final = 200
MAX_HOSTNAME_LENGTH: Final = 253
# The first overdue prompt asks depth-1 questions, so a bank needs enough of them.
FIRST_DEPTH: Final = 1
# Two prompts in a row never share a question, so a bank needs two prompts' worth.
PROMPTS_WITHOUT_REPEAT: Final = 2
# Key under which model validators find the folder of the file being read.
BASE_DIR_CONTEXT: Final = "base_dir"

_NAME_RE: Final = re.compile(NAME_PATTERN)
_HOST_LABEL_RE: Final = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_NOT_IN_ADDRESS_RE: Final = re.compile(r"[\s<>,\x00-\x1f\x7f]")
_CONTROL_RE: Final = re.compile(r"[\x00-\x1f\x7f]")


def _single_line(value: str) -> str:
    # Names end up in email headers, where a line break would be header injection.
    if _CONTROL_RE.search(value):
        raise ValueError("must be a single line of text")
    return value


def _hostname(value: str) -> str:
    host = value.lower()
    labels = host.split(".")
    if len(host) > MAX_HOSTNAME_LENGTH or not all(_HOST_LABEL_RE.match(p) for p in labels):
        raise ValueError(f"{value!r} is not a domain name like reply.example.com")
    return host


def _email_address(value: str) -> str:
    local, _, domain = value.partition("@")
    if _NOT_IN_ADDRESS_RE.search(value) or value.count("@") != 1 or not local:
        raise ValueError(f"{value!r} is not an email address like coach@example.com")
    return f"{local}@{_hostname(domain)}"


def _https_prefix(value: str) -> str:
    parts = urlsplit(value)
    if _NOT_IN_ADDRESS_RE.search(value) or parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"{value!r} is not a web address starting with https://")
    return value


def _relative_to_file(value: Path | None, info: ValidationInfo) -> Path | None:
    base = info.context.get(BASE_DIR_CONTEXT) if isinstance(info.context, dict) else None
    if value is None or base is None or value.is_absolute():
        return value
    return Path(base) / value


Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_LENGTH), AfterValidator(_single_line)]
EmailAddress = Annotated[str, AfterValidator(_email_address)]
Hostname = Annotated[str, AfterValidator(_hostname)]
HttpsUrl = Annotated[str, AfterValidator(_https_prefix)]
TemplatesDir = Annotated[Path | None, AfterValidator(_relative_to_file)]
Name = Annotated[str, Field(pattern=NAME_PATTERN)]


class Firm(BaseModel):
    """The firm from the one `[firm]` table: who the mail comes from and where replies go."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Text
    from_address: EmailAddress
    reply_domain: Hostname
    templates_dir: TemplatesDir = None
    unsubscribe_url: HttpsUrl | None = None


class Coach(BaseModel):
    """One coach from a `[coaches.ID]` table: contact, home time zone, default cadence, tone."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Text
    email: EmailAddress
    timezone: str
    profile: str = BUILTIN_PROFILE
    templates_dir: TemplatesDir = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"{value!r} is not a known time zone (use a name like Europe/Madrid)"
            ) from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class CoachFile(BaseModel):
    """What one coach file may hold; every section is optional, unknown keys are refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    firm: Firm | None = None
    coaches: dict[Name, Coach] = Field(default_factory=dict)
    profiles: dict[Name, CadenceProfile] = Field(default_factory=dict)
    question_banks: dict[Name, QuestionBank] = Field(default_factory=dict)


class ConfigLookupError(CoachdError, KeyError):
    """Raised when a coach, profile or question bank is asked for that the config does not have."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"no {kind} named {name!r} in the coach config")
        self.kind = kind
        self.name = name

    def __str__(self) -> str:
        return str(self.args[0])


class CoachConfig(BaseModel):
    """Every coach file merged: one firm, all coaches, profiles and banks (built-ins included)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    firm: Firm
    coaches: dict[str, Coach]
    profiles: dict[str, CadenceProfile]
    question_banks: dict[str, QuestionBank]
    sources: tuple[Path, ...] = ()

    def coach(self, coach_id: str) -> Coach:
        return _lookup(self.coaches, "coach", coach_id)

    def profile(self, name: str) -> CadenceProfile:
        return _lookup(self.profiles, "profile", name)

    def bank(self, name: str) -> QuestionBank:
        return _lookup(self.question_banks, "question bank", name)

    def profile_for(self, coach_id: str, profile_name: str | None) -> CadenceProfile:
        """The named profile if given (a commitment's own choice), else the coach's default."""
        return self.profile(profile_name or self.coach(coach_id).profile)

    def template_dir_for(self, coach_id: str) -> Path | None:
        """The coach's own templates folder, else the firm's, else None (the built-in templates)."""
        return self.coach(coach_id).templates_dir or self.firm.templates_dir


_V = TypeVar("_V")


def _lookup(items: Mapping[str, _V], kind: str, name: str) -> _V:
    try:
        return items[name]
    except KeyError:
        raise ConfigLookupError(kind, name) from None


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong in a coach file: where (file and key path) and what, in plain words."""

    file: Path
    key_path: str
    message: str

    def __str__(self) -> str:
        if not self.key_path:
            return f"{self.file}: {self.message}"
        return f"{self.file}: {self.key_path}: {self.message}"


class CoachConfigError(CoachdError):
    """Raised when coach files cannot be loaded; `problems` lists every problem found."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        super().__init__(format_problems(problems))
        self.problems = tuple(problems)


def format_problems(problems: Iterable[ConfigProblem]) -> str:
    """One line per problem, `{file}: {key_path}: {message}`; whole-file problems have no key."""
    return "\n".join(str(problem) for problem in problems)


# pydantic error types, in words a coach understands; `{…}` is filled from the error's context.
_MESSAGES: Final[Mapping[str, str]] = {
    "missing": "is required but missing",
    "time_parsing": "must be a time like 09:00",
    "time_type": "must be a time like 09:00",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text in quotes",
    "path_type": "must be a folder path in quotes",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "greater_than": "must be more than {gt}",
    "less_than": "must be less than {lt}",
    "too_short": "needs at least {min_length} item(s)",
    "too_long": "may have at most {max_length} item(s)",
    "string_too_short": "must be at least {min_length} character(s) long",
    "string_too_long": "must be at most {max_length} characters long",
    "string_pattern_mismatch": (
        "may only use lowercase letters, digits, '-' and '_', starting with a letter or digit"
    ),
    "literal_error": "must be one of {expected}",
    "list_type": "must be a list in square brackets, like [1, 3]",
    "tuple_type": "must be a list in square brackets, like [1, 3]",
    "dict_type": "must be a table of keys (a [section])",
    "model_type": "must be a table of keys (a [section])",
    "model_attributes_type": "must be a table of keys (a [section])",
}


def _plain_message(error: ErrorDetails) -> str:
    ctx = error.get("ctx", {})
    if error["type"] == "extra_forbidden":
        return f"unknown key '{error['loc'][-1]}' (not allowed here)"
    if error["type"] in {"value_error", "assertion_error"} and "error" in ctx:
        return str(ctx["error"])
    template = _MESSAGES.get(error["type"])
    try:
        return template.format(**ctx) if template else error["msg"]
    except (KeyError, IndexError):
        return error["msg"]


def _key_path(prefix: Sequence[str], loc: Iterable[int | str]) -> str:
    """Dotted key path; list positions are shown as `[n]`, counting from 1 like a coach does."""
    path = ".".join(prefix)
    for part in loc:
        if isinstance(part, int):
            path += f"[{part + 1}]"
        else:
            path = f"{path}.{part}" if path else part
    return path


@dataclass
class _Loaded:
    """What the loader collected so far: valid entries, where every name came from, problems."""

    problems: list[ConfigProblem] = field(default_factory=list)
    # A file that could not be parsed may hold the firm or the names others refer to.
    unreadable: bool = False
    firm_files: list[Path] = field(default_factory=list)
    firm: Firm | None = None
    coaches: dict[str, Coach] = field(default_factory=dict)
    profiles: dict[str, CadenceProfile] = field(default_factory=dict)
    question_banks: dict[str, QuestionBank] = field(default_factory=dict)
    # section -> name -> declaring file, kept even for invalid entries so that a
    # broken profile is not reported a second time as "unknown" by every coach using it.
    origins: dict[str, dict[str, Path]] = field(default_factory=dict)

    def add(self, file: Path, key_path: str, message: str) -> None:
        self.problems.append(ConfigProblem(file, key_path, message))

    def origin(self, section: str, name: str) -> Path | None:
        return self.origins.get(section, {}).get(name)


_M = TypeVar("_M", bound=BaseModel)


def _validate(
    loaded: _Loaded, file: Path, prefix: list[str], model: type[_M], raw: Any
) -> _M | None:
    try:
        return model.model_validate(raw, context={BASE_DIR_CONTEXT: file.parent})
    except ValidationError as exc:
        for error in _without_cascades(exc.errors()):
            loaded.add(file, _key_path(prefix, error["loc"]), _plain_message(error))
        return None


def _without_cascades(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """Drop "too few items" on a list whose items failed: pydantic counts only the valid ones."""
    failed_lists = {
        error["loc"][:position]
        for error in errors
        for position, part in enumerate(error["loc"])
        if isinstance(part, int)
    }
    return [e for e in errors if not (e["type"] == "too_short" and e["loc"] in failed_lists)]


def _add_firm(loaded: _Loaded, file: Path, raw: Any) -> None:
    if loaded.firm_files:
        first = loaded.firm_files[0].name
        loaded.add(file, "firm", f"[firm] is already in {first}; only one file may have it")
        return
    loaded.firm_files.append(file)
    loaded.firm = _validate(loaded, file, ["firm"], Firm, raw)


def _add_entries(
    loaded: _Loaded, file: Path, section: str, raw: Any, *, model: type[_M], into: dict[str, _M]
) -> None:
    if not isinstance(raw, dict):
        loaded.add(file, section, _MESSAGES["dict_type"])
        return
    origins = loaded.origins.setdefault(section, {})
    for name, body in raw.items():
        key = f"{section}.{name}"
        if not _NAME_RE.match(name):
            loaded.add(file, key, f"the name '{name}' {_MESSAGES['string_pattern_mismatch']}")
            continue
        if name in origins:
            loaded.add(file, key, f"'{name}' is already defined in {origins[name].name}")
            continue
        origins[name] = file
        entry = _validate(loaded, file, [section, name], model, body)
        if entry is not None:
            into[name] = entry


def _add_file(loaded: _Loaded, file: Path, data: dict[str, Any]) -> None:
    for key, raw in data.items():
        if key == "firm":
            _add_firm(loaded, file, raw)
        elif key == "coaches":
            _add_entries(loaded, file, key, raw, model=Coach, into=loaded.coaches)
        elif key == "profiles":
            _add_entries(loaded, file, key, raw, model=CadenceProfile, into=loaded.profiles)
        elif key == "question_banks":
            _add_entries(loaded, file, key, raw, model=QuestionBank, into=loaded.question_banks)
        else:
            sections = ", ".join(CoachFile.model_fields)
            loaded.add(file, key, f"unknown key '{key}' (not allowed here; use {sections})")


def _read_toml(loaded: _Loaded, file: Path) -> dict[str, Any] | None:
    try:
        return tomllib.loads(file.read_bytes().decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        loaded.add(file, "", f"is not valid TOML: {exc}")
    except UnicodeDecodeError:
        loaded.add(file, "", "is not UTF-8 text")
    except OSError as exc:
        loaded.add(file, "", f"cannot be read: {exc.strerror}")
    loaded.unreadable = True
    return None


def _config_files(loaded: _Loaded, path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.glob(f"*{CONFIG_SUFFIX}") if p.is_file())
        if not files:
            loaded.add(path, "", f"this folder has no {CONFIG_SUFFIX} files")
        return files
    if not path.exists():
        loaded.add(path, "", "does not exist")
        return []
    return [path]


def _check_firm(loaded: _Loaded, path: Path) -> None:
    if not loaded.firm_files:
        loaded.add(path, "firm", "no file has a [firm] section; exactly one file needs it")


def _check_references(loaded: _Loaded) -> None:
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


def _check_template_dirs(loaded: _Loaded) -> None:
    owners: list[tuple[Path | None, str, Path | None]] = [
        (loaded.firm_files[0] if loaded.firm_files else None, "firm", _firm_dir(loaded)),
    ]
    owners += [
        (loaded.origin("coaches", cid), f"coaches.{cid}", coach.templates_dir)
        for cid, coach in loaded.coaches.items()
    ]
    for file, key, directory in owners:
        if file is not None and directory is not None and not directory.is_dir():
            loaded.add(file, f"{key}.templates_dir", f"the folder {directory} does not exist")


def _firm_dir(loaded: _Loaded) -> Path | None:
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


def _check_banks_usable(loaded: _Loaded) -> None:
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


def load_coach_config(path: Path) -> CoachConfig:
    """Load one coach file, or merge every `*.toml` in a folder; raise with all problems found."""
    loaded = _Loaded()
    files = _config_files(loaded, path)
    for file in files:
        data = _read_toml(loaded, file)
        if data is not None:
            _add_file(loaded, file, data)
    if files and not loaded.unreadable:
        _check_firm(loaded, path)
        _check_references(loaded)
    if files:
        _check_template_dirs(loaded)
        _check_banks_usable(loaded)
    if loaded.problems or loaded.firm is None:
        raise CoachConfigError(loaded.problems)
    return CoachConfig(
        firm=loaded.firm,
        coaches=loaded.coaches,
        profiles={BUILTIN_PROFILE: CadenceProfile(), **loaded.profiles},
        question_banks={BUILTIN_BANK: DEFAULT_BANK, **loaded.question_banks},
        sources=tuple(files),
    )
