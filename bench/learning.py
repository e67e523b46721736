"""`python -m bench.learning`: does the learning loop raise the reply rate over the fixed
rotation? A simulated firm: clients with hidden per-question answer probabilities get the
same overdue prompts (same ladder, same depth rules) chosen by each policy.

Each client has one or two reasons they tend to answer (drawn from a skewed firm-wide mix,
so the firm's prior carries information), a per-question taste on top, and a base rate. A
prompt is answered with the chosen question's hidden probability. The rotation is
`choose_questions` as coachd runs it without `learn_questions`; the loop adds the Thompson
draws of jobs.choosing, learning from the client's and the firm's counts as they grow. The
oracle asks, within the same depth rules, the question this client is likeliest to answer:
the ceiling no policy can pass.

The same run then simulates the send hour (bench.sendhours): clients with hidden best hours
get overdue prompts at the fixed `send_at` or at the hour the loop draws (`learn_send_hour`).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from bench.sendhours import HOUR_POLICIES, run_hours
from jobs.choosing import Counts, sampled_scores
from jobs.questions import DEFAULT_BANK, Question, choose_questions, remember_questions

# The overdue ladder of the built-in profile, again for each new commitment: depths 1, 2, 3.
LADDER = (1, 4, 10)
REASON_MIX = {"partnering": 0.3, "why": 0.25, "resources": 0.2, "self_trust": 0.1,
              "risk": 0.05, "story": 0.1}  # fmt: skip
BASE_RATE = (0.05, 0.2)  # a client's rate for questions outside their reasons
PREFERRED_BOOST = (0.3, 0.5)  # on top of it, for their reasons' questions
TASTE = 0.1  # per question noise, either way
Chooser = Callable[["Client", int, str, "Firm"], Question]


@dataclass
class Client:
    client_id: str
    hidden: dict[str, float]  # question id -> chance of an answer
    asked: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    answered: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    last: str | None = None

    def counts(self) -> Counts:
        return Counts(self.asked, self.answered)


@dataclass
class Firm:
    asked: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    answered: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def counts(self) -> Counts:
        return Counts(self.asked, self.answered)


def population(size: int, rng: random.Random) -> list[Client]:
    reasons, weights = list(REASON_MIX), list(REASON_MIX.values())
    clients = []
    for n in range(size):
        liked = set(rng.choices(reasons, weights, k=rng.choice((1, 2))))
        base, boost = rng.uniform(*BASE_RATE), rng.uniform(*PREFERRED_BOOST)
        hidden = {q.id: _chance(base, boost if q.reason in liked else 0.0, rng)
                  for q in DEFAULT_BANK.questions}  # fmt: skip
        clients.append(Client(f"client-{n}", hidden))
    return clients


def _chance(base: float, boost: float, rng: random.Random) -> float:
    return min(0.95, max(0.01, base + boost + rng.uniform(-TASTE, TASTE)))


def rotation(client: Client, overdue_days: int, seed: str, firm: Firm) -> Question:
    return choose_questions(DEFAULT_BANK, overdue_days, client.last, 1, seed)[0]


def learning_loop(client: Client, overdue_days: int, seed: str, firm: Firm) -> Question:
    scores = sampled_scores(DEFAULT_BANK.questions, client.counts(), firm.counts(), seed)
    return choose_questions(DEFAULT_BANK, overdue_days, client.last, 1, seed, scores=scores)[0]


def oracle(client: Client, overdue_days: int, seed: str, firm: Firm) -> Question:
    return choose_questions(DEFAULT_BANK, overdue_days, client.last, 1, seed, scores=client.hidden)[
        0
    ]


POLICIES: dict[str, Chooser] = {"rotation": rotation, "loop": learning_loop, "oracle": oracle}


def simulate(policy: Chooser, clients: int, prompts: int, seed: int) -> float:
    """The reply rate of `policy` over `prompts` prompts to each of `clients` clients; the
    same seed gives every policy the same clients and the same coin for each prompt."""
    people = population(clients, random.Random(seed))  # noqa: S311 (a simulation)
    coins = random.Random(seed + 1)  # noqa: S311
    firm, answered = Firm(), 0
    for n in range(prompts):  # in rounds, so the firm's counts grow as the clients' do
        overdue_days = LADDER[n % len(LADDER)]
        for client in people:
            question = policy(client, overdue_days, f"{client.client_id}:{n}", firm)
            replied = coins.random() < client.hidden[question.id]
            for counts in (client, firm):
                counts.asked[question.id] += 1
                counts.answered[question.id] += replied
            client.last = remember_questions((question,))
            answered += replied
    return answered / (clients * prompts)


def run(clients: int, prompts: int, seed: int) -> dict[str, float]:
    rates = {name: round(simulate(p, clients, prompts, seed), 4) for name, p in POLICIES.items()}
    gain = rates["loop"] - rates["rotation"]
    return rates | {"gain_points": round(100 * gain, 1),
                    "gain_relative": round(gain / rates["rotation"], 3)}  # fmt: skip


def run_both(clients: int, prompts: int, seed: int) -> dict[str, object]:
    """The questions' figures, and the send hour's under "hours"."""
    return {**run(clients, prompts, seed), "hours": run_hours(clients, prompts, seed)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.learning", description=__doc__)
    parser.add_argument("--clients", type=int, default=300, help="simulated clients")
    parser.add_argument("--prompts", type=int, default=30, help="overdue prompts each")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run_both(args.clients, args.prompts, args.seed)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{args.clients} clients x {args.prompts} overdue prompts, seed {args.seed}")
    _print_rates("questions", result, POLICIES, "the rotation")
    hours = result["hours"]
    assert isinstance(hours, dict)
    _print_rates("send hour", hours, HOUR_POLICIES, "the fixed hour")
    return 0


def _print_rates(title: str, rates: dict[str, object], policies: Iterable[str], base: str) -> None:
    print(f"{title}:")
    for name in policies:
        print(f"  {name:<9} reply rate {rates[name]:.1%}")
    print(f"  gain      {rates['gain_points']:+.1f} points "
          f"({rates['gain_relative']:+.0%}) of the loop over {base}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
