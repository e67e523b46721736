"""Reading a cadence request from a reply: cue classes with scope, five languages, negatives."""

from __future__ import annotations

from datetime import date, time

import pytest

from jobs.clientcadence import CadenceRequest
from jobs.reading.cadence import read_cadence
from jobs.reading.intent import classify_intent

FRIDAY, MONDAY, WEDNESDAY = 4, 0, 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # en
        (
            "Could you check on me on Friday mornings instead?",
            {"days": (FRIDAY,), "part": "morning"},
        ),
        ("Not before 10am, please.", {"not_before": time(10)}),
        ("Weekends are fine for me.", {"weekends": True}),
        ("Only once a week please, it feels like a lot.", {"per_week": 1}),
        ("Honestly, less often would be better.", {"less_often": True}),
        ("Remind me three days before the deadline.", {"lead_days": 3}),
        (
            "Write me on Mondays and Wednesdays after 2pm.",
            {"days": (MONDAY, WEDNESDAY), "not_before": time(14)},
        ),
        # de
        ("Meld dich bitte lieber montags am Morgen.", {"days": (MONDAY,), "part": "morning"}),
        ("Bitte erst ab 9:30 Uhr.", {"not_before": time(9, 30)}),
        ("Am Wochenende ist auch in Ordnung.", {"weekends": True}),
        ("Bitte keine Mails am Wochenende.", {"weekends": False}),
        ("Einmal pro Woche reicht mir, bitte.", {"per_week": 1}),
        ("Könnt ihr mich seltener anschreiben?", {"less_often": True}),
        ("Erinnere mich bitte zwei Tage vorher.", {"lead_days": 2}),
        # fr
        ("Écrivez-moi plutôt le mercredi après-midi.", {"days": (WEDNESDAY,), "part": "afternoon"}),
        ("Pas avant 11h s'il vous plaît.", {"not_before": time(11)}),
        ("Deux fois par semaine, ça suffit, s'il vous plaît.", {"per_week": 2}),
        ("Un peu moins souvent, merci.", {"less_often": True}),
        ("Rappelez-moi quatre jours avant.", {"lead_days": 4}),
        # es
        ("Escríbeme mejor los lunes por la tarde.", {"days": (MONDAY,), "part": "afternoon"}),
        ("No antes de las 10, por favor.", {"not_before": time(10)}),
        ("Los fines de semana también están bien.", {"weekends": True}),
        ("Con menos frecuencia, por favor.", {"less_often": True}),
        ("Recuérdame un día antes.", {"lead_days": 1}),
        # pt
        ("Me escreva só às sextas de manhã.", {"days": (FRIDAY,), "part": "morning"}),
        ("Não antes das 9h, por favor.", {"not_before": time(9)}),
        ("Uma vez por semana está ótimo, por favor.", {"per_week": 1}),
        ("Pode mandar com menos frequência?", {"less_often": True}),
        ("Me lembra cinco dias antes.", {"lead_days": 5}),
    ],
)
def test_a_cadence_request_is_read_in_each_language(text: str, expected: dict[str, object]) -> None:
    reading = read_cadence(text)
    assert reading is not None, text
    assert reading.request == CadenceRequest(**expected)  # type: ignore[arg-type]
    assert reading.reasons and text in reading.reasons[0]


@pytest.mark.parametrize(
    "text",
    [
        "I'll finish the draft on Friday morning.",
        "My presentation is on Friday.",
        "The meeting is not before 10, so I can prepare.",
        "Ich mache es am Freitag vormittags.",
        "Je vais le faire vendredi matin.",
        "Voy a terminarlo el viernes por la mañana.",
        "Vou fazer isso na sexta de manhã.",
        "The weekend was fine, thanks.",
        "I go running once a week.",
        "It took me 2 days after the call.",
        "Morgen schicke ich es ab.",
        "Lo mando mañana.",
        "Done! Thanks for the reminder.",
    ],
)
def test_a_sentence_that_is_not_about_the_emails_timing_reads_as_no_request(text: str) -> None:
    assert read_cadence(text) is None


def test_a_day_said_with_not_is_not_chosen() -> None:
    reading = read_cadence("Please email me on Fridays, not on Mondays.")
    assert reading is not None
    assert reading.request.days == (FRIDAY,)


@pytest.mark.parametrize(
    "text",
    [
        "I'm away until the 14th.",
        "Ich bin bis zum 14. im Urlaub.",
        "Je suis absente jusqu'au 14.",
        "Estoy de vacaciones hasta el 14.",
        "Estou de férias até dia 14.",
    ],
)
def test_away_until_a_day_is_the_existing_pause_not_a_cadence_request(text: str) -> None:
    assert read_cadence(text) is None
    assert classify_intent(text, date(2026, 12, 7)).pause_until == date(2026, 12, 14)


@pytest.mark.parametrize(
    ("text", "until"),
    [
        ("Pon todo en pausa hasta el lunes 11 de enero, por favor.", date(2027, 1, 11)),
        (
            "Pouvez-vous mettre les rappels en veilleuse jusqu'au mardi 5 janvier ?",
            date(2027, 1, 5),
        ),
        ("Could you pause the reminders until Monday 4 January?", date(2027, 1, 4)),
    ],
)
def test_a_weekday_with_its_date_is_one_day_not_every_week(text: str, until: date) -> None:
    """ "el lunes 11 de enero" names one Monday: a pause until it, not Mondays from now on."""
    assert read_cadence(text) is None
    assert classify_intent(text, date(2026, 12, 7)).pause_until == until


@pytest.mark.parametrize(
    "text",
    [
        "No me mande nada hasta que regrese el 4 de enero.",
        "Please don't send me anything until 4 January.",
        "Não me mande nada até 4 de janeiro.",
    ],
)
def test_asking_to_be_sent_nothing_until_a_day_is_a_pause(text: str) -> None:
    """ "mande" there is no completion: a negated send is the emails held."""
    reading = classify_intent(text, date(2026, 12, 7))
    assert (reading.intent, reading.new_due, reading.pause_until) == (
        "note",
        None,
        date(2027, 1, 4),
    )


def test_a_weekday_without_a_date_is_still_a_cadence_day() -> None:
    reading = read_cadence("Please email me on Mondays from now on.")
    assert reading is not None and reading.request.days == (0,)


def test_a_request_round_trips_through_its_stored_text_and_merges_key_by_key() -> None:
    first = CadenceRequest(days=(FRIDAY,), part="morning")
    stored = first.to_text()
    assert CadenceRequest.from_text(stored) == first
    assert CadenceRequest.from_text("") == CadenceRequest()
    merged = first.merged(CadenceRequest(not_before=time(10)))
    assert merged == CadenceRequest(days=(FRIDAY,), part="morning", not_before=time(10))
