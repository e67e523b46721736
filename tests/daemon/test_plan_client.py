"""`coachd plan --client ID`: a stored client's timelines with the cadence they set by reply."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from daemon.cli import main
from daemon.commands import EXIT_INVALID, EXIT_OK
from tests.helpers.cli import stored_state_environment
from tests.helpers.events import changed, created
from tests.helpers.firm import START
from tests.helpers.loop import Loop

pytestmark = pytest.mark.integration

FRIDAY = 4
NOON = 12


@pytest.fixture(autouse=True)
def command_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, redis_url: str, firm_config: Path
) -> None:
    stored_state_environment(monkeypatch, tmp_path, redis_url, firm_config)


async def test_plan_client_previews_the_timeline_with_the_clients_own_cadence(
    loop: Loop, capsys: pytest.CaptureFixture[str]
) -> None:
    await loop.emit(created(due="2026-12-09"))  # a Wednesday: the coach's ladder is Mon/Thu/…
    asked = {"kind": "reply", "intent": "note", "text": "Only Friday mornings, please.",
             "cadence": {"days": [FRIDAY], "part": "morning"}}  # fmt: skip
    await loop.emit(changed("reply.received", "e-cadence", START + timedelta(hours=1), **asked))
    await loop.consume()
    capsys.readouterr()
    now = ["--now", (START + timedelta(hours=2)).isoformat()]

    assert await asyncio.to_thread(main, ["plan", "--client", "ana", "--json", *now]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert await asyncio.to_thread(main, ["plan", "--client", "ana", *now]) == EXIT_OK
    text = capsys.readouterr().out

    assert data["cadence"] == {"days": [FRIDAY], "part": "morning"}
    [timeline] = data["commitments"]
    local = [datetime.fromisoformat(s["local"]) for s in timeline["steps"]]
    assert local and all(t.weekday() == FRIDAY and t.hour < NOON for t in local)
    assert timeline["steps"][0]["local"] == "2026-12-04T09:00:00+01:00"  # Madrid's own time
    assert [s["step"] for s in timeline["steps"]] == ["reminder-2d", "overdue-1d", "overdue-9d"]
    assert text.startswith("Client 'ana' (Europe/Madrid), cadence: Fridays; mornings\n")
    assert "c1: due Wednesday 09 December 2026, profile 'standard'" in text
    assert "reminder-2d   reminder  Fri 2026-12-04 09:00 CET" in text


async def test_plan_client_of_an_unknown_client_is_one_line_and_exit_1(
    loop: Loop, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await asyncio.to_thread(main, ["plan", "--client", "nobody"]) == EXIT_INVALID
    assert capsys.readouterr().err == "coachd: no client 'nobody' is stored\n"


def test_plan_without_a_due_date_or_a_client_says_what_it_needs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["plan", "--timezone", "Europe/Madrid"]) == EXIT_INVALID
    assert capsys.readouterr().err == "coachd: plan needs --due and --timezone, or --client ID\n"
