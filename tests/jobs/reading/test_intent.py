"""Intent from a client's new words: command words, date phrases in five languages, negations."""

from __future__ import annotations

from datetime import date

import pytest

from jobs.reading.dates import find_dates, next_weekday
from jobs.reading.intent import classify_intent
from jobs.reading.text import new_words

WEDNESDAY = date(2026, 11, 25)
SATURDAY = date(2026, 11, 28)


@pytest.mark.parametrize(
    ("text", "intent", "new_due", "pause_until"),
    [
        ("done", "done", None, None),
        ("Done.\nIt took ages", "done", None, None),
        ("STOP", "stop", None, None),
        ("unsubscribe", "stop", None, None),
        ("snooze 3d", "reschedule", date(2026, 11, 28), None),
        ("Snooze 2w", "reschedule", date(2026, 12, 9), None),
        ("snooze 10", "reschedule", date(2026, 12, 5), None),
        ("new date 2026-12-04", "reschedule", date(2026, 12, 4), None),
        ("new date: Dec 4", "reschedule", date(2026, 12, 4), None),
        ("pause until 2027-01-05", "note", None, date(2027, 1, 5)),
        ("new date 2026-11-01", "note", None, None),
        ("pause until whenever", "note", None, None),
    ],
)
def test_command_words_on_the_first_line(
    text: str, intent: str, new_due: date | None, pause_until: date | None
) -> None:
    """Short commands always work, case-insensitively; a past or unreadable date is a note."""
    reading = classify_intent(text, WEDNESDAY)
    assert (reading.intent, reading.new_due, reading.pause_until) == (intent, new_due, pause_until)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Can we move it to next Friday?", date(2026, 12, 4)),
        ("I'll do it by Dec 3", date(2026, 12, 3)),
        ("Give me more time: in two weeks", date(2026, 12, 12)),
        ("Lo hago el próximo viernes", date(2026, 12, 4)),
        ("Lo tendré para el 3 de diciembre", date(2026, 12, 3)),
        ("Ich schaffe es bis nächsten Freitag", date(2026, 12, 4)),
        ("In zwei Wochen bin ich so weit", date(2026, 12, 12)),
        ("Je le ferai vendredi prochain", date(2026, 12, 4)),
        ("Ce sera fini d'ici le 3 décembre", date(2026, 12, 3)),
        ("Faço na próxima sexta", date(2026, 12, 4)),
        ("Entrego até 3 de dezembro", date(2026, 12, 3)),
        ("Vou fazer em duas semanas", date(2026, 12, 12)),
        ("I'll get to it tomorrow", date(2026, 11, 29)),
    ],
)
def test_date_phrases_per_language(text: str, expected: date) -> None:
    """Reschedule phrases resolve relative to the reply's day (here a Saturday)."""
    reading = classify_intent(text, SATURDAY)
    assert (reading.intent, reading.new_due) == ("reschedule", expected)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Not done yet, sorry", "note"),
        ("I haven't finished it", "note"),
        ("Is it done? Not yet.", "note"),
        ("No lo he terminado", "note"),
        ("Ich bin noch nicht fertig", "note"),
        ("Je n'ai pas fini", "note"),
        ("Ainda não terminei", "note"),
        ("Almost done!", "note"),
        ("Finished it!", "done"),
        ("hecho, gracias", "done"),
        ("Erledigt!", "done"),
        ("C'est fait", "done"),
        ("terminei ontem", "done"),
    ],
)
def test_negations_matter(text: str, intent: str) -> None:
    """A negated, future or questioned "done" is not done."""
    assert classify_intent(text, WEDNESDAY).intent == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I'm stuck and need help", "blocked"),
        ("No time this week", "blocked"),
        ("Estoy atascado, no puedo", "blocked"),
        ("Ich komme nicht weiter, keine Zeit", "blocked"),
        ("Je bloque, pas le temps", "blocked"),
        ("Estou travado, não consigo", "blocked"),
        ("Please stop emailing me", "stop"),
        ("No más correos, por favor", "stop"),
        ("Bitte abmelden", "stop"),
        ("Arrêtez, merci", "stop"),
        ("Quero cancelar inscrição", "stop"),
        ("Para", "stop"),
        ("Para mí fue muy útil la pregunta", "note"),
        ("I can't stop thinking about the plan", "note"),
        ("I met Tom on Monday and it went well", "note"),
        ("I may try a new approach", "note"),
    ],
)
def test_blocked_stop_and_notes(text: str, intent: str) -> None:
    """Blocked and stop phrases in five languages; common words alone decide nothing."""
    assert classify_intent(text, WEDNESDAY).intent == intent


