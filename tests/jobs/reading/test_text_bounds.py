"""Hostile bodies cost bounded time in the reply reader, and arbitrary text never breaks it."""

from __future__ import annotations

import re
import time
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.reading.text import body_text, new_words

# Well above what each case takes alone (under 0.3 s), so a busy shared machine does not
# fail it; a super-linear step (seconds to minutes on these inputs) still does.
PER_MESSAGE_SECONDS = 2.0
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
HUNDRED_KB = 100 * 1024
HEADERS = {
    "en": "On Mon, 16 Nov 2026 at 09:00, Sam <sam@example.com> wrote:",
    "de": "Am 25.11.2026 um 09:00 schrieb Sam <sam@example.com>:",
    "fr": "Le 25 nov. 2026 à 09:00, Sam <sam@example.com> a écrit :",
    "es": "El 25 nov 2026, a las 9:00, Sam <sam@example.com> escribió:",
    "pt": "Em 25 de nov. de 2026, às 09:00, Sam <sam@example.com> escreveu:",
    "nl": "Op 25 nov. 2026 om 09:00 schreef Sam <sam@example.com>:",
    "pl": "Dnia 25 listopada 2026 09:00 Sam <sam@example.com> napisał(a):",
    "ru": "25.11.2026 09:00 пользователь Sam <sam@example.com> написал:",
    "zh": "在 2026年11月25日 09:00\uff0cSam <sam@example.com> 写道\uff1a",
    "outlook": "From: Sam <sam@example.com>\nSent: Monday\nTo: Kim\nSubject: Re: x",
    "bare_on": "On ",
}


def _timed(text: str) -> float:
    start = time.perf_counter()
    new_words(text)
    return time.perf_counter() - start


@pytest.mark.parametrize("lang", sorted(HEADERS))
def test_repeated_quote_headers_are_linear(lang: str) -> None:
    """100 KB of one quote header repeated (the mail-parser-reply freeze) reads in bounded time."""
    header = HEADERS[lang]
    body = "Done.\n" + "\n".join([header] * (HUNDRED_KB // len(header)))
    assert _timed(body) < PER_MESSAGE_SECONDS
    assert _timed(header * (HUNDRED_KB // len(header))) < PER_MESSAGE_SECONDS


@pytest.mark.parametrize(
    "body",
    [
        "x" * (1024 * 1024),
        "On " * 400_000,
        " " * (1024 * 1024),
        ">" * 10_000 + " deep",
        "\n".join(">" * depth + " quoted" for depth in range(1, 10_001)),
        "12.11.2026 09:00 " * 50_000,
        "\n".join("12/11/2026 10:00 <a@b.c>:" for _ in range(20_000)),
        "From: a\n" * 50_000,
        "-----\n" * 50_000,
        "Best,\n" * 50_000,
        "\n" * 500_000,
    ],
    ids=["1mb_line", "on_repeated", "spaces", "deep_prefix", "deep_nesting", "dates",
         "date_headers", "labels", "rules", "signoffs", "blank_lines"],
)  # fmt: skip
def test_hostile_plain_bodies_are_bounded(body: str) -> None:
    """Huge lines, deep ">" nesting and date-like text read within the per-message bound."""
    assert _timed(body) < PER_MESSAGE_SECONDS


def test_huge_nested_html_is_bounded() -> None:
    """5 MB of nested divs (decoded and parsed only up to the caps) reads within the bound."""
    message = EmailMessage()
    depth = 5 * 1024 * 1024 // len("<div>")
    message.set_content("<div>" * depth + "hi", subtype="html")
    start = time.perf_counter()
    source, text = body_text(message)
    new_words(text)
    assert source == "html"
    assert time.perf_counter() - start < PER_MESSAGE_SECONDS


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.sampled_from([*"ab >:-,.\n@1<", "wrote:", "On ", "Best,", "-- ", "Maria"])))
def test_new_words_keeps_only_input_lines(tokens: list[str]) -> None:
    """Built from quote-ish tokens, new_words returns only lines that occur in the input."""
    _assert_lines_from_input("".join(tokens))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text())
def test_new_words_never_raises_and_only_keeps_input_lines(text: str) -> None:
    """Whatever the text, new_words never raises and returns lines that occur in the input."""
    _assert_lines_from_input(text)


def _assert_lines_from_input(text: str) -> None:
    """Every output line occurs in the input (control and bidi characters are dropped)."""
    result = new_words(text)
    visible = _INVISIBLE.sub("", text)
    assert [line for line in result.split("\n") if line.strip() not in visible] == []
