"""Issue 15 item 13, the tone details: first names, one quotation style, a readable digest."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import templates
from jobs.composer import Composer
from jobs.state import first_name
from jobs.step import StepKind

TEMPLATES = Path(templates.__file__).parent
# What is not prose in a template: Jinja comments, statements and expressions, HTML tags.
_NOT_PROSE = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}|<[^>]*>", re.DOTALL)
HEADINGS = (
    "Replies since the last digest",
    "Done since the last digest",
    "Overdue",
    "Emails that did not, or may not, reach the client",
    "Gone quiet (coachd stopped emailing them; a personal word from you is next)",
)


def _digest_context(**sections: list[dict[str, object]]) -> dict[str, object]:
    empty: dict[str, list[dict[str, object]]] = {name: [] for name in _SECTIONS}
    return {"firm_name": "Northstar Coaching", "coach_name": "Maria Lopez"} | empty | sections


_SECTIONS: dict[str, list[dict[str, object]]] = {
    "replies": [
        {
            "client_name": "Ana Ruiz",
            "action": "draft the first page",
            "intent": "note",
            "moved": 1,
            "text": "Half of it.\nMore on Friday.",
        }
    ],
    "completed": [
        {"client_name": "Ben Carter", "action": "call three colleagues", "text": "Done!"},
        {"client_name": "Chloé Martin", "action": "book a mentor", "text": ""},
    ],
    "overdue": [{"client_name": "Dan Moss", "action": "update the CV", "days": 3, "moved": 0}],
    "undelivered": [
        {
            "client_name": "Eve Stone",
            "action": "walk daily",
            "text": "the reminder was not sent: their mailbox is full",
        }
    ],
    "quiet": [{"client_name": "Finn Cole", "action": "write the plan"}],
}


def _client_context(**overrides: object) -> dict[str, object]:
    return {
        "firm_name": "Northstar Coaching",
        "coach_name": "Maria Lopez",
        "client_name": "Ana",
        "action": "draft the first page",
        "why": "",
        "due_date": "Friday 4 December",
        "pause_until": "",
    } | overrides


def _prose_files() -> list[Path]:
    return sorted(p for p in TEMPLATES.rglob("*") if p.suffix in {".txt", ".html"})


@pytest.mark.parametrize("path", _prose_files(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_quote_only_with_typographic_marks(path: Path) -> None:
    """One quotation style: “ ” (and the language's own marks in de, fr and es), never a
    straight " or ' around words; apostrophes are typographic too (you’re, c’est)."""
    prose = _NOT_PROSE.sub(" ", path.read_text(encoding="utf-8"))
    assert '"' not in prose
    assert "'" not in prose


def test_english_emails_quote_the_clients_words_and_commands_alike() -> None:
    """The text and the HTML part of one email use the same marks."""
    context = _client_context(why="so the garden gets its funding", days_until_due=2, also=[])
    rendered = Composer().render(StepKind.REMINDER, context)
    for part in (rendered.text, rendered.html):
        assert "in your words: “so the garden gets its funding”" in part
        assert "Reply “stop” to stop these emails." in part


@pytest.mark.parametrize(
    ("name", "greeted"),
    [
        ("Ana Ruiz", "Ana"),
        ("Chloé Martin", "Chloé"),
        ("  Ben   Carter ", "Ben"),
        ("Ruiz, Ana", "Ana"),
        ("Madonna", "Madonna"),
        ("Dr. Ana Ruiz", "Dr. Ana Ruiz"),  # "Hi Dr.," would be worse than the full name
        ("J. R. Ruiz", "J. R. Ruiz"),
    ],
)
def test_a_client_without_a_greeting_name_is_greeted_by_their_first_name(
    name: str, greeted: str
) -> None:
    assert first_name(name) == greeted


def test_every_digest_heading_after_the_first_has_a_blank_line_before_it() -> None:
    rendered = Composer().render(StepKind.DIGEST, _digest_context(**_SECTIONS))
    lines = rendered.text.splitlines()
    positions = [lines.index(heading) for heading in HEADINGS]
    assert positions == sorted(positions)
    assert [lines[i - 1] for i in positions] == ["", "", "", "", ""]  # the first: the greeting's
    assert lines[positions[0] - 2] == "Hi Maria Lopez,"
    # A completion's words sit on their own line under it; one without words takes none.
    done = lines.index("  - Ben Carter: call three colleagues")
    assert lines[done + 1 : done + 3] == ["      Done!", "  - Chloé Martin: book a mentor"]


@pytest.mark.parametrize(
    "shown",
    [("overdue",), ("completed", "quiet"), ("replies", "undelivered"), ("quiet",)],
)
def test_a_digest_with_some_sections_has_one_blank_line_between_them(shown: tuple[str]) -> None:
    context = _digest_context(**{name: _SECTIONS[name] for name in shown})
    text = Composer().render(StepKind.DIGEST, context).text
    assert "\n\n\n" not in text
    assert text.startswith("Hi Maria Lopez,\n\n")
    body = text.split("\n\n", 1)[1].split("\n\nYou get this daily digest", 1)[0]
    assert len(body.split("\n\n")) == len(shown)  # one block per section, blank lines between


def test_a_confirmations_html_escapes_the_names_it_is_given() -> None:
    """Its wording comes from text macros (which do not escape): a name with "<" stays text."""
    context = _client_context(coach_name="<i>Maria</i>", client_name="<b>Ana</b>")
    context |= {"due_date": "Friday <4> December", "understood": "due", "lang": "en"}
    html = Composer().render(StepKind.ACK, context).html
    assert "<b>" not in html
    assert "<i>" not in html
    assert "Hi &lt;b&gt;Ana&lt;/b&gt;," in html
    assert "new date Friday &lt;4&gt; December" in html
