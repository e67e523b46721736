"""`coachd insights` on what the real loop recorded (real Redis and SMTP): text, JSON, HTML
with inline SVG charts, and the one line for a client with no emails."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest

from daemon.commands import EXIT_INVALID, EXIT_OK
from tests.helpers.cli import clean_environment, run_coachd
from tests.helpers.events import changed, created
from tests.helpers.loop import Loop

pytestmark = pytest.mark.integration

REMINDER_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # Tuesday 09:00 Madrid
OVERDUE_1_AT = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)  # Friday 09:00 Madrid


@pytest.fixture(autouse=True)
def operator_env(redis_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_environment(monkeypatch, tmp_path)
    monkeypatch.setenv("COACHD_REDIS_URL", redis_url)


async def two_clients(loop: Loop) -> None:
    """Ana answers her overdue email after 3 hours; Ben answers nothing."""
    await loop.emit(created(), created("e-ben", "b1", client_id="ben", email="ben@example.org"))
    await loop.consume()
    await loop.advance(REMINDER_AT)
    await loop.advance(OVERDUE_1_AT)
    answered_at = OVERDUE_1_AT + timedelta(hours=3)
    fields = {"kind": "reply", "source": "smtp", "intent": "note", "text": "Good question."}
    await loop.emit(changed("reply.received", "r1", answered_at, **fields))
    await loop.consume()


async def test_insights_give_the_firms_and_a_clients_rates_with_sample_sizes(
    loop: Loop, capsys: pytest.CaptureFixture[str]
) -> None:
    await two_clients(loop)
    code, out, _ = await run_coachd(capsys, "insights", "--json")
    firm = json.loads(out)["firm"]
    assert code == EXIT_OK
    assert firm["overall"] == {"key": "all", "sent": 4, "answered": 1, "rate": 0.25,
                               "median_hours": 3.0}  # fmt: skip
    assert [(t["key"], t["answered"], t["sent"]) for t in firm["by_client"]] == [
        ("ana", 1, 2), ("ben", 0, 2)]  # fmt: skip
    assert [(t["key"], t["sent"]) for t in firm["by_weekday"]] == [("Tue", 2), ("Fri", 2)]

    code, out, _ = await run_coachd(capsys, "insights", "--client", "ana")
    assert code == EXIT_OK
    assert "client ana: 50% of 2 email(s) answered" in out
    assert "firm: 25% of 4 email(s) answered" in out
    rows = [" ".join(line.split()) for line in out.splitlines()]
    assert "overdue 100% 1/1, median 3.0 h to answer (few emails)" in rows


async def test_the_html_report_draws_inline_svg_bars_and_loads_nothing(
    loop: Loop, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    await two_clients(loop)
    report = tmp_path / "insights.html"
    code, out, _ = await run_coachd(capsys, "insights", "--coach", "maria", "--html", str(report))
    html = report.read_text()
    assert (code, out) == (EXIT_OK, f"wrote {report}\n")
    assert html.count("<svg") >= 6 and "<h2>coach maria</h2>" in html
    assert "<script" not in html and "src=" not in html and "href=" not in html
    assert "<title>09:00" in html  # each bar says its numbers on hover
    for chart in re.findall(r"<svg.*?</svg>", html, re.DOTALL):
        ElementTree.fromstring(chart)  # well-formed SVG, whatever the labels hold


async def test_a_client_with_no_emails_is_one_line_and_exit_1(
    loop: Loop, capsys: pytest.CaptureFixture[str]
) -> None:
    await two_clients(loop)
    code, _, err = await run_coachd(capsys, "insights", "--client", "cleo")
    assert (code, err) == (
        EXIT_INVALID,
        "coachd: no emails recorded for client cleo (see `coachd insights`)\n",
    )


async def test_a_reply_later_than_within_days_counts_as_no_answer(
    loop: Loop, capsys: pytest.CaptureFixture[str]
) -> None:
    await two_clients(loop)  # Ana answered after 3 hours; Ben now answers after 50
    late = OVERDUE_1_AT + timedelta(hours=50)
    fields = {"kind": "reply", "source": "smtp", "intent": "note", "text": "Sorry, busy week."}
    await loop.emit(changed("reply.received", "r2", late, commitment_id="b1", **fields))
    await loop.consume()
    for days, answered in ((7, 2), (2, 1)):
        code, out, _ = await run_coachd(capsys, "insights", "--json", "--within-days", str(days))
        assert (code, json.loads(out)["firm"]["overall"]["answered"]) == (EXIT_OK, answered)
    with pytest.raises(SystemExit):
        await run_coachd(capsys, "insights", "--within-days", "0")
    assert "'0' is not a positive whole number" in capsys.readouterr().err
