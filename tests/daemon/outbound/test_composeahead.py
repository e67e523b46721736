"""Emails composed ahead (daemon.outbound.composeahead, daemon.outbound.lookahead) on real
Redis and SMTP: kept for steps due soon, sent as kept when nothing changed, byte for byte
what the due-time path composes, and composed again when anything they depend on changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from daemon.outbound import lookahead
from daemon.outbound.composeahead import Precomposed
from daemon.outbound.lookahead import LookAhead
from daemon.store import keys
from tests.helpers.events import created
from tests.helpers.loop import Loop

pytestmark = pytest.mark.integration

REMINDER_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # due Thursday 3 December (Madrid)
LOOK_AHEAD_S = 60


def used(loop: Loop, use: str) -> float:
    value = loop.services.metrics.registry.get_sample_value(
        "coachd_emails_composed_ahead_total", {"use": use}
    )
    return value or 0.0


async def kept_keys(loop: Loop) -> list[bytes]:
    return sorted(await loop.redis.keys(keys.precomposed("*")))


@pytest.fixture
async def planned(loop: Loop) -> Loop:
    loop.services.compose_ahead_s = LOOK_AHEAD_S
    await loop.emit(created())
    await loop.consume()
    return loop


async def test_a_step_due_within_the_look_ahead_is_kept_once_and_sent_as_kept(
    planned: Loop,
) -> None:
    loop, look_ahead = planned, LookAhead(planned.services)
    loop.traveller.move_to(REMINDER_AT - timedelta(seconds=30))

    assert await look_ahead.sweep() == 1
    assert await look_ahead.sweep() == 0  # kept already
    [key] = await kept_keys(loop)
    kept = Precomposed.decode(await loop.redis.get(key))
    assert kept is not None and kept.recipient == "ana@example.org"
    assert loop.messages == []  # composing sends nothing

    await loop.advance(REMINDER_AT)

    [sent] = loop.messages
    assert used(loop, "kept") == used(loop, "used") == 1
    assert sent.content.replace(b"\r\n", b"\n") == kept.message.replace(b"\r\n", b"\n")


async def test_a_kept_email_is_byte_for_byte_the_one_composed_when_due(planned: Loop) -> None:
    loop = planned
    loop.traveller.move_to(REMINDER_AT - timedelta(seconds=30))
    assert await LookAhead(loop.services).sweep() == 1
    [key] = await kept_keys(loop)
    kept = Precomposed.decode(await loop.redis.get(key))
    assert kept is not None
    await loop.redis.delete(key)  # so the due-time path composes it itself

    await loop.advance(REMINDER_AT)

    [sent] = loop.messages
    assert used(loop, "used") == 0
    assert sent.content.replace(b"\r\n", b"\n") == kept.message.replace(b"\r\n", b"\n")


async def test_a_step_further_away_than_the_look_ahead_is_not_composed(planned: Loop) -> None:
    loop = planned
    loop.traveller.move_to(REMINDER_AT - timedelta(seconds=LOOK_AHEAD_S + 30))

    assert await LookAhead(loop.services).sweep() == 0
    assert await kept_keys(loop) == []


async def test_a_client_record_changed_after_composing_gets_the_email_composed_again(
    planned: Loop,
) -> None:
    """A change to the client that leaves the commitment's version as it was (another of
    their commitments' emails, a reply to it): only the fingerprint can tell."""
    loop = planned
    loop.traveller.move_to(REMINDER_AT - timedelta(seconds=30))
    assert await LookAhead(loop.services).sweep() == 1
    await loop.redis.hset(keys.client("ana"), "name", "Anabel Ruiz")  # type: ignore[misc]

    await loop.advance(REMINDER_AT)

    [sent] = loop.messages
    assert used(loop, "used") == 0
    assert "Anabel Ruiz" in str(sent.message["To"])


async def test_coach_files_reloaded_after_composing_get_the_email_composed_again(
    planned: Loop,
) -> None:
    loop = planned
    loop.traveller.move_to(REMINDER_AT - timedelta(seconds=30))
    assert await LookAhead(loop.services).sweep() == 1
    config = loop.services.config
    renamed = config.model_copy(update={"firm": config.firm.model_copy(update={"name": "Ns2"})})
    loop.services.replace_config(renamed)

    await loop.advance(REMINDER_AT)

    [sent] = loop.messages
    assert used(loop, "used") == 0
    assert "Ns2" in str(sent.message["From"])


async def test_a_damaged_kept_email_is_composed_live(planned: Loop) -> None:
    loop = planned
    loop.traveller.move_to(REMINDER_AT - timedelta(seconds=30))
    assert await LookAhead(loop.services).sweep() == 1
    [key] = await kept_keys(loop)
    await loop.redis.set(key, b"pre1\nnot enough lines")

    await loop.advance(REMINDER_AT)

    [sent] = loop.messages
    assert used(loop, "used") == 0
    assert sent.rcpt_tos == ["ana@example.org"]


async def test_with_compose_ahead_off_a_kept_email_is_not_used(planned: Loop) -> None:
    """Turned off (a reload of the setting, a rollback), the due-time path composes live."""
    loop = planned
    loop.traveller.move_to(REMINDER_AT - timedelta(seconds=30))
    assert await LookAhead(loop.services).sweep() == 1
    loop.services.compose_ahead_s = 0

    await loop.advance(REMINDER_AT)

    [sent] = loop.messages
    assert used(loop, "used") == 0
    assert sent.rcpt_tos == ["ana@example.org"]


def test_a_kept_email_survives_its_encoding_and_anything_else_is_refused() -> None:
    email = Precomposed("f" * 32, "ana@example.org", ("help", "gain"), b"Subject: x\r\n\r\nhi\n")

    assert Precomposed.decode(email.encode()) == email
    assert Precomposed.decode(b"pre0\n" + email.encode()[5:]) is None
    assert Precomposed.decode(b"") is None


async def test_sweeps_page_past_what_they_kept_until_every_step_due_soon_is_kept(
    loop: Loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lookahead, "MAX_PER_SWEEP", 2)
    monkeypatch.setattr(lookahead, "PAGE", 3)  # a sweep stops mid-page
    loop.services.compose_ahead_s = LOOK_AHEAD_S
    steps = 5
    for n in range(steps):  # clients of their own: no email rides along another's
        await loop.emit(
            created(f"e-{n}", f"c{n}", client_id=f"client{n}", email=f"client{n}@example.org")
        )
    await loop.consume()
    loop.traveller.move_to(REMINDER_AT - timedelta(seconds=30))
    look_ahead = LookAhead(loop.services)

    assert [await look_ahead.sweep() for _ in range(4)] == [2, 2, 1, 0]
    assert len(await kept_keys(loop)) == steps

    await loop.advance(REMINDER_AT)
    assert len(loop.messages) == steps
    assert used(loop, "used") == steps
