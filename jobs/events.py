"""Commitment events: the versioned JSON contract producers write to coachd's inbox."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from jobs.clientcadence import CadenceRequest
from jobs.eventbase import EventBase, Identifier, Slug
from jobs.pastdue import MAX_PAST_DUE_DAYS, check_past_due
from jobs.reasons import describe_validation_error, echo, one_line
from jobs.sessionevents import SessionCancelled, SessionScheduled

__all__ = ["Identifier", "Slug"]  # defined in jobs.eventbase; callers import them from here

SCHEMA_VERSION = 1
MAX_ACTION_CHARS = 500
MAX_NAME_CHARS = 200
MAX_GREETING_CHARS = 100
MAX_EMAIL_CHARS = 254
MAX_OTHER_EMAILS = 10  # a client's further addresses: a few, never a list to mail
# The whole event, as bytes: an event is a few hundred bytes, so this only stops abuse.
MAX_EVENT_BYTES = 256 * 1024
MAX_ZONE_CHARS = 64  # the longest IANA name is about 30 characters

# Deliberately strict: one @, no spaces, quotes, brackets, commas or line breaks.
EmailAddress = Annotated[
    str,
    Field(
        max_length=MAX_EMAIL_CHARS,
        pattern=r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$",
    ),
]
# Characters a producer's text may not carry into email bodies and the coach's digest: C0
# and C1 controls but tab (line breaks would forge lines, escapes would drive terminals) and
# bidi embeddings, overrides and isolates (they make text read other than it is). Unicode's
# line and paragraph separators are line breaks too.
_TAB = "\t"
_BIDI_CONTROLS = frozenset(map(chr, (*range(0x202A, 0x202F), *range(0x2066, 0x206A))))
_C0_C1_CONTROLS = frozenset(map(chr, (*range(0x00, 0x20), *range(0x7F, 0xA0)))) - {_TAB}
_FORBIDDEN_IN_TEXT = _BIDI_CONTROLS | _C0_C1_CONTROLS | {"\u2028", "\u2029"}


def _check_plain_text(value: str) -> str:
    """`value` unchanged, or ValueError naming the first control or bidi character in it."""
    if value.isprintable() and value.isascii():  # the common case, in C
        return value
    for char in value:
        if char in _FORBIDDEN_IN_TEXT:
            kind = "a bidi control" if char in _BIDI_CONTROLS else "a control character"
            raise ValueError(
                f"contains {kind} (U+{ord(char):04X}); line breaks, controls other than tab"
                " and bidi overrides are not allowed"
            )
    return value


PlainText = AfterValidator(_check_plain_text)
ActionText = Annotated[str, Field(min_length=1, max_length=MAX_ACTION_CHARS), PlainText]
NameText = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS), PlainText]
WhyText = Annotated[str, Field(max_length=MAX_ACTION_CHARS), PlainText]
# How emails greet the client ("Hi Ana,"); empty: the first word of their name.
GreetingText = Annotated[str, Field(max_length=MAX_GREETING_CHARS), PlainText]
_GREETING_NAME = Field(
    default=None,
    description='How emails greet the client, e.g. "Ana" or "Dr. Ruiz"; omitted: unchanged'
    " (at first, the first word of name); empty: back to the first word of name.",
)


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    # OSError: a name that is a tzdata directory ("America") or too long for a file name.
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"{echo(value)} is not a known IANA time zone") from exc
    return value


ZoneName = Annotated[str, Field(max_length=MAX_ZONE_CHARS), AfterValidator(_check_zone)]
_PAST_DUE_OK = Field(
    default=False,
    description=f"A due date over {MAX_PAST_DUE_DAYS} days in the past is deliberate.",
)


class ClientInfo(BaseModel):
    """The client a commitment belongs to, as the producer knows them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id: Identifier
    name: NameText
    email: EmailAddress
    timezone: ZoneName = Field(description="IANA zone, e.g. Europe/Madrid.")
    greeting_name: GreetingText | None = _GREETING_NAME


class CommitmentCreated(EventBase):
    """A coach and client agreed an action with a due date."""

    type: Literal["commitment.created"]
    commitment_id: Identifier
    coach_id: Slug
    client: ClientInfo
    action: ActionText = Field(description="The client's own words for the action.")
    why: WhyText = ""
    due_date: date = Field(description="Local date in the client's zone.")
    profile: Slug | None = Field(default=None, description="Cadence profile; coach's default.")
    past_due_ok: bool = _PAST_DUE_OK

    @model_validator(mode="after")
    def _due_not_long_past(self) -> CommitmentCreated:
        check_past_due(self.due_date, self.occurred_at, self.past_due_ok, self.client.timezone)
        return self


