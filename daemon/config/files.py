"""Reading coach files one by one into a merge, with pydantic errors put into plain words."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar, get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from daemon.config.models import (
    BASE_DIR_CONTEXT,
    NAME_PATTERN,
    Coach,
    CoachFile,
    ConfigProblem,
    Firm,
)
from jobs.cadence import CadenceProfile
from jobs.questions import QuestionBank

CONFIG_SUFFIX: Final = ".toml"

_NAME_RE: Final = re.compile(NAME_PATTERN)


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


# tomllib's message starts, and what a coach most likely wrote to cause it.
_QUOTES_HINT: Final = (
    'text and times go in "double quotes", like name = "Maria Lopez", send_at = "09:00"'
)
_UNCLOSED_HINT: Final = 'a text in "double quotes" must end on the line it starts: close the quote'
_TOML_HINTS: Final[Mapping[str, str]] = {
    "Invalid value": _QUOTES_HINT,
    "Expected newline or end of document after a statement": _QUOTES_HINT,
    "Illegal character '\\n'": _UNCLOSED_HINT,
    "Unterminated string": _UNCLOSED_HINT,
}
_TOML_LINE_RE: Final = re.compile(r"\(at line (\d+), column \d+\)$")
_QUOTED_LINE_MAX: Final = 80  # a line quoted back is for finding it, not for reading it all


def _line_start(line: str) -> str:
    """The line to find it by: its key and `= …` (the value may be an address, and this
    message also goes to the log on a reload), or a [section] line as it is."""
    key, equals, _ = line.strip().partition("=")
    return f"{key.strip()} = …" if equals else line.strip()[:_QUOTED_LINE_MAX]


def _toml_problem(exc: tomllib.TOMLDecodeError, text: str) -> str:
    """tomllib's message, the line it points at, and the likely fix in a coach's words."""
    reason = str(exc)
    message = f"is not valid TOML: {reason}"
    found = _TOML_LINE_RE.search(reason)
    lines = text.splitlines()
    if found and 1 <= int(found.group(1)) <= len(lines):
        message += f", in: {_line_start(lines[int(found.group(1)) - 1])}"
    hint = next((h for start, h in _TOML_HINTS.items() if reason.startswith(start)), None)
    return f"{message} ({hint})" if hint else message


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds: itself, inside a tuple of them, or inside `X | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next(filter(None, map(_model_in, get_args(annotation))), None)


def _keys_at(model: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """The keys the table at `loc` inside `model` may hold (none known: an empty list)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int):
            continue  # an item of a list of tables has the item model's keys
        declared = current.model_fields.get(part) if current else None
        current = _model_in(declared.annotation) if declared else None
    return list(current.model_fields) if current else []


def _unknown_key(error: ErrorDetails, model: type[BaseModel]) -> str:
    key = str(error["loc"][-1])
    close = difflib.get_close_matches(key, _keys_at(model, error["loc"][:-1]), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown key '{key}' (not allowed here{hint})"


def _plain_message(error: ErrorDetails, model: type[BaseModel]) -> str:
    ctx = error.get("ctx", {})
    if error["type"] == "extra_forbidden":
        return _unknown_key(error, model)
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
class Loaded:
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
    loaded: Loaded, file: Path, prefix: list[str], model: type[_M], raw: Any
) -> _M | None:
    try:
        return model.model_validate(raw, context={BASE_DIR_CONTEXT: file.parent})
    except ValidationError as exc:
        for error in _without_cascades(exc.errors()):
            loaded.add(file, _key_path(prefix, error["loc"]), _plain_message(error, model))
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


def _add_firm(loaded: Loaded, file: Path, raw: Any) -> None:
    if loaded.firm_files:
        first = loaded.firm_files[0].name
        loaded.add(file, "firm", f"[firm] is already in {first}; only one file may have it")
        return
    loaded.firm_files.append(file)
    loaded.firm = _validate(loaded, file, ["firm"], Firm, raw)


def _add_entries(
    loaded: Loaded, file: Path, section: str, raw: Any, *, model: type[_M], into: dict[str, _M]
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


def add_file(loaded: Loaded, file: Path, data: dict[str, Any]) -> None:
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


def read_toml(loaded: Loaded, file: Path) -> dict[str, Any] | None:
    try:
        text = file.read_bytes().decode("utf-8")
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        loaded.add(file, "", _toml_problem(exc, text))
    except UnicodeDecodeError:
        loaded.add(file, "", "is not UTF-8 text")
    except OSError as exc:
        loaded.add(file, "", f"cannot be read: {exc.strerror}")
    loaded.unreadable = True
    return None


def config_files(loaded: Loaded, path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.glob(f"*{CONFIG_SUFFIX}") if p.is_file())
        if not files:
            loaded.add(path, "", f"this folder has no {CONFIG_SUFFIX} files")
        return files
    if not path.exists():
        loaded.add(path, "", "does not exist")
        return []
    return [path]
