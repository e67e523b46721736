"""Frames, not phrases: a removal verb with the client as object, a writing verb negated with
"more", withdrawing from the coaching, a request put as a question; and where each stops."""

from __future__ import annotations

from datetime import date

import pytest

from jobs.reading.intent import Asked, classify_intent

MONDAY = date(2026, 12, 7)
DUE = date(2026, 12, 9)


def _read(text: str, action: str = "clear out the attic") -> tuple[str, float, str]:
    reading = classify_intent(text, MONDAY, asked=[Asked(action, DUE)])
    return reading.intent, reading.confidence, " ".join(reading.reasons)


@pytest.mark.parametrize(
    "text",
    [
        "Could you remove me from this distribution list?",
        "Bitte nehmt mich aus eurem Verteiler raus.",
        "Pourriez-vous me retirer de la liste de diffusion ?",
        "Desuscríbanme, por favor.",
        "Désinscrivez-moi de ces rappels.",
        "Quero me desinscrever destes lembretes.",
        "Can you stop writing to me? Thanks.",
        "Bitte schickt mir keine Nachrichten mehr, danke.",
        "Please don't email me again about this.",
        "Merci de ne plus m'envoyer de relances.",
        "No me escriban más, gracias.",
        "Por favor, não me mandem mais lembretes.",
        "I'm going to step back from the coaching for good.",
        "Je veux mettre fin à l'accompagnement.",
        "Podes cancelar o envio dos lembretes?",
    ],
)
def test_stop_frames(text: str) -> None:
    """Any member of a stop frame is heard, in inflections the cue lists never spelt out."""
    intent, confidence, reasons = _read(text)
    assert intent == "stop", reasons
    assert confidence >= 0.8, reasons


@pytest.mark.parametrize(
    "text",
    [
        "I won't send anything more until the plumber has been.",
        "Let me take a look at the reminders you sent and get back to you.",
        "Ich schreibe dir nicht mehr so lange Mails, versprochen.",
        "Should I step back from the newsletter part?",
    ],
)
def test_stop_frames_need_their_parts(text: str) -> None:
    """The client's own sending, a "me" that is no removal, a question that asks: no stop."""
    intent, _, reasons = _read(text)
    assert intent != "stop", reasons


def test_ending_it_here_is_a_stop_the_coach_confirms() -> None:
    """ "Let's leave it there" may end the emails or only the step: stop, but unsure."""
    intent, confidence, reasons = _read("Honestly I think we should leave it there.")
    assert intent == "stop", reasons
    assert confidence < 0.7
    assert "the emails or only the step?" in reasons
