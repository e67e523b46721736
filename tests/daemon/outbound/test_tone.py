"""Issue 15 item 13 on the real loop: greetings, notices the coach can answer, a plain digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from daemon.outbound.coachmail import schedule_all_digests
from jobs.composer import Composer
from tests.helpers.events import changed, created
from tests.helpers.loop import Loop

pytestmark = pytest.mark.integration

CLIENT, COACH = "ana@example.org", "maria@northstar.example"
REMINDER_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # Tuesday 09:00 Madrid
OVERDUE_1_AT = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)  # Friday 09:00 Madrid
OVERDUE_4_AT = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # Monday 09:00 Madrid
TUESDAY_DIGEST_AT = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # 17:00 Madrid


def text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def html(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("html",))
    assert body is not None
    return str(body.get_content())


def client_updated(event_id: str, at: datetime, **fields: Any) -> dict[str, Any]:
    event = changed("client.updated", event_id, at, **fields)
    del event["commitment_id"]
    return event | {"client_id": "ana"}


def reply(event_id: str, at: datetime, **fields: Any) -> dict[str, Any]:
    return changed("reply.received", event_id, at, source="smtp", **fields)


async def test_clients_are_greeted_by_first_name_and_addressed_by_full_name(loop: Loop) -> None:
    await loop.emit(created())
    await loop.consume()
    await loop.advance(REMINDER_AT)

    [reminder] = loop.messages
    assert text(reminder.message).startswith("Hi Ana,\n")
    assert "<p>Hi Ana,</p>" in html(reminder.message)
    assert str(reminder.message["To"]) == "Ana Ruiz <ana@example.org>"


async def test_a_greeting_name_is_used_kept_and_can_be_given_back(loop: Loop) -> None:
    """`greeting_name` (commitment.created's client, or client.updated) wins over the first
    name; a later event that does not mention it keeps it; an empty one gives it back."""
    first = created()
    first["client"]["greeting_name"] = "Dr. Ruiz"
    second = created("e-second", "c2", due="2026-12-10")  # no greeting_name: kept
    await loop.emit(first, second)
    await loop.consume()
    await loop.advance(REMINDER_AT)
    await loop.emit(client_updated("e-back", REMINDER_AT + timedelta(hours=1), greeting_name=""))
    await loop.consume()
    await loop.advance(OVERDUE_1_AT)

    greetings = [text(m.message).splitlines()[0] for m in loop.messages]
    assert greetings == ["Hi Dr. Ruiz,", "Hi Ana,"]


async def test_the_blocked_notice_gives_the_clients_address_and_answers_to_them(
    loop: Loop,
) -> None:
    await loop.emit(created())
    await loop.consume()
    await loop.advance(OVERDUE_1_AT)
    said_at = OVERDUE_1_AT + timedelta(hours=1)
    await loop.emit(reply("r1", said_at, kind="reply", intent="blocked", text="I'm stuck."))
    await loop.consume()
    await loop.advance(said_at)

    [notice] = [m.message for m in loop.messages if m.rcpt_tos == [COACH]]
    assert notice["Subject"].startswith("Ana Ruiz says something is in the way")
    assert str(notice["Reply-To"]) == CLIENT  # the coach's answer goes straight to Ana
    assert "Reply to this email to write to Ana Ruiz (ana@example.org)." in text(notice)
    assert '<a href="mailto:ana@example.org">ana@example.org</a>' in html(notice)


async def test_a_notice_about_a_bouncing_address_does_not_answer_to_it(loop: Loop) -> None:
    await loop.emit(created())
    await loop.consume()
    await loop.advance(REMINDER_AT)
    bounced_at = REMINDER_AT + timedelta(minutes=5)
    await loop.emit(reply("b1", bounced_at, kind="bounce", bounce_class="gone"))
    await loop.consume()
    await loop.advance(bounced_at)

    [notice] = [m.message for m in loop.messages if m.rcpt_tos == [COACH]]
    assert notice["Reply-To"] is None
    assert "Emails to Ana Ruiz (ana@example.org) bounce: a call may be" in text(notice)


async def test_the_gone_quiet_email_answers_to_the_client(loop: Loop) -> None:
    await loop.emit(created(profile="twice"))
    await loop.consume()
    for moment in (REMINDER_AT, OVERDUE_1_AT, OVERDUE_4_AT):
        await loop.advance(moment)

    quiet = loop.messages[-1].message
    assert loop.messages[-1].rcpt_tos == [COACH]
    assert text(quiet).startswith("Hi Maria Lopez,\n\nAna Ruiz has not answered")
    assert str(quiet["Reply-To"]) == CLIENT
    assert "Reply to this email to write to Ana Ruiz (ana@example.org)." in text(quiet)
    assert loop.messages[-1].mail_from == "coach@northstar.example"  # bounces reach a person


async def test_the_digest_says_in_plain_words_why_an_email_could_not_be_written(
    loop: Loop, tmp_path: Path
) -> None:
    """A coach's broken template: the digest says so; the exception (its class, its text,
    where the template lives) stays in the log and `last_error`."""
    folder = tmp_path / "maria-templates"
    (folder / "reminder").mkdir(parents=True)
    (folder / "reminder" / "subject.txt").write_text("{{ no_such_variable }}")
    loop.services._composers[None] = Composer(folder)
    await loop.emit(created())
    await loop.consume()
    await schedule_all_digests(loop.services)
    await loop.advance(REMINDER_AT)
    loop.services._composers[None] = Composer()  # the digest itself renders fine
    await loop.advance(TUESDAY_DIGEST_AT)

    [digest] = [m.message for m in loop.messages if m.rcpt_tos == [COACH]]
    words = " ".join(text(digest).split())
    assert (
        "Ana Ruiz: draft the grant proposal's first page (the reminder was not sent: its"
        " template has a mistake (details are in the operator log))"
    ) in words
    for raw in ("UndefinedError", "no_such_variable", "could not compose", str(tmp_path)):
        assert raw not in words
    assert "UndefinedError" in (await loop.commitment())["last_error"]
