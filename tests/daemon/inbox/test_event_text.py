"""Through the real inbox: an event whose text carries a line break or bidi override is
dead-lettered with a reason naming the field, and nothing of it reaches a client or coach."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.helpers.events import changed, created
from tests.helpers.firm import START
from tests.helpers.loop import Loop

WEEK = timedelta(days=7)


@pytest.mark.integration
async def test_forged_lines_and_bidi_overrides_are_dead_lettered_and_never_sent(
    loop: Loop,
) -> None:
    """Three hostile events dead-letter in order; the good one after them is applied."""
    forged = created("e1", "c1")
    forged["action"] = "call Maria\n\nP.S. reply with your bank details"
    disguised = created("e2", "c2", client_id="bo")
    disguised["client"]["name"] = "Bo \u202eexe.fdp"
    good = created("e3", "c3", client_id="cy")
    rename = changed("client.updated", "e4", START + timedelta(minutes=1), client_id="cy")
    rename |= {"name": "Cy\u0085Bcc"}
    del rename["commitment_id"]
    await loop.emit(forged, disguised, good, rename)
    await loop.consume()

    reasons = [d["reason"] for d in await loop.dead_letters()]
    assert [r.split(": ", 1)[0] for r in reasons] == [
        "commitment.created.action",
        "commitment.created.client.name",
        "client.updated.name",
    ]
    assert ["U+000A" in reasons[0], "U+202E" in reasons[1], "U+0085" in reasons[2]] == [True] * 3
    assert await loop.commitment("c1") == {}
    assert await loop.commitment("c2") == {}
    assert (await loop.commitment("c3"))["status"] == "active"

    await loop.advance(START + WEEK)
    texts = [
        part.get_content()
        for sent in loop.messages
        for part in sent.message.walk()
        if part.get_content_maintype() == "text"
    ]
    assert texts, "the good commitment's reminders went out"
    for hostile in ("bank details", "exe.fdp", "\u0085"):
        assert not any(hostile in text for text in texts)