class CommitmentUpdated(EventBase):
    """The due date or the wording of a commitment changed."""

    type: Literal["commitment.updated"]
    commitment_id: Identifier
    due_date: date | None = None
    action: ActionText | None = None
    why: WhyText | None = None
    past_due_ok: bool = _PAST_DUE_OK

    @model_validator(mode="after")
    def _due_not_long_past(self) -> CommitmentUpdated:
        check_past_due(self.due_date, self.occurred_at, self.past_due_ok)
        return self


class CommitmentCompleted(EventBase):
    """The client did it."""

    type: Literal["commitment.completed"]
    commitment_id: Identifier


class CommitmentCancelled(EventBase):
    """The commitment no longer stands; nothing more is sent for it."""

    type: Literal["commitment.cancelled"]
    commitment_id: Identifier


class ClientUpdated(EventBase):
    """The client's details or consent changed."""

    type: Literal["client.updated"]
    client_id: Identifier
    name: NameText | None = None
    greeting_name: GreetingText | None = _GREETING_NAME
    email: EmailAddress | None = None
    timezone: ZoneName | None = None
    opted_out: bool | None = None
    other_emails: tuple[EmailAddress, ...] | None = Field(
        default=None,
        max_length=MAX_OTHER_EMAILS,
        description="Further addresses the client writes from; replace the earlier ones.",
    )


ReplyKind = Literal["reply", "auto_reply", "bounce"]
Intent = Literal["done", "reschedule", "blocked", "stop", "note", "undo"]
# A bounce says the address is gone (user unknown, domain gone, account disabled), or only
# that this message was refused (policy, spam, full mailbox, size); a complaint (an ARF
# feedback report) means the person does not want these emails.
BounceClass = Literal["gone", "refused", "complaint"]
MAX_REPLY_CHARS = 4000


class ReplyReceived(EventBase):
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
    bounce_class: BounceClass | None = None
    language: Literal["", "en", "de", "fr", "es", "pt"] = Field(
        default="", description="The language the reply is written in, when known."
    )
    confidence: float = Field(
        default=1.0, ge=0.0, le=1.0, description="How sure the reading of the intent is (0-1)."
    )
    from_unknown_address: bool = Field(
        default=False,
        description="From none of the client's addresses: the coach reads it; nothing changes.",
    )
    cadence: CadenceRequest | None = Field(
        default=None, description="When the client asks to hear from coachd (their own words)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> ReplyReceived:
        if (self.kind == "reply") != (self.intent is not None):
            raise ValueError("intent is required for a reply and only for a reply")
        if (self.intent == "reschedule") != (self.new_due is not None):
            raise ValueError("new_due is required for a reschedule and only for one")
        return self


class ClientErased(EventBase):
    """The client asked to be forgotten: everything coachd keeps about them is removed."""

    type: Literal["client.erased"]
    client_id: Identifier


Event = Annotated[
    CommitmentCreated
    | CommitmentUpdated
    | CommitmentCompleted
    | CommitmentCancelled
    | ClientUpdated
    | ClientErased
    | ReplyReceived
    | SessionScheduled
    | SessionCancelled,
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
    """Raised when a raw event cannot be parsed or validated; `reason` says exactly why.

    `keep_event` False: the event is about an erased client, so its dead letter keeps only
    the reason and the inbox entry is deleted (keeping it would undo the erasure).
    """

    def __init__(self, reason: str, *, keep_event: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.keep_event = keep_event


def parse_event(raw: str | bytes) -> Event:
    """Parse one JSON event, raising EventRejected with a precise, single-line reason."""
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > MAX_EVENT_BYTES:
        raise EventRejected(f"event is {size} bytes; the limit is {MAX_EVENT_BYTES}")
    try:
        data: Any = json.loads(raw)
    # ValueError covers JSONDecodeError, UnicodeDecodeError and integers past Python's digit
    # limit; RecursionError, arrays or objects nested thousands deep.
    except (ValueError, RecursionError) as exc:
        raise EventRejected(one_line(f"not valid JSON: {exc}")) from None
    if not isinstance(data, dict):
        raise EventRejected("an event must be a JSON object")
    version = data.get("version")
    # `type(...) is int`: JSON true and 1.0 equal 1 in Python but are not the version number.
    if version is not None and (type(version) is not int or version != SCHEMA_VERSION):
        raise EventRejected(f"unsupported version {echo(version)}; expected {SCHEMA_VERSION}")
    try:
        return _EVENT_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise EventRejected(describe_validation_error(exc)) from None


def event_json_schema() -> dict[str, Any]:
    """The published JSON Schema of every event type (`coachd schema`)."""
    schema = _EVENT_ADAPTER.json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "coachd event"
    return schema
