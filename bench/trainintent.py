"""Fit the learned reader (jobs.reading.learned) on the people corpus's tune split.

    python -m bench.trainintent [--people DIR] [--holdout PREFIX] [--write]

The frozen split is never read. Each tune case is read by the cue rules alone
(`read_reply(..., learned=False)`): the model learns from the client's words and from what the
rules made of them. `--holdout f_` fits on the tune cases whose name does not start with `f_`
and scores rules, model and the combined reader (jobs.reading.secondopinion) on those that do
— a batch the rules were never tuned on, so the figure says what a new batch would see.
`--write` fits on the whole tune split and writes jobs/reading/intent_weights.json.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.people import PeopleCase, load_cases
from jobs.reading.intent import Asked, IntentReading
from jobs.reading.learned import WEIGHTS_FILE, LearnedModel, Sample, features, train
from jobs.reading.reply import read_reply
from jobs.reading.secondopinion import second_opinion

DEFAULT_PEOPLE = Path(__file__).resolve().parents[1] / "tests/jobs/reading/people"


@dataclass(frozen=True, slots=True)
class RuleRead:
    """A tune case as the rules read it: enough to rebuild the combined reading."""

    name: str
    expected: str
    text: str
    language: str
    asked: tuple[Asked, ...]
    rules: IntentReading

    def sample(self) -> Sample:
        actions = [a.action for a in self.asked]
        found = features(self.text, self.language, actions, self.rules.intent)
        return Sample(found, self.expected)


def rule_reads(cases: Sequence[PeopleCase]) -> list[RuleRead]:
    reads = []
    for case in cases:
        if case.split != "tune" or case.expected.intent is None:
            continue
        asked = tuple(Asked(c.action, c.due) for c in case.context.commitments)
        got = read_reply(case.raw, zone=case.context.zone, asked=asked, learned=False)
        rules = IntentReading(
            got.intent or "note", got.new_due, got.pause_until, (), got.confidence
        )
        reads.append(
            RuleRead(case.name, case.expected.intent, got.text, got.language, asked, rules)
        )
    return reads


def holdout_report(reads: list[RuleRead], prefix: str) -> str:
    fitted = [r for r in reads if not r.name.startswith(prefix)]
    held = [r for r in reads if r.name.startswith(prefix)]
    if not held or not fitted:
        return f"no tune case on one side of the holdout prefix {prefix!r}"
    model = train([r.sample() for r in fitted])
    rules = sum(r.rules.intent == r.expected for r in held)
    alone = sum(_model_intent(model, r) == r.expected for r in held)
    combined = sum(_combined(model, r) == r.expected for r in held)
    n = len(held)
    return (
        f"fitted on {len(fitted)} tune cases, scored on {n} held out ({prefix}*):\n"
        f"  rules alone      {rules}/{n} {rules / n:.1%}\n"
        f"  model alone      {alone}/{n} {alone / n:.1%}\n"
        f"  combined reader  {combined}/{n} {combined / n:.1%}"
    )


def _model_intent(model: LearnedModel, read: RuleRead) -> str:
    posterior = model.posterior(read.sample().features)
    return max(posterior, key=lambda intent: posterior[intent])


def _combined(model: LearnedModel, read: RuleRead) -> str:
    return second_opinion(read.rules, read.text, read.language, read.asked, model).intent


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.trainintent", description=__doc__)
    parser.add_argument("--people", type=Path, default=DEFAULT_PEOPLE)
    parser.add_argument("--holdout", metavar="PREFIX")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    problems: list[str] = []
    reads = rule_reads(load_cases(args.people, problems))
    for problem in problems:
        print(f"problem: {problem}")
    if args.holdout:
        print(holdout_report(reads, args.holdout))
    if args.write:
        model = train([r.sample() for r in reads])
        WEIGHTS_FILE.write_text(model.to_json(), encoding="utf-8")
        print(
            f"wrote {WEIGHTS_FILE} ({WEIGHTS_FILE.stat().st_size // 1024} KB, {len(reads)} cases)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
