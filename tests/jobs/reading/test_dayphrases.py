"""Day phrases people write when they move a step: amounts, week ends, tomorrow, and non-dates."""

from __future__ import annotations

from datetime import date

import pytest

from jobs.reading.dates import find_dates

TUESDAY = date(2026, 11, 24)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("give me twelve days from now", date(2026, 12, 6)),
        ("on se revoit dans huit jours", date(2026, 12, 1)),
        ("je le boucle dans quinze jours", date(2026, 12, 8)),
        ("in a fortnight should be fine", date(2026, 12, 8)),
        ("lo tengo dentro de quince días", date(2026, 12, 9)),
        ("fica pronto daqui a uma semana", date(2026, 12, 1)),
        ("in vierzehn Tagen", date(2026, 12, 8)),
        ("by the end of this week", date(2026, 11, 27)),
        ("aim for the end of next week", date(2026, 12, 4)),
        ("bis Ende nächster Woche", date(2026, 12, 4)),
        ("avant la fin de la semaine prochaine", date(2026, 12, 4)),
        ("a finales de la semana que viene", date(2026, 12, 4)),
        ("até o final da próxima semana", date(2026, 12, 4)),
        ("je m'en occupe demain", date(2026, 11, 25)),
        ("mando amanhã cedo", date(2026, 11, 25)),
        ("ich schaffe es erst übermorgen", date(2026, 11, 26)),
        ("até sexta eu termino", date(2026, 11, 27)),
    ],
)
def test_day_phrases_resolve(text: str, day: date) -> None:
    """Relative amounts, the end of a week and tomorrow resolve against the reply's day."""
    assert day in [hit.day for hit in find_dates(text, TUESDAY)]


@pytest.mark.parametrize(
    "text",
    [
        "sometime next week",
        "la semaine prochaine, peut-être",
        "na próxima semana eu vejo",
        "j'ai trouvé mon équilibre",
        "primeira sim, segunda não",
        "esta mañana hablé con ella",
        "Guten Morgen Anna",
        "it could take weeks",
    ],
)
def test_words_that_name_no_day(text: str) -> None:
    """'Next week' alone, the French 'mon', a Portuguese ordinal, 'this morning': no day."""
    assert find_dates(text, TUESDAY) == []


def test_a_deadline_word_makes_a_weekday_point_forward() -> None:
    """'Para el viernes' is a deadline even in a clause that also tells of the past."""
    hits = find_dates("Para el viernes ya la tengo lista, ya hablé con mi jefe", TUESDAY)
    assert [(h.day, h.explicit) for h in hits] == [(date(2026, 11, 27), True)]
