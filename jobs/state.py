"""The client and commitment records coachd keeps, and their flat string form for storage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Status(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    QUIET = "quiet"  # stopped prompting after unanswered prompts; the coach was told


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    name: str
    email: str
    timezone: str
    opted_out: bool = False
    greeting_name: str = ""  # how emails greet them; empty: the first word of `name`
    # The last email's question ids, space-separated: the next email asks none of them.
    last_question: str = ""
    # The last email, until a reply answers it (jobs.learning.LastSent): the learning loop.
    last_email: str = ""
    updated_at: datetime | None = None
    paused_until: date | None = None  # an out-of-office (or "pause until") return date
    email_failing: bool = False  # a hard bounce: nothing more is sent until the email changes
    refusals: int = 0  # emails refused in a row (policy, full mailbox): the coach hears at 3
    language: str = ""  # of their last reply (en, de, fr, es, pt): confirmations use it
    # The per-client prompt cap's bookkeeping (daemon.outbound.promptcap), carried through rewrites.
    cap_day: str = ""
    cap_steps: str = ""
    ans_day: str = ""  # the same for answers (confirmations, "what would help?")
    ans_steps: str = ""
    notice_day: str = ""  # the client's local day of the coach notices counted in `notices`
    notices: int = 0
    # Sorted ids of the client's commitments: opt-out and zone changes re-plan all of them.
    commitment_ids: tuple[str, ...] = ()
    # Further addresses the client writes from (client.updated): replies from them count too.
    other_emails: tuple[str, ...] = ()
    # Their own cadence, asked for by reply and kept within the profile's limits: the JSON
    # of a jobs.clientcadence.CadenceRequest ("" the coach's cadence as it is).
    cadence: str = ""

    def writes_from(self, address: str | None) -> bool:
        """True when `address` is one of the client's own (compared without case)."""
        known = (self.email, *self.other_emails)
        return address is not None and address.lower() in {a.lower() for a in known}

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def greeting(self) -> str:
        """What emails call the client: their `greeting_name`, else their first name."""
        return self.greeting_name or first_name(self.name)

    def to_record(self) -> dict[str, str]:
        """The stored fields; the id is the key's, and an empty field is not stored."""
        return {
            "name": self.name,
            "greeting_name": self.greeting_name,
            "email": self.email,
            "timezone": self.timezone,
            "opted_out": "1" if self.opted_out else "",
            "last_question": self.last_question,
            "last_email": self.last_email,
            "updated_at": _stamp(self.updated_at),
            "paused_until": self.paused_until.isoformat() if self.paused_until else "",
            "email_failing": "1" if self.email_failing else "",
            "refusals": str(self.refusals) if self.refusals else "",
            "language": self.language,
            "cap_day": self.cap_day,
            "cap_steps": self.cap_steps,
            "ans_day": self.ans_day,
            "ans_steps": self.ans_steps,
            "notice_day": self.notice_day,
            "notices": str(self.notices) if self.notices else "",
            "commitments": " ".join(self.commitment_ids),
            "other_emails": " ".join(self.other_emails),
            "cadence": self.cadence,
        }

    def with_commitment(self, commitment_id: str) -> Client:
        """The client with one more commitment (ids kept sorted and unique)."""
        if commitment_id in self.commitment_ids:
            return self
        return replace(self, commitment_ids=tuple(sorted((*self.commitment_ids, commitment_id))))

    @classmethod
    def from_record(cls, client_id: str, record: Mapping[str, str]) -> Client:
        return cls(
            client_id=client_id,
            name=record["name"],
            email=record["email"],
            timezone=record["timezone"],
            opted_out=record.get("opted_out") == "1",
            greeting_name=record.get("greeting_name", ""),
            last_question=record.get("last_question", ""),
            last_email=record.get("last_email", ""),
            updated_at=_parse_dt(record.get("updated_at", "")),
            paused_until=_parse_date(record.get("paused_until", "")),
            email_failing=record.get("email_failing") == "1",
            refusals=int(record.get("refusals") or 0),
            language=record.get("language", ""),
            cap_day=record.get("cap_day", ""),
            cap_steps=record.get("cap_steps", ""),
            ans_day=record.get("ans_day", ""),
            ans_steps=record.get("ans_steps", ""),
            notice_day=record.get("notice_day", ""),
            notices=int(record.get("notices") or 0),
            commitment_ids=tuple(record.get("commitments", "").split()),
            other_emails=tuple(record.get("other_emails", "").split()),
            cadence=record.get("cadence", ""),
        )


