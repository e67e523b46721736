"""Each rule of the signature finder on a small hand-written example: sign-offs with and
without a name, bare names, contact blocks, phone footers, disclaimers, the "--" delimiter."""

from __future__ import annotations

import pytest

from jobs.reading import signatures


@pytest.mark.parametrize(
    "line",
    [
        "Best,",
        "Cheers",
        "Thanks, Priya",
        "Kind regards",
        "Viele Grüße",
        "Liebe Grüße und ein schönes Wochenende!",
        "Bien cordialement",
        "Un abrazo",
        "Com os melhores cumprimentos",
        "Met vriendelijke groet",
        "xx",
    ],
)
def test_signoffs(line: str) -> None:
    """Sign-offs in each language, alone or with a name or a short wish after them."""
    assert signatures.is_signoff(line)


@pytest.mark.parametrize(
    "line",
    [
        "Thanks for asking, the move went well.",
        "Best day of the week so far, honestly it was great",
        "Cheers?",
        "Grüße an alle:",
    ],
    ids=["sentence", "long_tail", "question", "colon"],
)
def test_sentences_opening_like_signoffs_are_not_signoffs(line: str) -> None:
    """A sentence that opens with a sign-off word, or asks, is still words."""
    assert not signatures.is_signoff(line)


@pytest.mark.parametrize(
    "line",
    ["Priya", "Julia Neumann", "Dr. Lena Ortiz, PsyD", "- Tomasz", "Ana da Silva", "N x"],
)
def test_bare_name_lines(line: str) -> None:
    """Short capitalised lines with particles, titles, a leading dash or kisses are names."""
    assert signatures.is_name(line)


@pytest.mark.parametrize(
    "line",
    ["Done", "Yes!", "Erledigt", "Feito", "Why not?", "went fine", "Room 12 booked", "y Marta"],
)
def test_answers_are_not_names(line: str) -> None:
    """One-word answers, questions, lower-case lines (even "y Marta", a particle and a name) and
    lines with digits are not names."""
    assert not signatures.is_name(line)


@pytest.mark.parametrize(
    "line",
    [
        "Sent from my iPhone",
        "Sent from my Galaxy, an AT&T phone",
        "Get Outlook for Android",
        "Von meinem iPad gesendet",
        "Enviado desde mi móvil",
        "Envoyé de mon iPhone",
        "Wysłane z mojego telefonu Samsung",
    ],
)
def test_phone_footers(line: str) -> None:
    """ "Sent from <device>" footers in several languages end the client's words."""
    assert signatures.is_footer(line)
    assert signatures.ends_words(line)


@pytest.mark.parametrize(
    "line",
    [
        "Sent from my desk, is much easier than my phone",
        "Sent from home today because the office is closed",
        "Sent from my iPhone " + "and a much longer sentence follows " * 3,
    ],
    ids=["desk", "no_device", "too_long"],
)
def test_sentences_about_sending_are_not_footers(line: str) -> None:
    """ "Sent from my desk, …" names no device early: it stays a sentence."""
    assert not signatures.is_footer(line)


@pytest.mark.parametrize(
    "line",
    [
        "This email is confidential.",
        "The content of this message is intended only for the named recipient and may be"
        " privileged.",
        "Diese E-Mail ist vertraulich.",
    ],
)
def test_disclaimers(line: str) -> None:
    """Legal lines: short ones that open like one, or long ones naming confidentiality."""
    assert signatures.is_disclaimer(line)


def test_remark_about_confidentiality_is_not_a_disclaimer() -> None:
    """A short remark that mentions confidential things is the client's."""
    assert not signatures.is_disclaimer("Keep it confidential please")


@pytest.mark.parametrize("line", ["--", "-- ", "—", "__"])
def test_delimiters(line: str) -> None:
    """The signature delimiter and its dash variants end the words."""
    assert signatures.is_delimiter(line)


def test_signature_starts_at_signoff_before_contact_block() -> None:
    """A sign-off, name, title and contact lines: the signature starts at the sign-off."""
    lines = [
        "Booked the venue.",
        "",
        "Best regards,",
        "Priya Raman",
        "Head of Events | Lumen Ltd",
        "+44 20 7946 0000",
        "www.lumen.example",
    ]
    assert signatures.signature_start(lines) == 2


def test_signature_starts_at_bare_name_after_a_sentence() -> None:
    """A bare name after a finished sentence starts the signature."""
    assert signatures.signature_start(["Booked the venue.", "Priya"]) == 1


def test_name_continuing_a_comma_is_not_a_signature() -> None:
    """A capitalised line after a comma continues the sentence ("…, Maria and me")."""
    assert signatures.signature_start(["I asked my neighbours,", "Maria Lopez"]) is None


def test_no_signature_in_plain_sentences() -> None:
    """Sentences only: no signature."""
    assert signatures.signature_start(["Booked it.", "Paid the deposit too."]) is None


def test_signature_is_only_searched_in_the_last_lines() -> None:
    """A name line far above the end is not a signature, however the tail looks."""
    lines = ["Hello.", "Priya", *["See below, all fine."] * 20]
    assert signatures.signature_start(lines) is None
