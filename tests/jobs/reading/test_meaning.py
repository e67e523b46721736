"""Intent from meaning, not phrases: cue classes with scope, the action's own verb, clauses."""

from __future__ import annotations

import time
from datetime import date

import pytest

from jobs.reading.intent import Asked, classify_intent

THURSDAY = date(2026, 12, 3)
FRIDAY_DUE = date(2026, 12, 4)
MAX_SECONDS = 2.0  # ~0.3 s alone; generous for a shared machine, far below super-linear
LONG_TEXT_CHARS = 50_000


@pytest.mark.parametrize(
    ("text", "action", "intent"),
    [
        ("Please take me off your mailing list.", "tidy the shed", "stop"),
        ("I don't want to get these reminders any more, thanks.", "tidy the shed", "stop"),
        ("From now on I'd rather manage this by myself.", "tidy the shed", "stop"),
        ("Bitte keine Erinnerungen mehr, danke.", "den Schuppen aufräumen", "stop"),
        ("Je ne veux plus recevoir ces messages.", "ranger le garage", "stop"),
        ("Por favor, dejen de enviarme estos recordatorios.", "ordenar el garaje", "stop"),
        ("Não quero mais receber esses e-mails.", "arrumar a garagem", "stop"),
        ("Nothing I can do until the bank writes back.", "open the savings account", "blocked"),
        ("The printer broke halfway through, so I'm stuck.", "print the flyers", "blocked"),
        ("Ich warte noch auf die Unterlagen vom Amt.", "den Antrag stellen", "blocked"),
        ("J'attends toujours la réponse du notaire.", "signer le compromis", "blocked"),
        ("Sigo esperando que el banco me llame.", "abrir la cuenta", "blocked"),
        ("Could we look at the numbers together on Tuesday?", "draft the budget", "blocked"),
        ("Printed them yesterday, 200 copies.", "print the flyers", "done"),
        ("Opened it this morning, the money is already in.", "open the savings account", "done"),
        ("Hab den Antrag gestern gestellt.", "den Antrag stellen", "done"),
        ("J'ai signé le compromis lundi !", "signer le compromis", "done"),
        ("Ya abrí la cuenta, todo bien.", "abrir la cuenta", "done"),
        ("Arrumei a garagem no sábado passado.", "arrumar a garagem", "done"),
        ("Haven't printed them yet, sorry.", "print the flyers", "note"),
        ("Printed half of them, the ink ran out.", "print the flyers", "note"),
        ("Should I print them in colour or black and white?", "print the flyers", "note"),
        ("Undo please, you got that wrong.", "print the flyers", "undo"),
        ("Das bitte rückgängig machen, war ein Versehen.", "den Antrag stellen", "undo"),
    ],
)
def test_intent_from_cue_classes(text: str, action: str, intent: str) -> None:
    """Stop, blocked, done, note and undo read from what a clause does, in five languages."""
    reading = classify_intent(text, THURSDAY, asked=[Asked(action, FRIDAY_DUE)])
    assert reading.intent == intent, reading.reasons
    assert reading.reasons


@pytest.mark.parametrize(
    ("text", "intent", "new_due", "pause_until"),
    [
        ("I'll have the flyers printed by the 10th.", "reschedule", date(2026, 12, 10), None),
        ("Will be finished by mid-January.", "reschedule", date(2027, 1, 15), None),
        ("Ich mache das am Dienstag, den 8.", "reschedule", date(2026, 12, 8), None),
        ("On repousse au 15 décembre ?", "reschedule", date(2026, 12, 15), None),
        ("Lo dejo para el 9, que antes no llego.", "reschedule", date(2026, 12, 9), None),
        ("Fica pra segunda, dia 7.", "reschedule", date(2026, 12, 7), None),
        ("Still fine for Friday the 4th.", "note", None, None),
        ("See you at our session on the 9th!", "note", None, None),
        ("I start my new job on the 14th, please stop the emails.", "stop", None, None),
        ("I'm away until 11 January, please don't write before.", "note", None, date(2027, 1, 11)),
        ("Bin bis 6. Januar im Urlaub, bitte pausieren.", "note", None, date(2027, 1, 6)),
    ],
)
def test_which_date_is_a_new_due_date(
    text: str, intent: str, new_due: date | None, pause_until: date | None
) -> None:
    """A date moves the plan only in a commitment clause; due date, session, stop: no."""
    reading = classify_intent(text, THURSDAY, asked=[Asked("print the flyers", FRIDAY_DUE)])
    assert (reading.intent, reading.new_due, reading.pause_until) == (
        intent,
        new_due,
        pause_until,
    ), reading.reasons


