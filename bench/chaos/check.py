"""The verdict of a chaos run: every expected step against the sink's record and the ledger.

A step is the one prompt of one commitment (see bench.chaos.run); an email belongs to the
commitment its Message-ID's thread maps to in Redis (keys.thread), and to its recipient.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import redis

from bench.chaos.faults import Accepted
from daemon.outbound.ledger import IN_FLIGHT, Outcome, parse_entry
from daemon.store import keys

# <thread>.<seq>@<domain> (jobs.composer.thread_ids)
_MESSAGE_ID = re.compile(r"<(?P<thread>[^.@<>]+)\.(?P<seq>\d+)@[^<>]+>")
SCAN_COUNT = 1000
COACH_KINDS = ("notice", "digest")  # coach emails' ledger keys: sent:<kind>:<id>


@dataclass
class Verdict:
    """The figures of a run; the lists name the steps or ids behind each violation."""

    expected: int = 0
    delivered_once: int = 0
    unknown: int = 0
    unknown_delivered: int = 0  # recorded unknown, and the sink has it once
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    duplicate_ids: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # emails that map to no commitment
    ledger: dict[str, list[str]] = field(default_factory=dict)  # step -> its entries, if odd

    @property
    def violations(self) -> int:
        return len(self.lost) + len(self.doubled) + len(self.duplicate_ids) + len(self.stuck)


def ledger_entries(client: redis.Redis) -> dict[str, str]:
    """Every step ledger key (not the coach emails') with its value."""
    found: dict[str, str] = {}
    for key in client.scan_iter(match=keys.ledger_pattern("*"), count=SCAN_COUNT):
        name = key.decode()
        if name.split(":")[2] in COACH_KINDS:
            continue
        value = client.get(key)
        if isinstance(value, bytes):
            found[name] = value.decode()
    return found


def commitment_of(client: redis.Redis, message_id: str) -> str | None:
    match = _MESSAGE_ID.fullmatch(message_id)
    if match is None:
        return None
    raw = client.hget(*keys.thread(match["thread"]))
    return raw.decode() if isinstance(raw, bytes) else None


def judge(client: redis.Redis, expected: dict[str, str], accepted: list[Accepted]) -> Verdict:
    """`expected` maps each commitment id to its client's address."""
    entries = ledger_entries(client)
    per_step: dict[str, list[str]] = defaultdict(list)
    for key, value in entries.items():
        per_step[key.split(":")[2]].append(value)
    delivered, verdict = Counter[str](), Verdict(expected=len(expected))
    for message in accepted:
        owner = commitment_of(client, message.message_id)
        if owner is None or expected.get(owner) != message.rcpt:
            verdict.unmatched.append(f"{message.message_id} to {message.rcpt} ({owner})")
        if owner is not None:
            delivered[owner] += 1
    verdict.duplicate_ids = sorted(
        mid for mid, n in Counter(m.message_id for m in accepted).items() if n > 1
    )
    verdict.stuck = sorted(k for k, v in entries.items() if parse_entry(v).outcome in IN_FLIGHT)
    for commitment_id in sorted(expected):
        _judge_step(verdict, commitment_id, delivered[commitment_id], per_step[commitment_id])
    return verdict


def _judge_step(verdict: Verdict, step: str, delivered: int, values: list[str]) -> None:
    outcomes = {parse_entry(v).outcome for v in values}
    if len(values) != 1 or delivered > 1 or (delivered == 0 and Outcome.UNKNOWN not in outcomes):
        verdict.ledger[step] = values
    if Outcome.UNKNOWN in outcomes:
        verdict.unknown += 1
        verdict.unknown_delivered += delivered == 1
    if delivered > 1:
        verdict.doubled.append(step)
    elif delivered == 1:
        verdict.delivered_once += Outcome.UNKNOWN not in outcomes
    elif Outcome.UNKNOWN not in outcomes:
        verdict.lost.append(step)
