"""When the learned reader may overrule the cue rules, and how sure the result then is.

The rules read clause by clause and say why; the learned model (jobs.reading.learned) weighs
all the words at once. They agree on most replies. Where they differ and the model is sure
enough, the model's intent is taken — but only ever as an unsure reading (below
jobs.replyeffect.CONFIDENT), so the daemon takes the path that cannot hurt the client: a
possible stop pauses and tells the coach, a possible done asks the client to confirm, a possible
blocked tells the coach. Thresholds were chosen on a blind part of the tune split
(`python -m bench.trainintent --holdout f_`), never on the frozen split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from jobs.reading.intent import Asked, IntentReading
from jobs.reading.learned import INTENTS, LearnedModel, features

OVERRULE_MIN = 0.4  # the model's probability for its intent (of six) before it may overrule
OVERRULED_CONFIDENCE = 0.6  # under CONFIDENT (0.7): acted on by the safe path only
FIRM_RULE = 0.9  # a command word or an explicit cue in a clear clause: not overruled


def second_opinion(
    reading: IntentReading,
    text: str,
    language: str,
    asked: Sequence[Asked],
    model: LearnedModel | None,
) -> IntentReading:
    """The rules' reading, or the model's intent where it is sure and the rules are not firm."""
    if model is None or not text.strip() or len(asked) > 1 or reading.confidence >= FIRM_RULE:
        return reading
    if reading.intent == "reschedule" and reading.new_due is not None:
        # A day the rules tied to the step stands: overruling these cost new dates on a blind
        # batch (g_, tune half: 8/20 dates against 10/20 kept) and gained no intents.
        return reading
    found = features(text, language, [a.action for a in asked], reading.intent)
    probabilities = model.posterior(found)
    chosen = max(INTENTS, key=lambda intent: probabilities[intent])
    sure = probabilities[chosen]
    if chosen == reading.intent or sure < OVERRULE_MIN:
        return reading
    if chosen == "reschedule":
        return reading  # a new date needs a day, and every day the rules tied to the step stands
    words = ", ".join(f"'{w}'" for w in model.strongest(found, chosen)) or "the words together"
    why = (
        f"learned reader: {chosen} ({sure:.2f}) over the rules' {reading.intent} "
        f"(cues {words}); unsure, so the safe path"
    )
    return replace(
        reading,
        intent=chosen,
        new_due=None,
        confidence=min(sure, OVERRULED_CONFIDENCE),
        reasons=(why, *reading.reasons),
    )
