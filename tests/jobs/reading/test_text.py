"""new_words on small hand-written replies: every passage the client wrote stays (top, bottom,
interleaved, tagged answers), and history, signatures, footers and disclaimers go."""

from __future__ import annotations

import pytest

from jobs.reading.text import new_words

HEADER = "On Tue, 3 Nov 2026 at 08:15, Ines Coach <ines@coach.example> wrote:"
OUTLOOK = "From: Ines Coach <ines@coach.example>\nSent: Tuesday, 3 November 2026\nTo: Jo\n"


def _lines(*lines: str) -> str:
    return "\n".join(lines)


def test_top_posted_reply_drops_header_and_quote() -> None:
    """Words above "On … wrote:" and its ">" lines are all that is kept."""
    assert new_words(_lines("Posted the parcel.", "", HEADER, "> How did it go?")) == (
        "Posted the parcel."
    )


def test_bottom_posted_words_after_the_quote_stay() -> None:
    """Words under the quote are the client's."""
    body = _lines(HEADER, "> How did it go?", "", "Posted the parcel at noon.")
    assert new_words(body) == "Posted the parcel at noon."


def test_interleaved_passages_are_kept_in_order() -> None:
    """Answers between quoted lines are each kept, in order."""
    body = _lines(HEADER, "> Parcel?", "Posted.", "> And the call?", "Tomorrow at ten.")
    assert new_words(body) == "Posted.\n\nTomorrow at ten."


def test_outlook_block_is_history_to_the_end() -> None:
    """An Outlook header block followed by plain text: everything below it is history."""
    body = "Posted it.\n\n" + OUTLOOK + "\nHi Jo, how is the parcel going?\nInes"
    assert new_words(body) == "Posted it."


def test_localised_outlook_block_after_a_rule() -> None:
    """A rule above a German header block opens history."""
    body = _lines("Erledigt!", "", "-----", "Von: Ines", "Gesendet: Dienstag", "", "Wie läuft's?")
    assert new_words(body) == "Erledigt!"


def test_tagged_inline_answers_inside_unprefixed_history_are_kept() -> None:
    """Tagged answers written into Outlook's un-prefixed history are read, the rest is not."""
    body = (
        "See my answers below.\n\n"
        + OUTLOOK
        + "\nDid you post the parcel?\n[JO] Yes, on Monday.\n\nAnd book the call?\n"
        + "[JO] Not yet.\n"
    )
    assert new_words(body) == "See my answers below.\n\n[JO] Yes, on Monday.\n\n[JO] Not yet."


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (_lines("Posted it.", "", "Best,", "Jo"), "Posted it."),
        (_lines("Posted it.", "", "Cheers"), "Posted it."),
        (_lines("Posted it.", "Jo Park"), "Posted it."),
        (
            _lines("Posted it.", "", "Jo Park", "Analyst | Rivet Co", "+1 555 010 0199"),
            "Posted it.",
        ),
    ],
    ids=["signoff_with_name", "signoff_alone", "bare_name", "contact_block"],
)
def test_signatures_are_cut(body: str, expected: str) -> None:
    """Sign-offs (with or without a name), bare names and contact blocks end the words."""
    assert new_words(body) == expected


def test_signature_above_a_quote_header_is_cut() -> None:
    """The passage right above a quote header loses its signature too."""
    assert new_words(_lines("Posted it.", "Jo", "", HEADER, "> Parcel?")) == "Posted it."


def test_postscript_after_signature_is_kept() -> None:
    """A P.S. under the signature is the client's."""
    body = _lines("Posted it.", "", "Best,", "Jo", "", "P.S. It was heavy.")
    assert new_words(body) == "Posted it.\n\nP.S. It was heavy."


@pytest.mark.parametrize(
    ("footer", "expected"),
    [
        ("Sent from my iPhone", "Posted it."),
        ("Sent from my desk, is much easier than my phone", None),
    ],
    ids=["phone", "desk_sentence"],
)
def test_phone_footer_is_cut_but_a_sentence_stays(footer: str, expected: str | None) -> None:
    """A phone footer ends the words; "Sent from my desk, …" is a sentence and stays."""
    body = _lines("Posted it.", "", footer)
    assert new_words(body) == (expected or body)


def test_disclaimer_and_what_follows_are_cut() -> None:
    """A disclaimer paragraph ends the words."""
    body = _lines("Posted it.", "", "This email is confidential.", "Do not forward it.")
    assert new_words(body) == "Posted it."


def test_delimiter_cuts_until_the_next_quote() -> None:
    """After "-- " nothing is the client's until a quote; words after the quote are."""
    body = _lines("Posted it.", "-- ", "Jo Park, Rivet Co", HEADER, "> Parcel?", "Also paid.")
    assert new_words(body) == "Posted it.\n\nAlso paid."


def test_garbage_over_missing_when_every_rule_removes_everything() -> None:
    """A reply that is only a "signature" is kept unquoted rather than lost."""
    assert new_words(_lines("Thanks, Jo", "> Parcel?")) == "Thanks, Jo"


def test_only_quoted_text_reads_as_empty() -> None:
    """Nothing but ">" lines: no new words (the fallback never takes quoted lines)."""
    assert new_words(_lines("> Parcel?", "> Posted?")) == ""
