"""After a reschedule the confirmation asks for the client's plan, and their answer reaches the
coach's brief: real SMTP in and out, real Redis, the real `coachd brief` (issue 16)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from daemon.cli import main
from daemon.commands import EXIT_OK
from daemon.inbound.intake import ReplyIntake
from daemon.inbound.message import InboundMessage
from tests.helpers.cli import stored_state_environment
from tests.helpers.events import created
from tests.helpers.firm import firm_file
from tests.helpers.loop import Loop

pytestmark = pytest.mark.integration

DOMAIN = "reply.northstar.example"
DUE = "2026-12-04"  # a Friday: the reminder comes on Wednesday
REMINDER_AT = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # Wednesday 09:00 Madrid
MOVE_AT = REMINDER_AT + timedelta(hours=2)
PLAN_AT = MOVE_AT + timedelta(hours=1)
PLAN = "Thursday at 8 in the morning; first I’ll open the draft and write the heading."
PLANNING_PROFILE = """
[profiles.planning]
ask_plan_after_reschedule = true
"""


@pytest.fixture
def firm_config(tmp_path: Path) -> Path:
    """The test firm with a profile that asks for the plan after a reschedule."""
    return firm_file(tmp_path, PLANNING_PROFILE)


@pytest.fixture(autouse=True)
def command_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, redis_url: str, firm_config: Path
) -> None:
    stored_state_environment(monkeypatch, tmp_path, redis_url, firm_config)


def answer(to: EmailMessage, words: str, message_id: str, at: datetime) -> InboundMessage:
    reply = EmailMessage()
    reply["From"] = "Ana Ruiz <ana@example.org>"
    reply["To"] = to["Reply-To"]
    reply["Subject"] = f"Re: {to['Subject']}"
    reply["Date"] = at.strftime("%a, %d %b %Y %H:%M:%S +0000")
    reply["Message-ID"] = message_id
    reply["In-Reply-To"] = to["Message-ID"]
    reply.set_content(f"{words}\n\nAna\n")
    return InboundMessage(reply.as_bytes(), (str(to["Reply-To"]),), "smtp")


def text(loop: Loop, index: int) -> str:
    body = loop.messages[index].message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


async def replied(
    loop: Loop, intake: ReplyIntake, words: str, message_id: str, at: datetime
) -> None:
    loop.traveller.move_to(at)
    await intake(answer(loop.messages[-1].message, words, message_id, at))
    await loop.consume()
    await loop.advance(at + timedelta(minutes=5))


async def moved_and_confirmed(loop: Loop, profile: str | None) -> ReplyIntake:
    await loop.emit(created(due=DUE, profile=profile))
    await loop.consume()
    await loop.advance(REMINDER_AT)
    intake = ReplyIntake(loop.redis, loop.services.signing_key, DOMAIN)
    words = "I need a bit more time: I will have it done by Friday 11 December."
    await replied(loop, intake, words, "<move-1@mail.example.org>", MOVE_AT)
    return intake


async def test_the_plan_asked_for_after_a_reschedule_is_in_the_coachs_brief(
    loop: Loop, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reschedule reply → confirmation with the plan question → plan reply (no email back) →
    `coachd brief` shows the plan in Ana's words."""
    intake = await moved_and_confirmed(loop, "planning")

    assert len(loop.messages) == 2  # the reminder, then the confirmation
    confirmation = text(loop, 1)
    assert "Got it: new date Friday 11 December." in confirmation
    assert "when exactly will you start, and what will the first step be?" in confirmation
    assert (await loop.commitment())["plan_asked"] == "1"

    await replied(loop, intake, PLAN, "<plan-1@mail.example.org>", PLAN_AT)

    assert len(loop.messages) == 2  # a plan is a note: no answer, nothing counts on a cap
    state = await loop.commitment()
    assert (state["plan"], "plan_asked" in state, state["due_date"]) == (PLAN, False, "2026-12-11")
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["brief", "ana"]) == EXIT_OK
    brief = capsys.readouterr().out
    assert brief.startswith("Hi Maria,\n")
    assert "    moved 1 time (to Friday 11 December)\n" in brief
    assert "you could ask when exactly" not in brief  # she gave her plan already
    assert f"    plan: “{PLAN}”\n" in brief


async def test_without_the_profile_key_the_confirmation_asks_nothing_and_a_note_is_no_plan(
    loop: Loop,
) -> None:
    intake = await moved_and_confirmed(loop, None)

    assert "Got it: new date Friday 11 December." in text(loop, 1)
    assert "first step" not in text(loop, 1)
    await replied(loop, intake, PLAN, "<plan-1@mail.example.org>", PLAN_AT)
    assert "plan" not in await loop.commitment()


async def test_a_second_move_in_answer_to_the_question_is_the_plan_and_is_not_asked_again(
    loop: Loop,
) -> None:
    """ "I'll have it done by Thursday" answers "when exactly" and moves the date: the new
    confirmation says the new date and does not ask for the plan they have just given."""
    intake = await moved_and_confirmed(loop, "planning")
    words = "I’ll have it done by Thursday 10 December, starting with the outline at 8."
    await replied(loop, intake, words, "<plan-1@mail.example.org>", PLAN_AT)

    assert len(loop.messages) == 3
    assert "Got it: new date Thursday 10 December." in text(loop, 2)
    assert "first step" not in text(loop, 2)
    assert (await loop.commitment())["plan"] == words
