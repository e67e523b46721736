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