@dataclass(frozen=True, slots=True)
class Commitment:
    """Everything coachd keeps about one commitment; `version` grows with every change."""

    commitment_id: str
    client_id: str
    coach_id: str
    profile: str
    action: str
    why: str
    due_date: date
    thread: str  # opaque per-commitment key used in Message-IDs and reply tokens
    status: Status = Status.ACTIVE
    version: int = 1
    updated_at: datetime | None = None
    plan_gen: int = 1  # grows when the due date moves: a new plan, with steps sent afresh
    last_sent: str = ""
    next_step: str = ""
    next_at: datetime | None = None
    sent_count: int = 0  # emails sent in this thread; numbers the next Message-ID
    unanswered: int = 0
    last_error: str = ""
    completed_at: datetime | None = None
    replies: int = 0
    renegotiations: int = 0  # due date moved by the client's reply ("moved 3 times")
    blocked: bool = False  # the client said something is in the way: prompts pause
    pending_ack: bool = False  # a new date the client asked for is yet to be confirmed
    # The other commitments its last email asked about, in the email's order: a reply that
    # answers each on its own line reaches each (daemon.inbound.intake).
    sent_with: tuple[str, ...] = ()
    # What the last consequential reply changed, so that "undo" can put it back (replyeffect):
    # "done", "stop", "due:<previous due date>" or "pause:<previous pause date, or empty>".
    undo: str = ""
    # What the pending confirmation (pending_ack) confirms: "due" (a new date; also empty, as
    # v0.2 wrote it), "done", "stop", "pause" or "undo".
    ack_for: str = ""
    # The client's implementation intention in their own words (jobs.intention): asked for in
    # the confirmation of a new date when the profile says so (`plan_asked` until the next
    # reply, or the next email), shown in the coach's brief. A new date clears it.
    plan: str = ""
    plan_asked: bool = False

    def to_record(self) -> dict[str, str]:
        """The stored fields; the id is the key's, and an empty field (or a counter at its
        starting value) is not stored: a million commitments make every field count."""
        return {
            "client_id": self.client_id,
            "coach_id": self.coach_id,
            "profile": self.profile,
            "action": self.action,
            "why": self.why,
            "due_date": self.due_date.isoformat(),
            "thread": self.thread,
            "status": self.status.value,
            "version": str(self.version),
            "updated_at": _stamp(self.updated_at),
            "plan_gen": str(self.plan_gen) if self.plan_gen != 1 else "",
            "last_sent": self.last_sent,
            "next_step": self.next_step,
            "next_at": _stamp(self.next_at),
            "sent_count": str(self.sent_count) if self.sent_count else "",
            "unanswered": str(self.unanswered) if self.unanswered else "",
            "last_error": self.last_error,
            "completed_at": _stamp(self.completed_at),
            "replies": str(self.replies) if self.replies else "",
            "renegotiations": str(self.renegotiations) if self.renegotiations else "",
            "blocked": "1" if self.blocked else "",
            "pending_ack": "1" if self.pending_ack else "",
            "sent_with": ",".join(self.sent_with),
            "undo": self.undo,
            "ack_for": self.ack_for,
            "plan": self.plan,
            "plan_asked": "1" if self.plan_asked else "",
        }

    @classmethod
    def from_record(cls, commitment_id: str, r: Mapping[str, str]) -> Commitment:
        return cls(
            commitment_id=commitment_id,
            client_id=r["client_id"],
            coach_id=r["coach_id"],
            profile=r["profile"],
            action=r["action"],
            why=r.get("why", ""),
            due_date=date.fromisoformat(r["due_date"]),
            thread=r["thread"],
            status=Status(r["status"]),
            version=int(r["version"]),
            updated_at=_parse_dt(r.get("updated_at", "")),
            plan_gen=int(r.get("plan_gen") or 1),
            last_sent=r.get("last_sent", ""),
            next_step=r.get("next_step", ""),
            next_at=_parse_dt(r.get("next_at", "")),
            sent_count=int(r.get("sent_count") or 0),
            unanswered=int(r.get("unanswered") or 0),
            last_error=r.get("last_error", ""),
            completed_at=_parse_dt(r.get("completed_at", "")),
            replies=int(r.get("replies") or 0),
            renegotiations=int(r.get("renegotiations") or 0),
            blocked=r.get("blocked") == "1",
            pending_ack=r.get("pending_ack") == "1",
            sent_with=tuple(filter(None, r.get("sent_with", "").split(","))),
            undo=r.get("undo", ""),
            ack_for=r.get("ack_for", ""),
            plan=r.get("plan", ""),
            plan_asked=r.get("plan_asked") == "1",
        )


# Moments are stored as integer microseconds since the epoch: Redis keeps an integer-looking
# hash value as an 8-byte integer where the ISO text took 32 bytes, about 65 bytes a
# commitment with its client. The instant is exact; the offset it was given in is not kept.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


_STAMP_FIELDS = ("updated_at", "next_at", "completed_at")


def first_name(name: str) -> str:
    """The name a greeting uses when the client gave none: "Ana Ruiz" is greeted "Ana",
    "Ruiz, Ana" too. A name that opens with a title or an initial ("Dr. Ana Ruiz", "J. Ruiz")
    is kept whole: "Hi Dr." would be worse than the full name."""
    family, comma, given = name.partition(",")
    words = (given if comma and given.strip() else family).split()
    if not words:
        return name.strip()
    first = words[0]
    if first.endswith(".") or len(first) == 1:
        return " ".join(name.split())
    return first


def readable_record(record: Mapping[str, str]) -> dict[str, str]:
    """A stored client or commitment record with its moments as ISO text, for people."""
    moments = {f: _parse_dt(record[f]) for f in _STAMP_FIELDS if record.get(f)}
    return {**record, **{f: m.isoformat() for f, m in moments.items() if m}}


def _stamp(moment: datetime | None) -> str:
    return str((moment - _EPOCH) // _MICROSECOND) if moment else ""


def _parse_dt(text: str) -> datetime | None:
    if not text:
        return None
    if text.isdigit():
        return _EPOCH + int(text) * _MICROSECOND
    return datetime.fromisoformat(text)  # as v0.1 stored it


def _parse_date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None
