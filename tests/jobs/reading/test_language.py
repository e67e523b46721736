"""The language of a short reply, for lemmas: function words and letters of one language."""

from __future__ import annotations

import pytest

from jobs.reading.language import reply_language


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Gebucht, 14. Januar um 10:20 beim Amt.", "de"),
        ("Hat geklappt, abgehakt!", "de"),
        ("Não consegui nem começar.", "pt"),
        ("¡Listo! Ya está.", "es"),
        ("Déjà réglé hier.", "fr"),
        ("Sorted it out with them on the phone.", "en"),
        ("", "en"),
    ],
)
def test_short_replies_get_their_language(text: str, lang: str) -> None:
    assert reply_language(text) == lang
