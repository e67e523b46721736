"""Which questions, reasons, hours and weekdays a client answers: statistics over the learning
loop's records (jobs.learning), pure, with the sample size beside every rate."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any

from jobs.learning import ANSWER, DONE, NOT_AN_ANSWER, SEND

DAY_S = 24 * 3600
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# A reply later than this is still kept, but it does not count as an answer to that email.
DEFAULT_WITHIN_DAYS = 7


@dataclass(frozen=True, slots=True)
class Email:
    """One email sent, joined with what followed it."""

    client_id: str
    coach_id: str
    commitment_id: str
    at: int
    hour: int
    weekday: int
    kind: str
    questions: tuple[tuple[str, str, int], ...]  # (id, reason, depth)
    intent: str | None = None  # of the first reply, if it came within the window
    hours_to_answer: float | None = None
    days_to_completion: float | None = None


def emails_of(
    client_id: str, raw: Iterable[str | bytes], *, within_days: int = DEFAULT_WITHIN_DAYS
) -> list[Email]:
    """A client's records (any order) as emails, oldest first; unreadable records are skipped
    (an older or newer coachd may have written them)."""
    sends: list[dict[str, Any]] = []
    answers: dict[str, Any] = {}
    completed: dict[str, int] = {}
    for item in raw:
        try:
            record = json.loads(item)
            kind = record["t"]
        except (ValueError, KeyError, TypeError):
            continue
        if kind == SEND:
            sends.append(record)
        elif kind == ANSWER and _answers(record, within_days):
            earlier = answers.get(record["id"])  # the first reply is the answer
            if earlier is None or record["at"] < earlier["at"]:
                answers[record["id"]] = record
        elif kind == DONE:
            completed[record["c"]] = min(record["at"], completed.get(record["c"], record["at"]))
    return sorted((_email(client_id, s, answers, completed) for s in sends), key=lambda e: e.at)


def _answers(record: dict[str, Any], within_days: int) -> bool:
    """A reply within the window that is an answer (not a request to stop)."""
    return record.get("hr", 1e9) <= within_days * 24 and record.get("i") not in NOT_AN_ANSWER


def _email(
    client_id: str, send: dict[str, Any], answers: dict[str, Any], completed: dict[str, int]
) -> Email:
    commitment_id = send["id"].rpartition(":")[0]
    answer = answers.get(send["id"])
    done_at = completed.get(commitment_id)
    return Email(
        client_id=client_id,
        coach_id=send.get("co", ""),
        commitment_id=commitment_id,
        at=send["at"],
        hour=send.get("h", 0),
        weekday=send.get("w", 0),
        kind=send.get("k", ""),
        questions=tuple((q[0], q[1], q[2]) for q in send.get("q", [])),
        intent=answer["i"] if answer else None,
        hours_to_answer=answer["hr"] if answer else None,
        days_to_completion=round((done_at - send["at"]) / DAY_S, 1)
        if done_at is not None and done_at >= send["at"]
        else None,
    )


@dataclass(frozen=True, slots=True)
class Tally:
    """How often emails in one group were answered, with its sample size `sent`."""

    key: str
    sent: int
    answered: int
    median_hours: float | None

    @property
    def rate(self) -> float:
        return self.answered / self.sent if self.sent else 0.0

    def as_json(self) -> dict[str, object]:
        return {"key": self.key, "sent": self.sent, "answered": self.answered,
                "rate": round(self.rate, 3), "median_hours": self.median_hours}  # fmt: skip


def tally_by(emails: Iterable[Email], keys_of: Callable[[Email], Iterable[str]]) -> list[Tally]:
    """One tally per key (an email with two questions counts for both), largest sample first."""
    groups: dict[str, list[Email]] = defaultdict(list)
    for email in emails:
        for key in keys_of(email):
            groups[key].append(email)
    tallies = [_tally(key, group) for key, group in groups.items()]
    return sorted(tallies, key=lambda t: (-t.sent, t.key))


def _tally(key: str, emails: Sequence[Email]) -> Tally:
    hours = [e.hours_to_answer for e in emails if e.hours_to_answer is not None]
    return Tally(key, len(emails), len(hours), round(median(hours), 1) if hours else None)


@dataclass(frozen=True, slots=True)
class Insights:
    """The statistics of one set of emails (a client, a coach's clients, the firm)."""

    overall: Tally
    by_question: list[Tally]
    by_reason: list[Tally]
    by_hour: list[Tally]
    by_weekday: list[Tally]
    by_kind: list[Tally]
    by_client: list[Tally]
    median_days_to_completion: float | None

    def as_json(self) -> dict[str, object]:
        groups = ("by_question", "by_reason", "by_hour", "by_weekday", "by_kind", "by_client")
        return {
            "overall": self.overall.as_json(),
            **{name: [t.as_json() for t in getattr(self, name)] for name in groups},
            "median_days_to_completion": self.median_days_to_completion,
        }


def insights(emails: Sequence[Email]) -> Insights:
    # Hours and weekdays in calendar order (a chart reads left to right), the rest by sample.
    by_hour = sorted(tally_by(emails, lambda e: [f"{e.hour:02d}:00"]), key=lambda t: t.key)
    by_weekday = sorted(
        tally_by(emails, lambda e: [WEEKDAYS[e.weekday % 7]]), key=lambda t: WEEKDAYS.index(t.key)
    )
    # Days to completion once per commitment: from its first email.
    first: dict[str, Email] = {}
    for email in emails:
        first.setdefault(f"{email.client_id}\0{email.commitment_id}", email)
    days = [e.days_to_completion for e in first.values() if e.days_to_completion is not None]
    return Insights(
        overall=_tally("all", emails),
        by_question=tally_by(emails, lambda e: [q for q, _, _ in e.questions]),
        by_reason=tally_by(emails, lambda e: sorted({r for _, r, _ in e.questions if r})),
        by_hour=by_hour,
        by_weekday=by_weekday,
        by_kind=tally_by(emails, lambda e: [e.kind]),
        by_client=tally_by(emails, lambda e: [e.client_id]),
        median_days_to_completion=round(median(days), 1) if days else None,
    )


def select(
    by_client: Mapping[str, Sequence[Email]], *, coach: str | None, client: str | None
) -> list[Email]:
    """The emails of one client and/or one coach's clients (None: no filter)."""
    return [
        e
        for client_id, emails in by_client.items()
        if client is None or client_id == client
        for e in emails
        if coach is None or e.coach_id == coach
    ]


# The weekly digest's lines: a rate needs this many emails behind it to be named the best.
DIGEST_MIN_SAMPLE = 3


def digest_lines(emails: Sequence[Email]) -> list[str]:
    """Three lines for the coach's weekly digest: how many emails were answered, the reason
    and the send hour answered most (among groups of at least DIGEST_MIN_SAMPLE emails), each
    with its sample. No emails, no lines; a group too small to say, no line for it."""
    if not emails:
        return []
    found = insights(emails)
    lines = [f"Your clients answered {_share(found.overall)} of coachd's emails this past week."]
    for label, tallies in (("question reason", found.by_reason), ("send hour", found.by_hour)):
        best = _best(tallies)
        if best is not None:
            lines.append(f"Most answered {label}: {best.key}, {_share(best)}.")
    return lines


def _best(tallies: Sequence[Tally]) -> Tally | None:
    sized = [t for t in tallies if t.sent >= DIGEST_MIN_SAMPLE and t.answered]
    return max(sized, key=lambda t: (t.rate, t.sent, t.key)) if sized else None


def _share(tally: Tally) -> str:
    return f"{tally.answered} of {tally.sent} ({tally.rate:.0%})"
