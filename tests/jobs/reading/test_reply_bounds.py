"""Hostile messages read whole (headers, MIME, quotes, signatures, intent, dates) within a
per-message time bound: no crafted email can hold the reader (and so the daemon) for long."""

from __future__ import annotations

import time
from email.message import EmailMessage

import pytest

from jobs.reading.intent import Asked
from jobs.reading.reply import read_reply

# Generous for a shared, noisy machine: each case reads in well under 0.5 s here.
BOUND_S = 2.0
HEADERS = (
    "On Mon, 30 Nov 2026 at 09:00, Sam <sam@example.org> wrote:",
    "Am 30.11.2026 um 09:00 schrieb Sam <sam@example.org>:",
    "Le lun. 30 nov. 2026 à 09:00, Sam <sam@example.org> a écrit :",
    "El lun, 30 nov 2026 a las 9:00, Sam (<sam@example.org>) escribió:",
    "Em seg., 30 de nov. de 2026 às 09:00, Sam <sam@example.org> escreveu:",
)


def _message(body: str, *, html: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = "Ana <ana@example.org>"
    message["To"] = "reply+abcdefghijklmnop@reply.example"
    message["Subject"] = "Re: Your next step"
    message["Date"] = "Tue, 01 Dec 2026 10:00:00 +0100"
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message.as_bytes()


HOSTILE = {
    **{f"quote_headers_{i}": "\n".join([header] * 3000) for i, header in enumerate(HEADERS)},
    "repeated_on": "On " * 20_000,
    "megabyte_line": "x" * 1_000_000,
    "deep_nesting": "\n".join(">" * depth + " done" for depth in range(1, 5000)),
    "date_like": " ".join(["next Friday 3 December 2026, 12/12, in two weeks"] * 2000),
    "signoff_flood": "\n".join(["Best,", "Maria", "-- "] * 5000),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_body_is_read_within_the_bound(name: str) -> None:
    raw = _message(HOSTILE[name])
    started = time.perf_counter()
    reading = read_reply(raw, asked=(Asked("post the application"),))
    elapsed = time.perf_counter() - started
    assert elapsed < BOUND_S, f"{name}: {elapsed:.2f} s"
    assert reading.kind in ("reply", "auto_reply", "bounce")


def test_huge_html_is_read_within_the_bound() -> None:
    html = "<div>" * 200_000 + "done" + "</div>" * 200_000
    started = time.perf_counter()
    read_reply(_message("", html=html))
    assert time.perf_counter() - started < BOUND_S


def test_many_parts_are_read_within_the_bound() -> None:
    message = EmailMessage()
    message["From"] = "Ana <ana@example.org>"
    message.set_content("done")
    for number in range(2000):
        message.add_attachment(
            b"x" * 10, maintype="application", subtype="octet-stream", filename=f"{number}.bin"
        )
    started = time.perf_counter()
    read_reply(message.as_bytes())
    assert time.perf_counter() - started < BOUND_S
