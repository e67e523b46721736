"""Kind: bounce before auto-reply before human reply, with the auto-reply cues per rule."""

from __future__ import annotations

import pytest

from jobs.reading.kind import classify_kind
from jobs.reading.parts import parse_message


def _message(subject: str, headers: str = "", sender: str = "ana@example.org") -> bytes:
    return (
        f"From: {sender}\r\nTo: reply+abc@reply.coachd.example\r\nSubject: {subject}\r\n{headers}"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n"
    ).encode()


@pytest.mark.parametrize(
    "subject",
    [
        "Automatisk svar: Your step",
        "Frånvaro",
        "Fraværsmelding",
        "Afwezig tot maandag",
        "Automatisch antwoord: Your step",
        "Risposta automatica: Your step",
        "Fuori sede",
        "Odpowiedź automatyczna",
        "Nieobecność",
    ],
)
def test_auto_reply_subjects_in_more_languages(subject: str) -> None:
    """Scandinavian, Dutch, Italian and Polish out-of-office subjects are auto-replies."""
    assert classify_kind(parse_message(_message(subject))).kind == "auto_reply"


@pytest.mark.parametrize("header", ["X-Autoresponder", "X-Autorespond", "X-Autosubmitted"])
def test_auto_reply_header_spellings(header: str) -> None:
    """Each vendor spelling marks an auto-reply."""
    raw = _message("Your step", headers=f"{header}: yes\r\n")
    assert classify_kind(parse_message(raw)).kind == "auto_reply"


def test_auto_response_suppress_is_not_an_auto_reply() -> None:
    """Outlook sets X-Auto-Response-Suppress on mail a person wrote."""
    raw = _message("Re: Your step", headers="X-Auto-Response-Suppress: All\r\n")
    assert classify_kind(parse_message(raw)).kind == "reply"


def test_bounce_wins_over_auto_reply_headers() -> None:
    """A daemon's notice with Auto-Submitted and X-Failed-Recipients is a bounce."""
    raw = (
        b"From: mailer-daemon@mx.example\r\nTo: reply+abc@reply.coachd.example\r\n"
        b"Subject: Mail delivery failed\r\nAuto-Submitted: auto-replied\r\n"
        b"X-Failed-Recipients: bo@example.net\r\nContent-Type: text/plain\r\n\r\n"
        b"The following address(es) failed:\r\n\r\n  bo@example.net\r\n    no such user\r\n"
    )
    kind = classify_kind(parse_message(raw))
    assert kind.kind == "bounce"
    assert kind.bounce is not None and kind.bounce.recipient == "bo@example.net"
