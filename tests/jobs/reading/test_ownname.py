"""The writer's own name at the end of their words is cut, however they sign."""

from __future__ import annotations

import pytest

from jobs.reading.ownname import sender_names, without_own_name


@pytest.mark.parametrize(
    ("text", "sender", "kept"),
    [
        ("gib mir noch 14 tage\n\nmara", "Mara Steiner <mara.s@gmail.com>", "gib mir noch 14 tage"),
        (
            "je cherche encore lol\n\nkev",
            "Kevin Marchal <k.marchal@free.fr>",
            "je cherche encore lol",
        ),
        (
            "me dio la tarde libre.\n\nVale",
            "Valentina Rojas <vale.rojas@x.org>",
            "me dio la tarde libre.",
        ),
        ("Ich les mich ein.\n\nGruß Uwe", "Uwe Schröder <uwe@posteo.de>", "Ich les mich ein."),
        (
            "rien reçu.\n\nCordialement\nMonique Girard",
            "Monique Girard <m.girard@orange.fr>",
            "rien reçu.",
        ),
        (
            "volto ao assunto.\n\nUm beijinho e obrigada pela compreensão,\nMargarida",
            "Margarida Sousa <msousa@sapo.pt>",
            "volto ao assunto.",
        ),
    ],
)
def test_a_last_line_of_the_writer_s_own_name_goes_with_its_closing(
    text: str, sender: str, kept: str
) -> None:
    assert without_own_name(text, sender) == kept


@pytest.mark.parametrize(
    ("text", "sender"),
    [
        ("Sent it to Mara this morning", "Mara Steiner <mara@x.org>"),  # a sentence, not a name
        ("Done.\n\nAsk Mara?", "Mara Steiner <mara@x.org>"),  # a question
        ("Done.\n\nPeter", "Mara Steiner <mara@x.org>"),  # someone else's name: not ours to cut
        ("Mara", "Mara Steiner <mara@x.org>"),  # the name is all there is: kept
        ("Done.\n\nMara", "<>"),  # nobody named
    ],
)
def test_other_endings_stay(text: str, sender: str) -> None:
    assert without_own_name(text, sender) == text


def test_the_names_come_from_the_display_name_and_the_local_part() -> None:
    assert sender_names("José Díaz <pepe.diaz@x.es>") == {"jose", "diaz", "pepe"}
    assert sender_names("Valentina Rojas <vale.rojas@x.org>") == {"valentina", "rojas", "vale"}


def test_the_signature_block_under_the_name_goes_with_it() -> None:
    text = (
        "I do read every one.\n\nWith gratitude,\nRuth\n\nRev. Ruth Ellison\nSenior Pastor\n"
        "First Methodist Church\n(708) 555-0148 | fmcelmwood.org"
    )
    assert without_own_name(text, "Ruth Ellison <ruth@x.org>") == "I do read every one."


def test_a_corporate_footer_after_the_phone_number_goes_too() -> None:
    text = (
        "drehe mich im Kreis.\n\nGruss\nSimon\n\nSimon Hürlimann\nSenior Consultant | Alpsoft AG\n"
        "T +41 44 201 77 30\n\nBitte denken Sie an die Umwelt, bevor Sie dies ausdrucken."
    )
    assert without_own_name(text, "Simon Hürlimann <s@x.ch>") == "drehe mich im Kreis."


def test_a_postscript_after_the_name_is_the_writer_s_again() -> None:
    text = "gracias hijita.\n\nUn abrazo grande,\nGladys\n\nPD: Le mandé también una foto."
    kept = without_own_name(text, "Gladys Huamán <gladys@x.pe>")
    assert kept == "gracias hijita.\n\nPD: Le mandé también una foto."


def test_a_sentence_after_the_name_keeps_the_name_where_it_is() -> None:
    text = "Done.\n\nMara\n\nOh and I also called the bank, they said it is fine."
    assert without_own_name(text, "Mara Steiner <mara@x.org>") == text


def test_a_closing_line_left_dangling_at_the_end_goes() -> None:
    text = "sin estar encima.\n\nMil gracias,"
    assert without_own_name(text, "Martha Pardo <m@x.co>") == "sin estar encima."
    assert without_own_name("Mil gracias,", "Martha Pardo <m@x.co>") == "Mil gracias,"
