"""The chaos verdict: each step is delivered once, unknown, lost or doubled; ids and stuck keys."""

from __future__ import annotations

import redis

from bench.chaos.check import judge
from bench.chaos.faults import Accepted
from daemon.store import keys

DOMAIN = "reply.chaos.example"


def email(thread: str, seq: int, rcpt: str) -> Accepted:
    return Accepted(f"<{thread}.{seq}@{DOMAIN}>", rcpt, "bounces@x", 0.0)


def test_each_step_is_judged_against_the_sink_and_its_ledger_entry(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    expected = {f"c{n}": f"client{n}@example.org" for n in range(6)}
    ledger = ["sent", "unknown", "sent", "sent", "committing|a|1", "unknown"]
    for n, value in enumerate(ledger):
        client.hset(*keys.thread(f"thread{n:010d}"), f"c{n}")
        client.set(keys.ledger(f"c{n}", 1, "overdue-1d"), value)
    client.set(keys.sent("digest", "maria:1"), "claimed|a|1")  # a coach email: not a step
    accepted = [
        email("thread0000000000", 0, "client0@example.org"),  # once
        email("thread0000000001", 0, "client1@example.org"),  # unknown, delivered
        email("thread0000000003", 0, "client3@example.org"),  # doubled, ids unique
        email("thread0000000003", 1, "client3@example.org"),
        email("thread0000000004", 0, "client4@example.org"),  # stuck, twice the same id
        email("thread0000000004", 0, "client4@example.org"),
    ]  # c2: sent but never arrived (lost); c5: unknown, not delivered
    try:
        verdict = judge(client, expected, accepted)
    finally:
        client.close()

    assert (verdict.expected, verdict.delivered_once) == (6, 1)
    assert (verdict.unknown, verdict.unknown_delivered) == (2, 1)
    assert verdict.lost == ["c2"]
    assert verdict.doubled == ["c3", "c4"]
    assert verdict.duplicate_ids == [f"<thread0000000004.0@{DOMAIN}>"]
    assert verdict.stuck == [keys.ledger("c4", 1, "overdue-1d")]
    assert verdict.unmatched == []
