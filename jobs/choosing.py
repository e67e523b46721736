"""The learning loop's choice: Thompson sampling on a Beta posterior per question (pure).

Each question's chance of being answered by this client is a Beta posterior: the firm's
answers to it are the prior (scaled down to at most PRIOR_WEIGHT emails, so a new client
starts from what works across the firm and their own answers soon outweigh it), and the
client's own emails update it. One draw per question, seeded by the email's seed and the
question's id, ranks questions *within* the depth rules of jobs.questions (light first,
never the last email's questions): the loop prefers, it never overrides the coaching model.
A question no one has been asked is drawn from the uniform Beta(1, 1), so nothing starves.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# The firm's counts weigh at most as much as this many of the client's own emails.
PRIOR_WEIGHT = 10.0
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


def posterior(client: Counts, firm: Counts, question_id: str) -> tuple[float, float]:
    """Beta(alpha, beta) for the question: uniform, plus the scaled firm prior, plus the
    client's own answers and silences."""
    firm_asked, firm_answered = firm.of(question_id)
    scale = min(1.0, PRIOR_WEIGHT / firm_asked) if firm_asked else 0.0
    asked, answered = client.of(question_id)
    alpha = 1.0 + firm_answered * scale + answered
    beta = 1.0 + (firm_asked - firm_answered) * scale + (asked - answered)
    return alpha, beta


def sampled_scores(
    question_ids: Iterable[str], client: Counts, firm: Counts, seed: str
) -> dict[str, float]:
    """One Thompson draw per question; the same seed gives the same draws (a rerun chooses
    the same), and each question's draw depends on its id only, not on the bank's order."""
    scores = {}
    for question_id in question_ids:
        digest = hashlib.sha256(f"{seed}\x00learn\x00{question_id}".encode()).digest()
        draw = random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 (not for secrets)
        scores[question_id] = draw.betavariate(*posterior(client, firm, question_id))
    return scores