@pytest.mark.parametrize(
    ("text", "action", "intent"),
    [
        ("Could you stop sending me these? I've got it from here.", "water the plants", "stop"),
        ("I'd like to unsubscribe from the reminder emails please", "water the plants", "stop"),
        ("Merci de me retirer de la liste de diffusion.", "arroser les plantes", "stop"),
        ("Bitte nehmen Sie mich aus dem Verteiler.", "die Pflanzen gießen", "stop"),
        ("Prefiero que no me lleguen más estos avisos.", "regar las plantas", "stop"),
        ("Por favor me tirem dessa lista.", "regar as plantas", "stop"),
        ("Can't go any further until my manager signs it off.", "submit the report", "blocked"),
        ("The website keeps crashing when I try to upload.", "submit the report", "blocked"),
        ("Ich hänge fest, weiß nicht wie weiter.", "den Bericht abgeben", "blocked"),
        ("Je n'arrive pas à avancer sans les chiffres de Paul.", "rendre le rapport", "blocked"),
        ("No avanzo, me falta la información del cliente.", "entregar el informe", "blocked"),
        ("Tô parado esperando o aval do chefe.", "entregar o relatório", "blocked"),
        ("Submitted it on Tuesday.", "submit the report", "done"),
        ("Report is in!", "submit the report", "done"),
        ("Den Bericht hab ich heute abgegeben.", "den Bericht abgeben", "done"),
        ("Rapport rendu ce matin.", "rendre le rapport", "done"),
        ("Entregué el informe ayer por la tarde.", "entregar el informe", "done"),
        ("Relatório entregue, finalmente!", "entregar o relatório", "done"),
        ("Not submitted yet, still polishing.", "submit the report", "note"),
        ("Noch nicht abgegeben, fehlt noch die Grafik.", "den Bericht abgeben", "note"),
        ("Pas encore rendu.", "rendre le rapport", "note"),
        ("Todavía no lo entregué.", "entregar el informe", "note"),
        ("Ainda não entreguei.", "entregar o relatório", "note"),
        ("That's not what I said at all, please undo.", "submit the report", "undo"),
        ("Annuler svp, je me suis trompé de mail.", "rendre le rapport", "undo"),
        ("Deshacer, me equivoqué.", "entregar el informe", "undo"),
        ("How long should the summary be?", "submit the report", "note"),
        ("Feeling much better about it after our chat.", "submit the report", "note"),
    ],
)
def test_more_voices_of_each_class(text: str, action: str, intent: str) -> None:
    """Other wordings of the same classes: removal from a list, "no avanzo", "report is in"."""
    reading = classify_intent(text, THURSDAY, asked=[Asked(action, FRIDAY_DUE)])
    assert reading.intent == intent, reading.reasons


@pytest.mark.parametrize(
    ("text", "intent", "new_due", "pause_until"),
    [
        ("I'll get it in by next Wednesday.", "reschedule", date(2026, 12, 9), None),
        ("Can I have until the 18th?", "reschedule", date(2026, 12, 18), None),
        ("Ich reiche ihn bis zum 11.12. ein.", "reschedule", date(2026, 12, 11), None),
        ("Je le rends le 10, c'est promis.", "reschedule", date(2026, 12, 10), None),
        ("Lo entrego el lunes 7 sin falta.", "reschedule", date(2026, 12, 7), None),
        ("Entrego até dia 9.", "reschedule", date(2026, 12, 9), None),
        ("My appraisal meeting is on the 8th, so I'll know more then.", "note", None, None),
        ("Yes, still on for Friday.", "note", None, None),
        ("We're moving house on the 12th so please stop the emails for good.", "stop", None, None),
        (
            "Off on holiday until 5 January, please hold the reminders until then.",
            "note",
            None,
            date(2027, 1, 5),
        ),
        (
            "Je suis en congé jusqu'au 4 janvier, merci de ne rien m'envoyer avant.",
            "note",
            None,
            date(2027, 1, 4),
        ),
        ("Estoy de vacaciones hasta el 8 de enero.", "note", None, date(2027, 1, 8)),
    ],
)
def test_more_dates_in_their_clauses(
    text: str, intent: str, new_due: date | None, pause_until: date | None
) -> None:
    """Promised days, other events' days, stops with a day and absences, in five languages."""
    reading = classify_intent(text, THURSDAY, asked=[Asked("submit the report", FRIDAY_DUE)])
    got = (reading.intent, reading.new_due, reading.pause_until)
    assert got == (intent, new_due, pause_until), reading.reasons


def test_several_commitments_line_by_line() -> None:
    """Each numbered line answers its own commitment; overall a note when they differ."""
    asked = [Asked("print the flyers", FRIDAY_DUE), Asked("book the hall", FRIDAY_DUE)]
    reading = classify_intent("1) printed\n2) can we push it to the 11th?", THURSDAY, asked=asked)
    got = [(c.intent, c.new_due) for c in reading.per_commitment]
    assert got == [("done", None), ("reschedule", date(2026, 12, 11))]
    assert reading.intent == "note"


def test_confidence_is_high_for_explicit_and_low_for_conflicting_cues() -> None:
    """An explicit stop is sure; a completion next to an obstacle is not."""
    sure = classify_intent("Please remove me from these reminders.", THURSDAY)
    unsure = classify_intent("Printed most, but the printer is broken now.", THURSDAY)
    assert sure.confidence >= 0.9
    assert unsure.confidence < sure.confidence


