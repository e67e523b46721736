"""Score the reader on the people corpus, by split, language and class.

Format: tests/jobs/reading/people/CORPUS_FORMAT.md.

A case is `<root>/<split>/<lang>/<name>.eml` beside `<name>.json`. The frozen split is scored
like the tune split, but its failures are only listed on request, so tuning cannot peek.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bench.reading import Commitment, CommitmentReading, Context, Reader, Reading
from bench.score import (
    SOFT_SIMILARITY,
    Board,
    Column,
    Outcome,
    brief,
    brief_texts,
    normalise,
    similarity,
    timed_read,
)

SPLITS = ("tune", "frozen")
LANGS = ("en", "de", "fr", "es", "pt")
OVERALL = "overall"
COLUMNS = (
    Column("kind", "kind"),
    Column("intent", "intent"),
    Column("new_date", "new date"),
    Column("no_false_date", "false dates", misses=True),
    Column("pause", "pause"),
    Column("no_false_pause", "false pauses", misses=True),
    Column("text_exact", "text exact"),
    Column("text_soft", f"text ≥{SOFT_SIMILARITY}"),
    Column("per_commitment", "per commitment"),
)


@dataclass(frozen=True, slots=True)
class Expected:
    kind: str
    intent: str | None
    new_due: date | None
    pause_until: date | None
    text: str | None


@dataclass(frozen=True, slots=True)
class PeopleCase:
    root: Path
    split: str
    lang: str
    name: str
    raw: bytes
    cls: str
    context: Context
    expected: Expected
    per_commitment: tuple[CommitmentReading, ...] | None

    @property
    def ident(self) -> str:
        """'[corpus-a] tune/en/name': the folder above tests/ (else the root's name), the path."""
        parts = self.root.parts
        label = parts[parts.index("tests") - 1] if "tests" in parts[1:] else self.root.name
        return f"[{label}] {self.split}/{self.lang}/{self.name}"


@dataclass(frozen=True, slots=True)
class Miss:
    """One failed metric of one case: what the corpus expects and what the reader said."""

    metric: str
    expected: object
    got: object


@dataclass
class PeopleReport:
    boards: dict[str, Board] = field(
        default_factory=lambda: {s: Board() for s in (*SPLITS, OVERALL)}
    )
    misses: dict[str, list[tuple[PeopleCase, list[Miss]]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # files that could not be read as cases
    per_root: dict[str, int] = field(default_factory=dict)
    per_commitment_offered: bool = False


def score_people(roots: list[Path], reader: Reader) -> PeopleReport:
    """Read every case under `roots` with `reader`; tally per split and overall."""
    report = PeopleReport()
    for root in roots:
        cases = load_cases(root, report.problems)
        report.per_root[str(root)] = len(cases)
        for case in cases:
            reading, _ = timed_read(reader, case.raw, case.context)
            report.per_commitment_offered |= reading.per_commitment is not None
            outcome, misses = judge(case, reading)
            for board in (report.boards[case.split], report.boards[OVERALL]):
                for row in ("all", f"lang {case.lang}", f"class {case.cls}"):
                    board.add(row, outcome)
            if misses:
                report.misses.setdefault(case.split, []).append((case, misses))
    return report


def row_order(board: Board) -> list[str]:
    """'all', then languages in corpus order, then classes alphabetically."""
    langs = [f"lang {lang}" for lang in LANGS]
    others = sorted(r for r in board.sizes if r.startswith("lang ") and r not in langs)
    classes = sorted(r for r in board.sizes if r.startswith("class "))
    return ["all", *langs, *others, *classes]


def load_cases(root: Path, problems: list[str]) -> list[PeopleCase]:
    """Every readable case under root/<split>/<lang>/; what cannot be read goes to `problems`."""
    cases = []
    for split in SPLITS:
        for eml in sorted((root / split).glob("*/*.eml")):
            try:
                cases.append(_case(root, split, eml))
            except (OSError, ValueError, KeyError, TypeError, ZoneInfoNotFoundError) as exc:
                problems.append(f"{eml}: {type(exc).__name__}: {exc}")
    return cases


def _case(root: Path, split: str, eml: Path) -> PeopleCase:
    meta: dict[str, Any] = json.loads(eml.with_suffix(".json").read_text(encoding="utf-8"))
    exp = meta["expected"]
    commitments = tuple(
        Commitment(str(c["action"]), _day(c.get("due"))) for c in meta.get("commitments") or ()
    )
    zone = ZoneInfo(meta["zone"]) if meta.get("zone") else None
    per = meta.get("per_commitment")
    return PeopleCase(
        root=root, split=split, lang=str(meta.get("lang") or eml.parent.name), name=eml.stem,
        raw=eml.read_bytes(), cls=str(meta.get("class") or "?"),
        context=Context(zone=zone, commitments=commitments),
        expected=Expected(
            kind=str(exp["kind"]), intent=exp.get("intent"), new_due=_day(exp.get("new_due")),
            pause_until=_day(exp.get("pause_until")), text=exp.get("text"),
        ),
        per_commitment=None if per is None else tuple(
            CommitmentReading(p.get("intent"), _day(p.get("new_due"))) for p in per
        ),
    )  # fmt: skip


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def judge(case: PeopleCase, got: Reading) -> tuple[Outcome, list[Miss]]:
    """Each metric's verdict on one case, and the misses to list."""
    exp = case.expected
    wants_date = exp.intent == "reschedule" or exp.new_due is not None
    wants_pause = exp.pause_until is not None
    text_ok = soft_ok = None
    if exp.text is not None:
        text_ok = normalise(got.text) == normalise(exp.text)
        soft_ok = similarity(got.text, exp.text) >= SOFT_SIMILARITY
    outcome: dict[str, bool | tuple[bool, ...] | None] = {
        "kind": got.kind == exp.kind,
        "intent": None if exp.intent is None else got.intent == exp.intent,
        "new_date": got.new_due == exp.new_due if wants_date else None,
        "no_false_date": None if wants_date else got.new_due is None,
        "pause": got.pause_until == exp.pause_until if wants_pause else None,
        "no_false_pause": None if wants_pause else got.pause_until is None,
        "text_exact": text_ok,
        "text_soft": soft_ok,
        "per_commitment": _per_commitment(case.per_commitment, got.per_commitment),
    }
    shown = {
        "kind": (exp.kind, got.kind), "intent": (exp.intent, got.intent),
        "new_date": (exp.new_due, got.new_due), "no_false_date": (None, got.new_due),
        "pause": (exp.pause_until, got.pause_until), "no_false_pause": (None, got.pause_until),
        "text_exact": (exp.text, got.text),
        "per_commitment": (case.per_commitment, got.per_commitment),
    }  # fmt: skip
    misses = [
        Miss(metric, *shown[metric])
        for metric, verdict in outcome.items()
        if metric in shown
        and (verdict is False or (isinstance(verdict, tuple) and not all(verdict)))
    ]
    return outcome, misses


def _per_commitment(
    expected: tuple[CommitmentReading, ...] | None, got: tuple[CommitmentReading, ...] | None
) -> tuple[bool, ...] | None:
    """A verdict per expected commitment (intent and new date right), if both sides give them."""
    if expected is None or got is None:
        return None
    return tuple(i < len(got) and got[i] == want for i, want in enumerate(expected))


def miss_lines(entries: list[tuple[PeopleCase, list[Miss]]]) -> list[str]:
    """'  split/lang/name [class]: metric expected … got …' lines for a failure listing."""
    lines = []
    for case, misses in entries:
        lines.append(f"  {case.ident} [{case.cls}]")
        for miss in misses:
            want, got = brief(miss.expected), brief(miss.got)
            if isinstance(miss.expected, str) and isinstance(miss.got, str):
                want, got = brief_texts(miss.expected, miss.got)
            lines.append(f"      {miss.metric}: expected {want}  got {got}")
    return lines
