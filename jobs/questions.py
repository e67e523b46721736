"""Discovery questions: the default bank built on COACHING.md's five reasons, and choosing them."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# The five reasons an action stays undone (COACHING.md), plus partnering questions
# that ask whether and how to talk about the action at all.
Reason = Literal["partnering", "why", "resources", "self_trust", "risk", "story"]
MAX_DEPTH = 3


class Question(BaseModel):
    """One open discovery question; deeper questions are asked the longer an action is overdue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$")
    reason: Reason
    depth: int = Field(ge=1, le=MAX_DEPTH)
    text: str = Field(min_length=5, max_length=400)


class QuestionBank(BaseModel):
    """A named set of questions from a coach file's `[question_banks.NAME]` table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    questions: tuple[Question, ...] = Field(min_length=2)

    @field_validator("questions")
    @classmethod
    def _unique_ids(cls, questions: tuple[Question, ...]) -> tuple[Question, ...]:
        ids = [q.id for q in questions]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"question ids must be unique; repeated: {', '.join(duplicates)}")
        return questions


# How long an action has been overdue decides how deep the questions go: light
# partnering and "why" questions first, self-trust, risk and old stories later.
DEPTH_2_FROM_OVERDUE_DAYS = 4
DEPTH_3_FROM_OVERDUE_DAYS = 10
MAX_QUESTIONS_PER_PROMPT = 2
# A client's first email about an action asks only light questions, however overdue.
FIRST_CONTACT_DEPTH = 1


def _q(id_: str, reason: Reason, depth: int, text: str) -> Question:
    return Question(id=id_, reason=reason, depth=depth, text=text)


DEFAULT_BANK = QuestionBank(
    questions=(
        # Depth 1: light, partnering; is this the time, and what does the step give you?
        _q(
            "partnering-now",
            "partnering",
            1,
            "Is now a good time to look at this step, or would another moment suit you better?",
        ),
        _q(
            "partnering-way",
            "partnering",
            1,
            "What way of approaching this step would feel most like you?",
        ),
        _q(
            "why-gives",
            "why",
            1,
            "What would taking this step give you?",
        ),
        _q(
            "why-goal",
            "why",
            1,
            "How does this step connect with what you want most right now?",
        ),
        _q(
            "resources-easier",
            "resources",
            1,
            "What would make this step a little easier for you?",
        ),
        _q(
            "self-trust-smallest",
            "self_trust",
            1,
            "If you took only the smallest first piece of this, what would it be?",
        ),
        _q(
            "story-noticing",
            "story",
            1,
            "What comes to mind when you think about this step?",
        ),
        # Depth 2: resources, the why revisited, first looks at trust and risk.
        _q(
            "why-still",
            "why",
            2,
            "When you chose this step, what made it matter to you? Does that still feel true?",
        ),
        _q(
            "resources-help",
            "resources",
            2,
            "Who could help with this, or do it alongside you?",
        ),
        _q(
            "resources-missing",
            "resources",
            2,
            "Is there anything you need for this step (time, information, a skill, support) "
            "that you don't have yet?",
        ),
        _q(
            "self-trust-before",
            "self_trust",
            2,
            "What have you already done that is a bit like this step, and what does that tell"
            " you about what you can do?",
        ),
        _q(
            "risk-uneasy",
            "risk",
            2,
            "Is there anything about taking this step that feels uneasy or risky to you?",
        ),
        _q(
            "partnering-shape",
            "partnering",
            2,
            "Would a different shape for this step help you: smaller, different, or another time?",
        ),
        _q(
            "story-tell",
            "story",
            2,
            "What do you find yourself thinking when this step comes up?",
        ),
        # Depth 3: self-trust, risk and the old stories that can hold a step back.
        _q(
            "self-trust-friend",
            "self_trust",
            3,
            "If a friend you believe in had this step in front of them, what would you tell them?",
        ),
        _q(
            "self-trust-proof",
            "self_trust",
            3,
            "What would you need to see in yourself to trust that you can do this?",
        ),
        _q(
            "risk-safe-enough",
            "risk",
            3,
            "What would make taking this step feel safe enough for you?",
        ),
        _q(
            "risk-next",
            "risk",
            3,
            "If you took this step and it went differently than you hope, what would you do next?",
        ),
        _q(
            "story-true",
            "story",
            3,
            "What story do you tell yourself about steps like this one? Is that story still "
            "true for you today?",
        ),
        _q(
            "story-origin",
            "story",
            3,
            "Where did the idea that this is hard for you come from, and is it still yours to"
            " keep?",
        ),
        _q(
            "partnering-right-step",
            "partnering",
            3,
            "Is this still the right step for you, or has something changed that would be "
            "worth talking about?",
        ),
        _q(
            "why-learning",
            "why",
            3,
            "Whatever happens with this step, what could it teach you about yourself?",
        ),
    )
)


def target_depth(overdue_days: int) -> int:
    """The question depth for an action this many days overdue (1 to MAX_DEPTH)."""
    if overdue_days >= DEPTH_3_FROM_OVERDUE_DAYS:
        return 3
    if overdue_days >= DEPTH_2_FROM_OVERDUE_DAYS:
        return 2
    return 1


def _seeded_rank(
    seed: str, question: Question, scores: Mapping[str, float] | None = None
) -> tuple[float, bytes]:
    # Hashing seed and id (not the bank's order) keeps a retried job's choice stable
    # and spreads choices evenly across commitments. With the learning loop's `scores`
    # (jobs.choosing), the likelier answer comes first; the hash breaks ties.
    learned = -scores.get(question.id, 0.0) if scores else 0.0
    return learned, hashlib.sha256(f"{seed}\x00{question.id}".encode()).digest()


def asked_before(last_question: str | None) -> frozenset[str]:
    """The ids the client's last email asked, from their `last_question` field.

    The field holds every id of that email, space-separated (ids have no spaces); a
    record written before emails remembered more than one holds a single id.
    """
    return frozenset((last_question or "").split())


def remember_questions(questions: tuple[Question, ...]) -> str:
    """What to keep as `last_question` after an email asked `questions`."""
    return " ".join(q.id for q in questions)


def choose_questions(
    bank: QuestionBank,
    overdue_days: int,
    previous_id: str | None,
    count: int,
    seed: str,
    *,
    first_contact: bool = False,
    scores: Mapping[str, float] | None = None,
) -> tuple[Question, ...]:
    """Pick `count` (1 or 2) questions for an overdue prompt, deterministically from `seed`.

    Questions at the depth nearest to `target_depth(overdue_days)` come first (the
    shallower on a tie); among those the seed decides. No question of `previous_id`
    (the last email's ids, see `asked_before`) is asked again: a bank with too little
    else to ask yields one question instead of two. A second question comes from a
    different reason where its depth allows.

    `first_contact` (the client's first email about this action, say one created with a
    due date long past): light questions only, a partnering one first. A first email that
    opens with "what story do you tell yourself" would damage rapport (COACHING.md).

    `scores` (the learning loop's draws, jobs.choosing) order questions within each depth
    in place of the seed alone; the depth rules above stay as they are.
    """
    if not 1 <= count <= MAX_QUESTIONS_PER_PROMPT:
        raise ValueError(f"count must be 1..{MAX_QUESTIONS_PER_PROMPT}, got {count}")
    depth = FIRST_CONTACT_DEPTH if first_contact else target_depth(overdue_days)
    fresh = _not_asked(bank, previous_id)

    # Each question's rank is computed once: every reminder sorts the whole bank.
    ranked = sorted(
        ((abs(q.depth - depth), q.depth, _seeded_rank(seed, q, scores)), q) for q in fresh
    )
    if first_contact:  # a partnering question of the nearest depth opens the first email
        ranked.sort(key=lambda item: (item[0][0], item[1].reason != "partnering"))
    first = ranked[0][1]
    if count == 1 or len(ranked) == 1:
        return (first,)
    _, second = min(
        ((distance, q_depth, q.reason == first.reason, seeded), q)
        for (distance, q_depth, seeded), q in ranked[1:]
    )
    return first, second


def _not_asked(bank: QuestionBank, previous_id: str | None) -> tuple[Question, ...]:
    """The bank without the last email's questions. Coach-file checks size every bank so
    two prompts in a row never repeat; a bank the last email emptied is asked again whole,
    as a question repeated beats an email with none."""
    asked = asked_before(previous_id)
    return tuple(q for q in bank.questions if q.id not in asked) or bank.questions


def choose_help_question(bank: QuestionBank, previous_id: str | None, seed: str) -> Question:
    """One "what would help" (resources) question, for a client who said they are blocked."""
    fresh = _not_asked(bank, previous_id)
    helpful = [q for q in fresh if q.reason == "resources"]
    candidates = helpful or list(fresh)
    return min(candidates, key=lambda q: (q.depth, _seeded_rank(seed, q)))
