"""claim_once: what a run may do given what an earlier run left in the send ledger."""

from __future__ import annotations

import pytest
import time_machine
from redis.asyncio import Redis

from daemon.errors import RetryLater
from daemon.outbound.ledger import LedgerEntry, Outcome, SendLedger
from daemon.outbound.sendonce import Claim, claim_once
from daemon.store.pipelining import AutoPipeline
from tests.helpers.firm import START

pytestmark = pytest.mark.integration

KEY = "coachd:sent:notice:n-1"
LEASE_MS = 10_000
NOW_MS = int(START.timestamp() * 1000)


@pytest.fixture
def ledger(redis: Redis) -> SendLedger:
    return SendLedger(redis, AutoPipeline(redis), lease_ms=LEASE_MS)


async def committed(ledger: SendLedger, claimed_at_ms: int) -> None:
    assert await ledger.claim(KEY, "earlier", claimed_at_ms) is None
    commit = ledger.commit_point(KEY, "earlier", claimed_at_ms)
    await commit.prepare()
    commit.write()
    await commit.confirm()


async def test_a_free_key_is_claimed_for_a_new_attempt(ledger: SendLedger) -> None:
    with time_machine.travel(START, tick=False):
        claim = await claim_once(ledger, KEY)
    assert isinstance(claim, Claim)
    assert claim.claimed_at_ms == NOW_MS
    entry = await ledger.peek(KEY)
    assert entry == LedgerEntry(Outcome.CLAIMED, claim.attempt, NOW_MS)


async def test_a_commit_mark_within_its_lease_is_waited_for(ledger: SendLedger) -> None:
    """Its run may be waiting for the server's reply: it records the outcome, not us."""
    await committed(ledger, NOW_MS - 4_000)
    with time_machine.travel(START, tick=False), pytest.raises(RetryLater) as retry:
        await claim_once(ledger, KEY)
    assert retry.value.defer_s == (LEASE_MS - 4_000) / 1000


async def test_a_commit_mark_past_its_lease_is_returned_to_settle(ledger: SendLedger) -> None:
    await committed(ledger, NOW_MS - LEASE_MS - 1)
    with time_machine.travel(START, tick=False):
        previous = await claim_once(ledger, KEY)
    assert isinstance(previous, LedgerEntry)
    assert (previous.outcome, previous.attempt) == (Outcome.COMMITTING, "earlier")


@pytest.mark.parametrize("outcome", [Outcome.SENT, Outcome.FAILED, Outcome.UNKNOWN])
async def test_a_settled_email_is_returned_as_it_is(ledger: SendLedger, outcome: Outcome) -> None:
    assert await ledger.claim(KEY, "earlier", NOW_MS) is None
    assert await ledger.finish(KEY, "earlier", NOW_MS, outcome)
    with time_machine.travel(START, tick=False):
        assert await claim_once(ledger, KEY) == LedgerEntry(outcome)
