"""Coach file models: what a coaching firm's TOML may hold, and the merged config they make."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Annotated, Final, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from daemon.errors import CoachdError
from jobs.cadence import CadenceProfile
from jobs.questions import QuestionBank

NAME_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,63}$"
BUILTIN_PROFILE: Final = "standard"
BUILTIN_BANK: Final = "default"
MAX_TEXT_LENGTH: Final = 200
MAX_HOSTNAME_LENGTH: Final = 253
# Key under which model validators find the folder of the file being read.
BASE_DIR_CONTEXT: Final = "base_dir"
MAX_BRIEF_HOURS: Final = 72  # a brief three days ahead is no longer "before the session"

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


class Firm(BaseModel):
    """The firm from the one `[firm]` table: who the mail comes from and where replies go."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Text
    from_address: EmailAddress
    reply_domain: Hostname
    templates_dir: TemplatesDir = None
    unsubscribe_url: HttpsUrl | None = None
    # At most this many prompts (reminders and overdue questions) per client per local day,
    # across all their commitments; the rest wait for the next day.
    max_prompts_per_client_per_day: int = Field(default=1, ge=1, le=20)


class Coach(BaseModel):
    """One coach from a `[coaches.ID]` table: contact, home time zone, default cadence, tone."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Text
    email: EmailAddress
    timezone: str
    profile: str = BUILTIN_PROFILE
    templates_dir: TemplatesDir = None
    # The daily digest (replies, overdue, quiet, completed) comes at this local time.
    digest_at: time = time(17, 0)
    digest: bool = True
    # The pre-session brief comes this many hours before a session (jobs.briefmoment).
    brief_hours_before: int = Field(default=2, ge=1, le=MAX_BRIEF_HOURS)
    brief: bool = True

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
    # Valid but will not work as it is (daemon.config.placeholders): check-config shows them.
    warnings: tuple[ConfigProblem, ...] = ()

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
