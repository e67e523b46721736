"""The learning loop's choice: Thompson sampling on a Beta posterior per question, and per
send hour (pure).

Each question's chance of being answered by this client is a Beta posterior: the firm's
answers to it are the prior (scaled down to at most PRIOR_WEIGHT emails, so a new client
starts from what works across the firm and their own answers soon outweigh it), the
client's answers to the other questions of the same reason add to it (at most REASON_WEIGHT
emails' worth: a client who answers "why" questions will likely answer the next one), and the
client's own emails to that question update it. One draw per question, seeded by the
email's seed and the question's id, ranks questions *within* the depth rules of
jobs.questions (light first, never the last email's questions): the loop prefers, it never
overrides the coaching model.
A question no one has been asked is drawn from the uniform Beta(1, 1), so nothing starves.

The send hour of an overdue prompt is chosen the same way (`sampled_hour`), one draw per hour
still open in the send window: the planner's window is the limit, the loop only prefers.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from jobs.questions import Question

# The firm's counts weigh at most as much as this many of the client's own emails.
PRIOR_WEIGHT = 10.0
# The client's answers to a question's reason weigh at most as much as this many emails.
REASON_WEIGHT = 5.0
ASKED, ANSWERED = "s:", "a:"


@dataclass(frozen=True, slots=True)
class Counts:
    """Per question id: how often it was asked, and answered."""

    asked: Mapping[str, int]
    answered: Mapping[str, int]

    @classmethod
    def from_hash(cls, raw: Mapping[str, str]) -> Counts:
        """From a `coachd:learnq…` hash ({`s:<id>`: n, `a:<id>`: n}); bad values count 0."""

        def pick(prefix: str) -> dict[str, int]:
            return {k.removeprefix(prefix): _int(v) for k, v in raw.items() if k.startswith(prefix)}

        return cls(pick(ASKED), pick(ANSWERED))

    def of(self, question_id: str) -> tuple[int, int]:
        asked = max(0, self.asked.get(question_id, 0))
        return asked, min(asked, max(0, self.answered.get(question_id, 0)))


def _int(value: str) -> int:
    return int(value) if value.lstrip("-").isdigit() else 0


def posterior(
    client: Counts, firm: Counts, question_id: str, kin: Iterable[str] = ()
) -> tuple[float, float]:
    """Beta(alpha, beta) for the question: uniform, plus the scaled firm prior, plus the
    client's answers to its `kin` (the other questions of its reason, scaled down to at most
    REASON_WEIGHT emails: a client who answers "why" questions likes the next one too), plus
    the client's own answers and silences to it."""
    alpha, beta = 1.0, 1.0
    for asked, answered, weight in (
        (*firm.of(question_id), PRIOR_WEIGHT),
        (*_pooled(client, kin), REASON_WEIGHT),
        (*client.of(question_id), None),
    ):
        scale = 1.0 if weight is None or asked <= weight else weight / asked
        alpha += answered * scale
        beta += (asked - answered) * scale
    return alpha, beta


def _pooled(counts: Counts, question_ids: Iterable[str]) -> tuple[int, int]:
    pairs = [counts.of(q) for q in question_ids]
    return sum(s for s, _ in pairs), sum(a for _, a in pairs)


def sampled_scores(
    questions: Iterable[Question], client: Counts, firm: Counts, seed: str
) -> dict[str, float]:
    """One Thompson draw per question; the same seed gives the same draws (a rerun chooses
    the same), and each question's draw depends on its id only, not on the bank's order."""
    questions = list(questions)
    scores = {}
    for question in questions:
        kin = [q.id for q in questions if q.reason == question.reason and q.id != question.id]
        digest = hashlib.sha256(f"{seed}\x00learn\x00{question.id}".encode()).digest()
        draw = random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 (not for secrets)
        scores[question.id] = draw.betavariate(*posterior(client, firm, question.id, kin))
    return scores


def sampled_hour(hours: Iterable[int], client: Counts, firm: Counts, seed: str) -> int | None:
    """The send hour for an overdue prompt: one Thompson draw per hour of `hours` (the local
    hours still open in the send window, jobs.planner.open_hours), from a Beta posterior of
    this client answering a prompt sent at that hour (the firm's answers by hour as the prior,
    the client's answers at the neighbouring hours as `kin`: someone who answers at 9 will
    likely answer at 10); the best draw wins, the earlier hour on a tie. Each hour's draw
    depends on the seed and the hour only: a later firing with fewer hours open picks the
    same hour while it is open. None when no hour is open."""
    scores = {}
    for hour in hours:
        digest = hashlib.sha256(f"{seed}\x00hour\x00{hour}".encode()).digest()
        draw = random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 (not for secrets)
        kin = (str(hour - 1), str(hour + 1))
        scores[hour] = draw.betavariate(*posterior(client, firm, str(hour), kin))
    return max(scores, key=lambda hour: (scores[hour], -hour), default=None)
