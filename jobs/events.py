"""Commitment events: the versioned JSON contract producers write to coachd's inbox."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

SCHEMA_VERSION = 1
MAX_ACTION_CHARS = 500
MAX_NAME_CHARS = 200
MAX_EMAIL_CHARS = 254

# Ids travel in Redis keys, job ids and logs: keep them short and free of separators.
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
# Deliberately strict: one @, no spaces, quotes, brackets, commas or line breaks.
EmailAddress = Annotated[
    str,
    Field(
        max_length=MAX_EMAIL_CHARS,
        pattern=r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$",
    ),
]
ActionText = Annotated[str, Field(min_length=1, max_length=MAX_ACTION_CHARS)]
NameText = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)]


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not a known IANA time zone") from exc
    return value


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = Field(description="Schema version of the event format.")
    event_id: Identifier = Field(description="Unique per event; a repeated id is ignored.")
    occurred_at: AwareDatetime = Field(description="When it happened at the producer.")


class ClientInfo(BaseModel):
    """The client a commitment belongs to, as the producer knows them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id: Identifier
    name: NameText
    email: EmailAddress
    timezone: str = Field(description="IANA zone, e.g. Europe/Madrid.")

    _zone = field_validator("timezone")(_check_zone)


class CommitmentCreated(_Event):
    """A coach and client agreed an action with a due date."""

    type: Literal["commitment.created"]
    commitment_id: Identifier
    coach_id: Slug
    client: ClientInfo
    action: ActionText = Field(description="The client's own words for the action.")
    why: str = Field(default="", max_length=MAX_ACTION_CHARS)
    due_date: date = Field(description="Local date in the client's zone.")
    profile: Slug | None = Field(default=None, description="Cadence profile; coach's default.")


class CommitmentUpdated(_Event):
    """The due date or the wording of a commitment changed."""

    type: Literal["commitment.updated"]
    commitment_id: Identifier
    due_date: date | None = None
    action: ActionText | None = None
    why: str | None = Field(default=None, max_length=MAX_ACTION_CHARS)


class CommitmentCompleted(_Event):
    """The client did it."""

    type: Literal["commitment.completed"]
    commitment_id: Identifier


class CommitmentCancelled(_Event):
    """The commitment no longer stands; nothing more is sent for it."""

    type: Literal["commitment.cancelled"]
    commitment_id: Identifier


class ClientUpdated(_Event):
    """The client's details or consent changed."""

    type: Literal["client.updated"]
    client_id: Identifier
    name: NameText | None = None
    email: EmailAddress | None = None
    timezone: str | None = None
    opted_out: bool | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else _check_zone(value)


ReplyKind = Literal["reply", "auto_reply", "bounce"]
Intent = Literal["done", "reschedule", "blocked", "stop", "note"]
MAX_REPLY_CHARS = 4000


class ReplyReceived(_Event):
    """A client's email came back: their words, what coachd read in them, or a bounce."""

    type: Literal["reply.received"]
    commitment_id: Identifier
    kind: ReplyKind
    intent: Intent | None = None
    new_due: date | None = None
    pause_until: date | None = Field(default=None, description="Prompts wait until this day.")
    text: str = Field(default="", max_length=MAX_REPLY_CHARS, description="New words only.")
    source: str = Field(default="", max_length=32, description="imap, smtp, postmark, ...")
    bounce_permanent: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> ReplyReceived:
        if (self.kind == "reply") != (self.intent is not None):
            raise ValueError("intent is required for a reply and only for a reply")
        if (self.intent == "reschedule") != (self.new_due is not None):
            raise ValueError("new_due is required for a reschedule and only for one")
        return self


Event = Annotated[
    CommitmentCreated
    | CommitmentUpdated
    | CommitmentCompleted
    | CommitmentCancelled
    | ClientUpdated
    | ReplyReceived,
    Field(discriminator="type"),
]
CommitmentEvent = (
    CommitmentCreated
    | CommitmentUpdated
    | CommitmentCompleted
    | CommitmentCancelled
    | ReplyReceived
)

_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


class EventRejected(ValueError):
    """Raised when a raw event cannot be parsed or validated; `reason` says exactly why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_event(raw: str | bytes) -> Event:
    """Parse one JSON event, raising EventRejected with a precise, single-line reason."""
    try:
        data: Any = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EventRejected(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise EventRejected("an event must be a JSON object")
    if data.get("version") not in (None, SCHEMA_VERSION):
        raise EventRejected(f"unsupported version {data.get('version')!r}; expected 1")
    try:
        return _EVENT_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise EventRejected(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming each bad field and why, without echoing (possibly huge) input values."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in error["loc"]) or "event"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def event_json_schema() -> dict[str, Any]:
    """The published JSON Schema of every event type (`coachd schema`)."""
    schema = _EVENT_ADAPTER.json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "coachd event"
    return schema