def test_unknown_reply_day_leaves_relative_dates_alone() -> None:
    """Without the reply's day, "next Friday" cannot be resolved; an absolute command still is."""
    assert classify_intent("next Friday please", None).new_due is None
    assert classify_intent("new date 2026-12-04", None).new_due == date(2026, 12, 4)
    assert classify_intent("snooze 3d", None).intent == "note"


def test_next_weekday_rule() -> None:
    """Next Friday is Friday of the coming calendar week; a bare Friday is the first after today."""
    assert next_weekday(WEDNESDAY, 4, following_week=True) == date(2026, 12, 4)
    assert next_weekday(WEDNESDAY, 4, following_week=False) == date(2026, 11, 27)
    assert next_weekday(date(2026, 11, 27), 4, following_week=False) == date(2026, 12, 4)


def test_numeric_dates_follow_the_language() -> None:
    """07.01.2027 is 7 January in German text, and 7/1 is July 1 in English text."""
    german = find_dates("Ich bin ab dem 07.01.2027 wieder da", WEDNESDAY)
    assert [hit.day for hit in german] == [date(2027, 1, 7)]
    english = find_dates("I will be back on 7/1/2027", WEDNESDAY)
    assert [hit.day for hit in english] == [date(2027, 7, 1)]


@pytest.mark.parametrize(
    ("body", "kept", "dropped"),
    [
        ("ok\n\nOn Mon, 1 Dec 2026 at 09:00, Sam <s@x.example>\nwrote:\n> old", "ok", "old"),
        ("ok\n\nEl lun, 1 dic 2026 a las 9:00, Sam escribió:\n> viejo", "ok", "viejo"),
        ("ok\n\nAm 01.12.2026 um 09:00 schrieb Sam <s@x.example>:\n> alt", "ok", "alt"),
        ("ok\n\nLe 1 déc. 2026 à 09:00, Sam a écrit :\n> ancien", "ok", "ancien"),
        ("ok\n\nEm 1 de dez. de 2026, às 09:00, Sam escreveu:\n> antigo", "ok", "antigo"),
        ("ok\n\nVon: Sam\nGesendet: Montag\nAn: Lena\nBetreff: x\n\nalt", "ok", "alt"),
        ("ok\n\nDe : Sam\nEnvoyé : lundi\nÀ : Léa\n\nancien", "ok", "ancien"),
        ("ok\n-----Original Message-----\nFrom: Sam\nold", "ok", "old"),
        ("ok\n\nEnviado do meu iPhone", "ok", "iPhone"),
        ("ok\n\nGet Outlook for iOS", "ok", "Outlook"),
        ("ok\n-- \nSam Smith\nACME", "ok", "ACME"),
        ("ok\n\nThis email and any attachments are confidential.", "ok", "confidential"),
        ("ok\n\nDiese E-Mail enthält vertrauliche Informationen.", "ok", "vertrauliche"),
    ],
)
def test_quoted_history_signatures_and_disclaimers_are_stripped(
    body: str, kept: str, dropped: str
) -> None:
    """Each client's quote header, phone line, signature and disclaimer ends the new words."""
    text = new_words(body)
    assert kept in text
    assert dropped not in text
