"""Each rule of the quote finder on a small hand-written example: quote headers in every
language family, Outlook header blocks with localised labels, separators, tagged answers."""

from __future__ import annotations

import pytest

from jobs.reading import quotes


@pytest.mark.parametrize(
    "header",
    [
        "On Tue, 3 Nov 2026 at 08:15, Ines Coach <ines@coach.example> wrote:",
        "Am 03.11.2026 um 08:15 schrieb Ines Coach:",
        "Le mar. 3 nov. 2026 à 08:15, Ines a écrit :",
        "El mar, 3 nov 2026 a las 8:15, Ines escribió:",
        "Em ter., 3 de nov. de 2026 às 08:15, Ines escreveu:",
        "Op 3 nov. 2026 om 08:15 schreef Ines:",
        "Dnia 3.11.2026 o 08:15 Ines napisał(a):",
        "03.11.2026 08:15, Ines пишет:",
        "在 2026年11月3日 08:15\uff0cInes 写道\uff1a",
        "2026/11/03 8:15 Ines <ines@coach.example>:",
    ],
    ids=["en", "de", "fr", "es", "pt", "nl", "pl", "ru", "zh", "no_verb"],
)
def test_one_line_quote_headers_are_attributions(header: str) -> None:
    """A one-line "<date>, <name> wrote:" header in each language family starts on itself (the
    verb is what makes it one: only the no-verb header carries an address)."""
    assert quotes.attribution_span([header], 0) == 0


def test_wrapped_header_starts_where_it_opens() -> None:
    """A header wrapped over two lines starts on its "On …" line, not the line above."""
    lines = [
        "See you then.",
        "On Tue, 3 Nov 2026 at 08:15, Ines Coach",
        "<ines@coach.example> wrote:",
    ]
    assert quotes.attribution_span(lines, 2) == 1


@pytest.mark.parametrize(
    "line",
    [
        "I wrote: the plan is fine.",
        "My sister wrote:",
        "Tuesday at 8:15 works:",
        "On Tuesday I wrote the draft",
    ],
    ids=["colon_inside", "no_date_or_address", "no_verb_no_address", "no_colon"],
)
def test_sentences_are_not_attributions(line: str) -> None:
    """A sentence with "wrote" but no date/address, or without the final colon, is words."""
    assert quotes.attribution_span([line], 0) is None


@pytest.mark.parametrize(
    "block",
    [
        ["From: Ines Coach <ines@coach.example>", "Sent: Tuesday, 3 November 2026", "To: Jo"],
        ["Von: Ines Coach", "Gesendet: Dienstag, 3. November 2026", "An: Jo", "Betreff: x"],
        ["De : Ines Coach", "Envoyé : mardi 3 novembre 2026", "À : Jo", "Objet : x"],
        ["De: Ines Coach", "Enviado el: martes, 3 de noviembre", "Para: Jo", "Asunto: x"],
        ["De: Ines Coach", "Enviada em: terça-feira", "Para: Jo", "Assunto: x"],
        ["**From:** Ines Coach", "**Sent:** Tuesday", "**To:** Jo"],
        ["发件人: Ines", "发送时间: 2026年11月3日", "收件人: Jo"],
    ],
    ids=["en", "de", "fr", "es", "pt", "bold_markers", "zh"],
)
def test_outlook_header_blocks_with_localised_labels(block: list[str]) -> None:
    """Two known labels close together open an Outlook-style header block in each language."""
    assert quotes.is_header_block(block, 0)


def test_header_block_tolerates_blank_lines_between_labels() -> None:
    """HTML turned into text puts blank lines between the labels; still a header block."""
    assert quotes.is_header_block(["From: Ines", "", "Sent: Tuesday", "", "To: Jo"], 0)


@pytest.mark.parametrize(
    "lines",
    [
        ["From: the garden I picked beans", "and carrots"],
        ["To: do list", "water plants", "call mum", "Subject: later"],
        ["Note: done"],
    ],
    ids=["one_label", "labels_too_far_apart", "unknown_label"],
)
def test_lone_labels_are_not_header_blocks(lines: list[str]) -> None:
    """One label, or two far apart, is a client's line, not a header block."""
    assert not quotes.is_header_block(lines, 0)


@pytest.mark.parametrize(
    "line",
    [
        "-----Original Message-----",
        "----- Mail original -----",
        "------- Original Message -------",
        "Begin forwarded message:",
        "Anfang der weitergeleiteten Nachricht:",
        "________________________________",
    ],
    ids=["outlook", "zimbra_fr", "proton", "apple_forward", "apple_forward_de", "long_rule"],
)
def test_worded_rules_and_forward_openers_open_history(line: str) -> None:
    """Worded rules, forward openers and Outlook's long rule open history on their own."""
    assert quotes.is_opener([line, "anything"], 0)


def test_bare_rule_opens_history_only_above_a_header() -> None:
    """A short bare rule opens history above a header block, and is a divider otherwise."""
    assert quotes.is_opener(["-----", "From: Ines", "Sent: Tuesday"], 0)
    assert not quotes.is_opener(["-----", "Second part of my list"], 0)
    assert not quotes.is_opener(["-----"], 0)


@pytest.mark.parametrize(
    ("line", "tagged"),
    [
        ("[JO] Posted the letter", True),
        ("R: Enviei ontem", True),
        ("Antwort: Ja, erledigt", True),
        ("A: yes", True),
        ("Rosa: not yet", False),
        ("[link] below", True),
        ("[a very long bracket text here] x", False),
    ],
)
def test_tagged_inline_answers(line: str, tagged: bool) -> None:
    """Short bracket tags and "R:"/"A:"/"Antwort:" mark answers written into history."""
    assert quotes.is_inline_answer(line) is tagged


def test_quoted_lines_start_with_a_prefix() -> None:
    """Only lines whose first non-blank character is ">" are quoted."""
    assert quotes.is_quoted("  > old")
    assert not quotes.is_quoted("I scored > 80")
