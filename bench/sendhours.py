"""The send-hour half of `python -m bench.learning`: does learning the hour of overdue prompts
(`learn_send_hour`) raise the reply rate over the fixed hour (`send_at`)?

Each client has a hidden best hour, drawn from a skewed firm-wide mix (before work, lunch,
after work, evening: so the firm's prior carries information), a spread around it, a base
rate and a boost at their best hour. A prompt sent at hour h is answered with the client's
chance at h. The **fixed** policy sends at the built-in `send_at`, 09:00; the **loop** draws
the hour as coachd does (jobs.choosing.sampled_hour over the built-in window's hours, from the
client's and the firm's counts as they grow); the **oracle** sends at each client's best hour.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from jobs.cadence import CadenceProfile
from jobs.choosing import Counts, sampled_hour

_PROFILE = CadenceProfile()
WINDOW = tuple(range(_PROFILE.send_window.start.hour, _PROFILE.send_window.end.hour))
FIXED_HOUR = _PROFILE.send_at.hour
# Where clients' best hours fall across the firm (weights; the rest of the window is rarer).
PEAK_MIX = {8: 0.14, 9: 0.08, 12: 0.16, 13: 0.1, 17: 0.1, 18: 0.16, 19: 0.14}
OTHER_PEAK = 0.02
SPREAD = (1.0, 2.5)  # hours: how sharply a client's chance falls off around their best hour
BASE_RATE = (0.05, 0.2)  # their chance far from their best hour
PEAK_BOOST = (0.2, 0.45)  # on top of it, at their best hour
Policy = Callable[["Reader", str, "Tally"], int]


@dataclass
class Tally:
    asked: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    answered: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def counts(self) -> Counts:
        return Counts(self.asked, self.answered)

    def add(self, hour: int, replied: bool) -> None:
        self.asked[str(hour)] += 1
        self.answered[str(hour)] += replied


@dataclass
class Reader:
    """A simulated client: their hidden chance of answering a prompt sent at each hour."""

    client_id: str
    chance: dict[int, float]
    tally: Tally = field(default_factory=Tally)


def readers(size: int, rng: random.Random) -> list[Reader]:
    hours = list(WINDOW)
    weights = [PEAK_MIX.get(h, OTHER_PEAK) for h in hours]
    found = []
    for n in range(size):
        peak = rng.choices(hours, weights)[0]
        spread, base, boost = (
            rng.uniform(*SPREAD),
            rng.uniform(*BASE_RATE),
            rng.uniform(*PEAK_BOOST),
        )
        chance = {h: base + boost * math.exp(-(((h - peak) / spread) ** 2) / 2) for h in hours}
        found.append(Reader(f"client-{n}", chance))
    return found


def fixed(reader: Reader, seed: str, firm: Tally) -> int:
    return FIXED_HOUR


def learned(reader: Reader, seed: str, firm: Tally) -> int:
    hour = sampled_hour(WINDOW, reader.tally.counts(), firm.counts(), seed)
    assert hour is not None  # the window always has hours
    return hour


def best(reader: Reader, seed: str, firm: Tally) -> int:
    return max(reader.chance, key=reader.chance.__getitem__)


HOUR_POLICIES: dict[str, Policy] = {"fixed": fixed, "loop": learned, "oracle": best}


def simulate_hours(policy: Policy, clients: int, prompts: int, seed: int) -> float:
    """The reply rate of `policy` over `prompts` prompts to each of `clients` clients; the same
    seed gives every policy the same clients and the same coin for each prompt."""
    people = readers(clients, random.Random(seed))  # noqa: S311 (a simulation)
    coins = random.Random(seed + 1)  # noqa: S311
    firm, answered = Tally(), 0
    for n in range(prompts):  # in rounds, so the firm's counts grow as the clients' do
        for reader in people:
            hour = policy(reader, f"{reader.client_id}:{n}", firm)
            replied = coins.random() < reader.chance[hour]
            reader.tally.add(hour, replied)
            firm.add(hour, replied)
            answered += replied
    return answered / (clients * prompts)


def run_hours(clients: int, prompts: int, seed: int) -> dict[str, float]:
    rates = {
        name: round(simulate_hours(p, clients, prompts, seed), 4)
        for name, p in HOUR_POLICIES.items()
    }
    gain = rates["loop"] - rates["fixed"]
    return rates | {"gain_points": round(100 * gain, 1),
                    "gain_relative": round(gain / rates["fixed"], 3)}  # fmt: skip
