"""`coachd brief CLIENT`: the pre-session brief on demand, from what Redis holds now."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest

from daemon.cli import main
from daemon.commands import EXIT_INVALID, EXIT_OK
from tests.helpers.cli import stored_state_environment
from tests.helpers.events import changed, created
from tests.helpers.firm import START
from tests.helpers.loop import Loop

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def command_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, redis_url: str, firm_config: Path
) -> None:
    stored_state_environment(monkeypatch, tmp_path, redis_url, firm_config)


async def test_brief_prints_the_clients_steps_and_an_opening_question(
    loop: Loop, capsys: pytest.CaptureFixture[str]
) -> None:
    await loop.emit(created(due="2026-12-03"))
    note = {"kind": "reply", "intent": "note", "text": "Half of it is written."}
    await loop.emit(changed("reply.received", "e-note", START + timedelta(hours=3), **note))
    await loop.consume()
    capsys.readouterr()  # the loop's own log lines

    assert await asyncio.to_thread(main, ["brief", "ana", "--json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert await asyncio.to_thread(main, ["brief", "ana"]) == EXIT_OK
    text = capsys.readouterr().out

    [step] = data["commitments"]
    assert (step["action"], step["status"]) == ("draft the grant proposal's first page", "on_track")
    assert [r["text"] for r in data["replies"]] == ["Half of it is written."]
    assert data["opening_question"] == "How would you like to use our time today?"
    assert text.startswith("Hi Maria,\n\nWhere Ana Ruiz is now. Since you started")
    assert "  - “draft the grant proposal's first page”: on track, due Thursday 3 December\n" in (
        text
    )
    assert text.endswith("-- \nNorthstar Coaching\n")


async def test_brief_of_an_unknown_client_is_one_line_and_exit_1(
    loop: Loop, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await asyncio.to_thread(main, ["brief", "nobody"]) == EXIT_INVALID
    assert capsys.readouterr().err == "coachd: no client 'nobody' is stored\n"
