"""When the learned reader overrules the rules: only when sure, only as an unsure reading."""

from __future__ import annotations

from datetime import date

from jobs.reading.intent import Asked, IntentReading
from jobs.reading.learned import LearnedModel, Sample, features, train
from jobs.reading.secondopinion import OVERRULED_CONFIDENCE, second_opinion

ASKED = (Asked("post the forms", date(2026, 12, 4)),)
NOTE = IntentReading("note", None, None, ("no cue",), 0.5)


def model_for(text: str, intent: str) -> LearnedModel:
    """A model that has seen `text` read as `intent`."""
    samples = [Sample(features(text, "en", ["post the forms"], "note"), intent)] * 5
    others = [Sample(features("nothing new", "en", [], "note"), "note")] * 5
    return train([*samples, *others])


def test_a_sure_model_overrules_a_weak_rule_reading_as_an_unsure_one() -> None:
    model = model_for("sorted the forms and dropped them off", "done")

    got = second_opinion(NOTE, "sorted the forms and dropped them off", "en", ASKED, model)

    assert got.intent == "done"
    assert got.confidence <= OVERRULED_CONFIDENCE < 0.7  # the safe path: asked to confirm
    assert got.reasons[0].startswith("learned reader: done")
    assert "over the rules' note" in got.reasons[0]


def test_a_firm_rule_reading_is_never_overruled() -> None:
    model = model_for("stop", "note")
    firm = IntentReading("stop", None, None, ("command word",), 0.95)

    assert second_opinion(firm, "stop", "en", ASKED, model) is firm


def test_a_new_date_needs_a_day_the_rules_found() -> None:
    model = model_for("let me push this back a bit", "reschedule")

    assert second_opinion(NOTE, "let me push this back a bit", "en", ASKED, model) is NOTE


def test_several_commitments_and_no_model_leave_the_rules_reading() -> None:
    model = model_for("sorted the forms", "done")
    two = (*ASKED, Asked("call the bank", None))

    assert second_opinion(NOTE, "sorted the forms", "en", two, model) is NOTE
    assert second_opinion(NOTE, "sorted the forms", "en", ASKED, None) is NOTE


def test_a_new_date_the_rules_found_stands() -> None:
    moved = IntentReading("reschedule", date(2026, 12, 11), None, ("moving verb + date",), 0.8)
    model = model_for("friday week then", "note")

    assert second_opinion(moved, "friday week then", "en", ASKED, model) is moved
