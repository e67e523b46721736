"""A reader that learned from people: logistic regression over the client's words.

The cue rules (jobs.reading.passage) know the wordings someone wrote down; people find others.
This model was fitted on the tune split of the people corpus (tests/jobs/reading/people, by
`python -m bench.trainintent`) and weighs every word, word pair and the rules' own verdict at
once, so wordings near known ones still count. It is a second opinion: jobs.reading.secondopinion
decides when it may overrule the rules, and an overruled reading is never a confident one.

Pure: features and weights in, probabilities out; the weights file is read once per process.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import simplemma

from jobs.events import Intent

WEIGHTS_FILE = Path(__file__).with_name("intent_weights.json")
INTENTS: tuple[Intent, ...] = ("done", "reschedule", "blocked", "stop", "undo", "note")
MAX_LEARNED_CHARS = 4096  # the opening of the client's words says what they want
BIAS = "__bias"
ACTION_WORD = "__action_word"  # a word of the commitment's own action occurs in the reply
RULE_PREFIX = "__rule_"  # what the cue rules read
LEMMA_LANGUAGES = frozenset({"en", "de", "fr", "es", "pt"})
MIN_KEPT_WEIGHT = 0.02  # a feature whose weights are all smaller changes no decision
WEIGHT_SCALE = 1000  # stored as integers in thousandths: a third of the file
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|[?!]", re.UNICODE)


def fold(word: str) -> str:
    """Lower case without accents: "Já", "ja" and "JA" are one word."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _lemmas(text: str, language: str) -> list[str]:
    words = _WORD.findall(text[:MAX_LEARNED_CHARS])
    if language not in LEMMA_LANGUAGES:
        return [fold(w) for w in words]
    return [fold(simplemma.lemmatize(w.lower(), lang=language)) for w in words]


def features(text: str, language: str, actions: Sequence[str], rule_intent: str) -> frozenset[str]:
    """Lemmas, neighbouring lemma pairs, whether the action's words recur, the rules' verdict."""
    lemmas = _lemmas(text, language)
    found = set(lemmas)
    found.update(f"{a}_{b}" for a, b in itertools.pairwise(lemmas))
    action_lemmas = {lemma for action in actions for lemma in _lemmas(action, language)}
    if action_lemmas & found:
        found.add(ACTION_WORD)
    found.add(f"{RULE_PREFIX}{rule_intent}")
    found.add(BIAS)
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Sample:
    """One reply of the corpus: its features and what a careful human read."""

    features: frozenset[str]
    intent: str


@dataclass(frozen=True, slots=True)
class LearnedModel:
    """Weights per feature, one per intent in INTENTS' order, in units of 1/`scale`.

    The stored model keeps its integers (scale 1000) as read, so loading is one JSON parse."""

    rows: dict[str, list[float]]
    scale: float = 1.0

    def posterior(self, found: Iterable[str]) -> dict[str, float]:
        scores = [0.0] * len(INTENTS)
        for feature in sorted(found):  # the same sum whatever the hash seed
            row = self.rows.get(feature)
            if row is not None:
                scores = [score + weight for score, weight in zip(scores, row, strict=True)]
        return _softmax({i: score / self.scale for i, score in zip(INTENTS, scores, strict=True)})

    def strongest(self, found: Iterable[str], intent: str, count: int = 3) -> list[str]:
        """The features that pushed most towards `intent`: the reading's explanation."""
        column = INTENTS.index(intent)
        pushes = [
            (self.rows[f][column], f)
            for f in found
            if f in self.rows and f != BIAS and not f.startswith(RULE_PREFIX)
        ]
        return [f for weight, f in sorted(pushes, reverse=True)[:count] if weight > 0]

    def to_json(self) -> str:
        """{"intents": [...], "weights": {feature: [thousandths per intent]}}, sorted."""
        factor = WEIGHT_SCALE / self.scale
        rows = {
            feature: [round(w * factor) for w in row]
            for feature, row in sorted(self.rows.items())
            if max(map(abs, row)) / self.scale >= MIN_KEPT_WEIGHT
        }
        packed = {"intents": list(INTENTS), "weights": rows}
        return json.dumps(packed, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> LearnedModel:
        raw = json.loads(text)
        if tuple(raw["intents"]) != INTENTS:
            raise ValueError(f"weights for intents {raw['intents']}, not {list(INTENTS)}")
        return cls(raw["weights"], float(WEIGHT_SCALE))


def _softmax(scores: dict[str, float]) -> dict[str, float]:
    top = max(scores.values())
    exps = {intent: math.exp(score - top) for intent, score in scores.items()}
    total = sum(exps.values())
    return {intent: value / total for intent, value in exps.items()}


def train(
    samples: Sequence[Sample],
    *,
    l2: float = 0.02,
    epochs: int = 30,
    rate: float = 0.2,
    seed: int = 0,
) -> LearnedModel:
    """Multinomial logistic regression by stochastic gradient descent, deterministic by seed.

    The L2 penalty matters: on its own tune split the rules are nearly always right, and an
    unpenalised model would learn only to repeat them."""
    rows: dict[str, list[float]] = {}
    order = list(samples)
    shuffle = random.Random(seed)  # noqa: S311 — a training order, not a secret
    for _ in range(epochs):
        shuffle.shuffle(order)
        for sample in order:
            probabilities = LearnedModel(rows).posterior(sample.features)
            gradients = [
                probabilities[intent] - (1.0 if intent == sample.intent else 0.0)
                for intent in INTENTS
            ]
            for feature in sorted(sample.features):  # one order whatever the hash seed
                row = rows.setdefault(feature, [0.0] * len(INTENTS))
                for column, gradient in enumerate(gradients):
                    row[column] -= rate * (gradient + l2 * row[column])
    return LearnedModel(rows)


@cache
def load_model() -> LearnedModel | None:
    """The shipped weights, or None when the file is missing or unreadable (the rules then
    read alone)."""
    try:
        return LearnedModel.from_json(WEIGHTS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):  # missing or damaged: never the rules' loss
        return None
