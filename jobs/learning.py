"""What the learning loop remembers of each email and of what followed it (pure).

Three kinds of record, kept newest first in a capped list per client
(daemon.store.learning): a *send* (which questions, their reason and depth, the hour and
weekday in the client's zone, the step and its template), an *answer* (the first reply
after an email: its intent and the hours it took) and a *completion* (of a commitment).
Records are short JSON objects so that a client's list stays small; the statistics
(jobs.insights) join answers and completions to their sends.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from jobs.questions import QuestionBank
from jobs.state import Client, Commitment
from jobs.step import PlannedStep, StepKind

SEND, ANSWER, DONE = "s", "a", "d"
# The client's `last_sent` field: "<send id>|<epoch s>|<question ids, comma-separated>", and
# "|<local hour>" after it for an email whose answer teaches the send hour.
_SEP = "|"
_PARTS, _PARTS_WITH_HOUR = 3, 4
# The emails whose send hour the loop learns (jobs.choosing.sampled_hour): the overdue prompts,
# the only emails planned at an hour of coachd's choosing that ask for an answer. A
# confirmation goes the minute the client wrote: its answers would teach their writing hours.
HOUR_KINDS = frozenset({StepKind.OVERDUE})
HOUR_S = 3600
# A reply with this intent is recorded, but it is no answer to the email's questions: the
# loop must not learn to prefer the questions after which clients ask to stop.
NOT_AN_ANSWER = frozenset({"stop"})
# Emails the client gets; the "gone quiet" email, notices and digests go to the coach.
CLIENT_KINDS = frozenset(StepKind) - {StepKind.COACH_QUIET, StepKind.COACH_NOTICE, StepKind.DIGEST}


@dataclass(frozen=True, slots=True)
class LastSent:
    """The client's last email, as their record remembers it until a reply answers it."""

    send_id: str
    at: int  # epoch seconds
    question_ids: tuple[str, ...]
    hour: int | None = None  # in the client's zone, for an email of HOUR_KINDS

    def encode(self) -> str:
        parts = [self.send_id, str(self.at), ",".join(self.question_ids)]
        return _SEP.join(parts if self.hour is None else [*parts, str(self.hour)])

    @classmethod
    def decode(cls, text: str) -> LastSent | None:
        parts = text.split(_SEP)
        if len(parts) not in (_PARTS, _PARTS_WITH_HOUR) or not parts[1].isdigit():
            return None  # absent, or not ours: nothing to mark
        hour = parts[3] if len(parts) == _PARTS_WITH_HOUR else ""
        questions = tuple(q for q in parts[2].split(",") if q)
        return cls(parts[0], int(parts[1]), questions, int(hour) if hour.isdigit() else None)


def send_id(commitment: Commitment) -> str:
    """An email's id: its commitment and its number in the thread (before it is counted)."""
    return f"{commitment.commitment_id}:{commitment.sent_count}"


def send_record(
    commitment: Commitment,
    client: Client,
    step: PlannedStep,
    *,
    question_ids: Iterable[str],
    bank: QuestionBank | None,
    now: datetime,
) -> tuple[str, LastSent] | None:
    """The JSON record of one email sent now, and what the client's record keeps of it;
    None for an email to the coach."""
    if step.kind not in CLIENT_KINDS:
        return None
    by_id = {q.id: q for q in bank.questions} if bank else {}
    asked = [q for q in question_ids if q]
    local = now.astimezone(client.zone)
    at = int(now.timestamp())
    record = {
        "t": SEND,
        "id": send_id(commitment),
        "co": commitment.coach_id,
        "at": at,
        "h": local.hour,
        "w": local.weekday(),  # Monday is 0
        "k": step.kind.value,  # the template folder
        "st": step.name,
        # A question the bank no longer has keeps its id, with no reason or depth.
        "q": [[q, by_id[q].reason, by_id[q].depth] if q in by_id else [q, "", 0] for q in asked],
    }
    hour = local.hour if step.kind in HOUR_KINDS else None
    return _dumps(record), LastSent(send_id(commitment), at, tuple(asked), hour)


def answer_record(last: LastSent, intent: str, now: datetime) -> str:
    """The first reply after the email `last`: its intent, and how many hours it took."""
    hours = max(0.0, (now.timestamp() - last.at) / HOUR_S)
    return _dumps({"t": ANSWER, "id": last.send_id, "at": int(now.timestamp()), "i": intent,
                   "hr": round(hours, 1)})  # fmt: skip


def completion_record(commitment_id: str, now: datetime) -> str:
    return _dumps({"t": DONE, "c": commitment_id, "at": int(now.timestamp())})


def _dumps(record: dict[str, object]) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)
