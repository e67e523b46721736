"""A refused session event is counted under the reason class docs/operations.md gives it."""

from __future__ import annotations

import pytest

from tests.helpers.firm import START
from tests.helpers.loop import Loop

pytestmark = pytest.mark.integration


async def test_cancelling_a_session_never_booked_counts_as_an_unknown_reference(
    loop: Loop,
) -> None:
    """It names a session coachd does not have, like an unknown commitment: not `other`."""
    await loop.emit(
        {
            "version": 1,
            "event_id": "e-cancel",
            "occurred_at": START.isoformat(),
            "type": "session.cancelled",
            "session_id": "s9",
        }
    )
    await loop.consume()

    [letter] = await loop.dead_letters()
    assert letter["reason"] == "session s9 is not scheduled"
    registry = loop.services.metrics.registry
    counted = {
        reason: registry.get_sample_value("coachd_dead_letters_total", {"reason": reason})
        for reason in ("unknown_reference", "other")
    }
    assert counted == {"unknown_reference": 1.0, "other": 0.0}