def test_long_date_like_text_is_read_in_bounded_time() -> None:
    """50 KB of dates costs no more than a bounded prefix: dateparser sees short windows."""
    text = ("Maybe the 3rd, or 12.12., or Dec 14, next Friday, in two weeks? " * 800)[
        :LONG_TEXT_CHARS
    ]
    start = time.perf_counter()
    classify_intent(text, THURSDAY, asked=[Asked("print the flyers", FRIDAY_DUE)])
    assert time.perf_counter() - start < MAX_SECONDS


@pytest.mark.parametrize(
    ("text", "action", "new_due"),
    [
        # "Termin" is usually another event's day; named as the step's new one, it is this one's.
        (
            "Bitte vermerken Sie als neuen Termin den 15.12.",
            "die Rechnung einreichen",
            "2026-12-15",
        ),
        ("Please put the new date as 14 December.", "send the invoice", "2026-12-14"),
        # The step's own verb in a plan: the birthday falls on the step's own day.
        (
            "Vou ligar dia 22 de dezembro, que é o aniversário dela.",
            "ligar para a tia",
            "2026-12-22",
        ),
        # "before the holidays" bounds nothing: a plan for the 16th, not a pause until it.
        (
            "Je le mets au 16/12, mon seul après-midi libre avant les vacances.",
            "trier",
            "2026-12-16",
        ),
    ],
)
def test_a_day_named_as_the_steps_own_is_a_new_date(text: str, action: str, new_due: str) -> None:
    reading = classify_intent(text, THURSDAY, asked=[Asked(action, FRIDAY_DUE)])
    assert (reading.intent, reading.new_due) == ("reschedule", date.fromisoformat(new_due))
    assert reading.pause_until is None, reading.reasons


def test_away_until_a_day_is_still_a_pause_and_a_day_before_back_too() -> None:
    away = classify_intent("On holiday until 4 January.", THURSDAY)
    back_first = classify_intent("Bin im Urlaub, ab dem 7. Januar wieder da.", THURSDAY)

    assert away.pause_until == date(2027, 1, 4)
    assert back_first.pause_until == date(2027, 1, 7)


@pytest.mark.parametrize(
    ("text", "new_due"),
    [
        # The cue points at the date after it, not at another day the clause names first.
        ("Tengo que entregarle al cliente mañana, lo puedo correr pa pasado mañana?", "2026-12-05"),
        ("Mi jefe vuelve el lunes, así que pongamos el martes.", "2026-12-08"),
    ],
)
def test_a_moving_cue_takes_the_date_after_it(text: str, new_due: str) -> None:
    reading = classify_intent(text, THURSDAY, asked=[Asked("subir el portafolio", FRIDAY_DUE)])
    assert (reading.intent, reading.new_due) == ("reschedule", date.fromisoformat(new_due))


@pytest.mark.parametrize(
    ("text", "new_due"),
    [
        ("Pode ser semana que vem na segunda feira?", "2026-12-07"),  # a day proposed, asked
        ("Tmrw. Two emergent cases today.", "2026-12-04"),  # texting's tomorrow
        ("dsl g zappe, je le fais dmn matin", "2026-12-04"),
        ("esqueci, joga pra depois de amanha", "2026-12-05"),
    ],
)
def test_a_day_proposed_or_texted_is_a_new_date(text: str, new_due: str) -> None:
    overdue = date(2026, 12, 1)  # so that tomorrow is a new day, not the one agreed
    reading = classify_intent(text, THURSDAY, asked=[Asked("ligar para o posto", overdue)])
    assert (reading.intent, reading.new_due) == ("reschedule", date.fromisoformat(new_due))


def test_asking_whether_the_agreed_day_still_holds_moves_nothing() -> None:
    reading = classify_intent("Is it still Friday?", THURSDAY, asked=[Asked("call", FRIDAY_DUE)])
    assert reading.new_due is None


def test_a_day_to_look_at_it_together_is_a_meeting_not_a_new_date() -> None:
    text = "Sozinho não vou conseguir. Dá pra gente sentar na segunda e olhar junto?"
    reading = classify_intent(text, THURSDAY, asked=[Asked("preencher o formulário", FRIDAY_DUE)])
    assert (reading.intent, reading.new_due) == ("blocked", None)


@pytest.mark.parametrize(
    "text",
    [
        "Stop please. nothing against you, I just can't do anything extra right now",
        "Stopp. Bittschön koane Mails mehr, i hob grad gnua um de Ohrn",
    ],
)
def test_stop_as_the_first_sentence_is_the_command_whatever_follows(text: str) -> None:
    reading = classify_intent(text, THURSDAY, asked=[Asked("call the bank", FRIDAY_DUE)])
    assert (reading.intent, reading.confidence) == ("stop", 0.9)


@pytest.mark.parametrize(
    "text",
    ["Stop sending the Friday one, Monday is fine.", "Para mañana lo tengo listo."],
)
def test_a_stop_word_that_opens_another_sentence_is_no_command(text: str) -> None:
    reading = classify_intent(text, THURSDAY, asked=[Asked("call the bank", FRIDAY_DUE)])
    assert not any("first sentence" in reason for reason in reading.reasons), reading.reasons
