"""Cue families, not phrases: cease verbs with the emails, nobody answering, asking for a hand,
ability negated in the future, correcting an earlier reply, moving a step, and their limits."""

from __future__ import annotations

from datetime import date

import pytest

from jobs.reading.intent import Asked, classify_intent

MONDAY = date(2026, 12, 7)
DUE = date(2026, 12, 9)


def _intent(text: str, action: str = "clear out the attic") -> str:
    reading = classify_intent(text, MONDAY, asked=[Asked(action, DUE)])
    return f"{reading.intent} {reading.reasons}"


@pytest.mark.parametrize(
    "text",
    [
        "You can cancel the reminders now, I've found my feet.",
        "Sie können die Mails ab sofort einstellen.",
        "Ihre Nachrichten können Sie sich künftig sparen, danke.",
        "Vous pouvez cesser les relances, merci pour tout.",
        "Pueden parar los recordatorios, ya voy sola.",
        "Podem parar com os lembretes, ok?",
        "There's no need to write to me any more.",
        "Plus besoin de m'écrire, je gère.",
        "No hace falta que me mandes nada más.",
        "Não precisa me lembrar, já estou no ritmo.",
    ],
)
def test_a_cease_verb_or_no_need_with_the_emails_is_stop(text: str) -> None:
    """Any request form of a cease verb, or "no need", with an email noun or "write to me"."""
    assert _intent(text).startswith("stop")


@pytest.mark.parametrize(
    "text",
    [
        "Please don't stop the reminders, they really help.",
        "I stopped answering work emails after six, which helped.",
        "Should I stop the newsletter part of the project?",
    ],
)
def test_cease_negated_past_or_asked_is_no_stop(text: str) -> None:
    """Negated, told in the past, or asked as a question: the emails go on."""
    assert not _intent(text).startswith("stop")


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("Rang the landlord three times, no answer.", "call the landlord"),
        ("Vom Vermieter immer noch keine Rückmeldung.", "den Vermieter anrufen"),
        ("Le plombier ne rappelle jamais.", "appeler le plombier"),
        ("Le escribí al casero y sigue sin respuesta.", "llamar al casero"),
        ("O síndico não responde de jeito nenhum.", "ligar para o síndico"),
        ("Could you walk through the tax part with me?", "file the tax return"),
        ("¿Me echas una mano con la parte de impuestos?", "hacer la declaración"),
        ("I won't be able to do anything this week, my son is ill.", "clear out the attic"),
        ("Je ne vais pas pouvoir m'y mettre, trop de travail.", "vider le grenier"),
        ("No voy a poder esta semana, estoy enferma.", "vaciar el desván"),
        ("Não vou conseguir essa semana, tô doente.", "limpar o sótão"),
        ("Honestly it's all too much right now.", "clear out the attic"),
        ("Ich weiß echt nicht, wo ich anfangen soll.", "den Dachboden ausräumen"),
    ],
)
def test_nobody_answering_a_hand_or_cannot_is_blocked(text: str, action: str) -> None:
    """Waiting without the word, asking for a hand, ability negated ahead, overwhelm."""
    assert _intent(text, action).startswith("blocked")


@pytest.mark.parametrize(
    ("text", "action", "intent"),
    [
        ("Called the surgery, I'm on the waiting list now.", "call the surgery", "done"),
        ("I'm putting together a list of what goes to the tip.", "clear out the attic", "note"),
        (
            "Can't remember if we said Sunday or Saturday for the tip run?",
            "clear out the attic",
            "note",
        ),
        ("No, I didn't mean the attic, I meant the garage.", "clear out the attic", "undo"),
        ("Sorry for the confusion, that done was for the shed.", "clear out the attic", "undo"),
        ("Je voulais dire le garage, pas le grenier.", "vider le grenier", "undo"),
        ("Hat sich erledigt, wir ziehen sowieso um.", "den Dachboden ausräumen", "note"),
        ("Ya quedó, todo limpio.", "vaciar el desván", "done"),
        ("Ya la tengo lista.", "hacer la lista", "done"),
    ],
)
def test_limits_of_each_family(text: str, action: str, intent: str) -> None:
    """A waiting list is no wait, "putting together" no help, a moot step no completion."""
    assert _intent(text, action).startswith(intent)


@pytest.mark.parametrize(
    ("text", "new_due"),
    [
        ("I'm shifting this to Thursday.", date(2026, 12, 10)),
        ("Pushing it to the 15th, the skip comes late.", date(2026, 12, 15)),
        ("Lo paso al 14 de diciembre.", date(2026, 12, 14)),
        ("Disons dans huit jours ?", date(2026, 12, 14)),
        ("Ich verlege das auf Ende nächster Woche.", date(2026, 12, 18)),
        ("Adio para sexta-feira.", date(2026, 12, 11)),
    ],
)
def test_moving_verbs_in_any_form_give_the_new_date(text: str, new_due: date) -> None:
    """Progressive, present or infinitive of a moving verb, or "let's say", with a day."""
    reading = classify_intent(text, MONDAY, asked=[Asked("clear out the attic", DUE)])
    assert (reading.intent, reading.new_due) == ("reschedule", new_due), reading.reasons


def test_a_reply_mixing_languages_is_read_less_surely() -> None:
    """Cue lists may miss half of a mixed reply: the same cue, less sure, under the safe line."""
    mixed = "Sorry, ich schaffe es nicht, the printer is kaputt and I wait for der Techniker."
    plain = "Sorry, I can't do it, the printer is broken and I'm waiting for the technician."
    sure = classify_intent(plain, MONDAY, asked=[Asked("print the flyers", DUE)])
    hedged = classify_intent(mixed, MONDAY, asked=[Asked("print the flyers", DUE)])
    assert (sure.intent, hedged.intent) == ("blocked", "blocked")
    assert hedged.confidence < 0.7 <= sure.confidence


def test_an_inferred_cue_in_a_long_reply_is_read_less_surely() -> None:
    """In a wall of news, one "arrêter les rappels" may be about something else: ask first."""
    news = "On a eu une semaine chargée. Les enfants sont malades. " * 6
    reading = classify_intent(
        news + "Vous pouvez arrêter les rappels.", MONDAY, asked=[Asked("vider le grenier", DUE)]
    )
    assert reading.intent == "stop"
    assert reading.confidence < 0.7
