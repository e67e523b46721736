"""The learned reader: fitted deterministically, stored compactly, explained by its words."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.reading import learned
from jobs.reading.learned import (
    INTENTS,
    LearnedModel,
    Sample,
    features,
    load_model,
    train,
)
from jobs.reading.reply import read_reply


def sample(text: str, intent: str, rule: str = "note") -> Sample:
    return Sample(features(text, "en", ["post the forms"], rule), intent)


CORPUS = [
    sample("posted them yesterday", "done"),
    sample("posted it this morning", "done"),
    sample("all posted now", "done"),
    sample("waiting on the bank still", "blocked"),
    sample("still waiting on my landlord", "blocked"),
    sample("nothing new this week", "note"),
    sample("a busy week, nothing new", "note"),
]


def test_features_are_lemmas_pairs_the_action_s_words_and_the_rules_verdict() -> None:
    found = features("Posted the forms!", "en", ["post the forms"], "note")

    assert {"post", "form", "post_the", "!", "__action_word", "__rule_note"} <= found


def test_a_word_seen_with_an_intent_pulls_an_unseen_reply_towards_it() -> None:
    model = train(CORPUS)

    posterior = model.posterior(features("I posted everything", "en", [], "note"))

    assert max(posterior, key=lambda i: posterior[i]) == "done"
    assert abs(sum(posterior.values()) - 1.0) < 1e-9
    assert "post" in model.strongest(features("I posted everything", "en", [], "note"), "done")


def test_training_is_deterministic_under_its_seed_and_survives_storing() -> None:
    first, second = train(CORPUS, seed=3), train(CORPUS, seed=3)
    reply = features("still waiting on the bank", "en", [], "note")

    assert first.posterior(reply) == second.posterior(reply)
    stored = LearnedModel.from_json(first.to_json())
    for intent, probability in first.posterior(reply).items():
        assert abs(stored.posterior(reply)[intent] - probability) < 0.01


def test_the_shipped_weights_load_and_cover_every_intent() -> None:
    model = load_model()

    assert model is not None
    assert len(model.rows) > 1000
    assert all(len(row) == len(INTENTS) for row in model.rows.values())
    for intent in INTENTS:  # every intent has words that point to it
        assert any(row[INTENTS.index(intent)] > 0 for row in model.rows.values())


def test_a_damaged_weights_file_leaves_the_rules_to_read_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    damaged = tmp_path / "intent_weights.json"
    damaged.write_text('{"intents": ["done"], "weights"', encoding="utf-8")
    monkeypatch.setattr(learned, "WEIGHTS_FILE", damaged)
    load_model.cache_clear()
    try:
        assert load_model() is None
        reading = read_reply(b"From: ana@example.org\r\nSubject: Re: step\r\n\r\ndone!\r\n")
        assert reading.intent == "done"  # the rules' reading, not an unreadable message
    finally:
        load_model.cache_clear()
