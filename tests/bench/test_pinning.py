"""Where the benchmark's SMTP sink and sender run: own cores when there are three, else shared."""

from __future__ import annotations

import os

import pytest

from bench.pinning import pinned, plan_pinning, usable_cpus


def test_three_cores_give_the_sink_and_the_sender_one_each_and_redis_the_rest() -> None:
    pinning = plan_pinning(frozenset({0, 1, 2, 3}))

    assert (pinning.sink, pinning.sender, pinning.rest) == ({0}, {1}, {2, 3})
    assert pinning.note == "SMTP sink pinned to CPU 0, sender to CPU 1, Redis to CPUs [2, 3]"


def test_two_cores_are_not_pinned_and_the_note_says_why() -> None:
    pinning = plan_pinning(frozenset({0, 1}))

    assert (pinning.sink, pinning.sender, pinning.rest) == (None, None, None)
    assert pinning.note == (
        "not pinned: 2 CPU(s) here, and the SMTP sink, the sender and Redis need 3 "
        "for the sink to have a core of its own (they share)"
    )
    assert plan_pinning(frozenset()).note == "not pinned: this platform cannot pin processes"


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="Linux pins processes")
def test_pinned_keeps_this_process_on_its_cores_for_the_block_only() -> None:
    before = usable_cpus()
    one = frozenset({min(before)})

    with pinned(one):
        assert usable_cpus() == one
    with pinned(None):
        assert usable_cpus() == before

    assert usable_cpus() == before
