"""Score the reader on public fixture corpora: reply texts (talon, email_reply_parser,
mail-parser-reply) and bounces (sisimai's set-of-emails)."""

from __future__ import annotations

import email
import re
from collections import Counter
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

from bench.bouncefixtures import BounceCase, load_sisimai
from bench.reading import Context, Reader, Reading
from bench.score import (
    SLOW_SECONDS,
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
from bench.textfixtures import (
    TextCase,
    load_email_reply_parser,
    load_mail_parser_reply,
    load_talon,
)

TEXT_COLUMNS = (
    Column("kind", "kind=reply"),
    Column("text_exact", "text exact"),
    Column("text_soft", f"text ≥{SOFT_SIMILARITY}"),
    Column("upstream_exact", "upstream's exact"),
    Column("checks", "checks"),
    Column("fast", f"< {SLOW_SECONDS:g} s"),
)
BOUNCE_COLUMNS = (
    Column("detected", "kind=bounce"),
    Column("recipient", "recipient"),
    Column("class", "class"),
    Column("no_false_bounce", "read as bounce", misses=True),
    Column("fast", f"< {SLOW_SECONDS:g} s"),
)
_ADDRESS = re.compile(r"^[^@\s<>()\[\]:;,\"]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
_OURS = re.compile(r"^(?:reply|bounces|unsubscribe)\+|^(?:mailer-daemon|postmaster)$", re.I)


@dataclass
class PublicReport:
    text: Board = field(default_factory=Board)
    bounce: Board = field(default_factory=Board)
    counts: dict[str, int] = field(default_factory=dict)  # cases per corpus
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def score_public(root: Path, reader: Reader) -> PublicReport:
    report = PublicReport()
    for load in (load_talon, load_email_reply_parser, load_mail_parser_reply):
        for case in load(root):
            reading, seconds = timed_read(reader, case.raw, Context())
            outcome = judge_text(case, reading, seconds)
            report.counts[case.corpus] = report.counts.get(case.corpus, 0) + 1
            for row in (case.corpus, f"{case.corpus} {case.lang}"):
                report.text.add(row, outcome)
            _note_text_miss(report, case, reading, outcome)
    corpus = load_sisimai(root)
    report.counts["set-of-emails"] = len(corpus.cases)
    from_ruby = sum(case.source.startswith("rb-sisimai") for case in corpus.cases)
    report.notes += [
        f"set-of-emails: {from_ruby} samples expected by rb-sisimai's tables (go-sisimai lists "
        f"them no more), {len(corpus.unlisted)} in neither (not scored), {len(corpus.missing)} "
        "go-sisimai entries without a sample",
    ]
    for bounce in corpus.cases:
        reading, seconds = timed_read(reader, bounce.raw, Context())
        _score_bounce(report, bounce, reading, seconds)
    return report


def judge_text(case: TextCase, got: Reading, seconds: float) -> Outcome:
    text = normalise(got.text)
    upstream = case.upstream if case.upstream is not None else case.expected
    checks = None
    if case.contains or case.excludes:
        checks = all(normalise(c) in text for c in case.contains) and not any(
            normalise(x) in text for x in case.excludes
        )
    return {
        "kind": got.kind == "reply",
        "text_exact": None if case.expected is None else text == normalise(case.expected),
        "text_soft": None
        if case.expected is None
        else similarity(text, case.expected) >= SOFT_SIMILARITY,
        "upstream_exact": None if upstream is None else text == normalise(upstream),
        "checks": checks,
        "fast": seconds < SLOW_SECONDS,
    }


def _note_text_miss(report: PublicReport, case: TextCase, got: Reading, outcome: Outcome) -> None:
    failed = [m for m in ("kind", "text_exact", "checks", "fast") if outcome.get(m) is False]
    if not failed:
        return
    report.misses.append(f"  {case.corpus}/{case.name} ({case.source}): {', '.join(failed)}")
    if case.expected is not None:
        want, text = brief_texts(case.expected, got.text)
    else:
        want, text = f"contains {case.contains!r} excludes {case.excludes!r}", brief(got.text)
    report.misses += [f"      expected {want}", f"      got      {text}  [kind {got.kind}]"]


def _score_bounce(report: PublicReport, case: BounceCase, got: Reading, seconds: float) -> None:
    outcome, predicted = judge_bounce(case, got, seconds)
    classes = "+".join(sorted(case.classes))
    rows = ["all", f"class {classes}", *(f"reason {r}" for r in dict.fromkeys(case.reasons))]
    for row in rows:
        report.bounce.add(row, outcome)
    if outcome.get("detected"):
        report.confusion[classes, predicted] += 1
    failed = [
        m for m in ("detected", "recipient", "class", "no_false_bounce") if outcome.get(m) is False
    ]
    if failed:
        report.misses.append(
            f"  set-of-emails/{case.name} {case.reasons}: {', '.join(failed)} — got kind "
            f"{got.kind}, class {predicted}, recipient {got.bounce_recipient!r}"
        )


def judge_bounce(case: BounceCase, got: Reading, seconds: float) -> tuple[Outcome, str]:
    """Verdicts, and the class coachd gave (bounce_class, else permanent ≈ gone)."""
    is_bounce = got.kind == "bounce"
    predicted = got.bounce_class or ("gone" if got.bounce_permanent else "refused")
    wants = case.group == "bounce"
    class_ok = None
    if wants and is_bounce and case.classes in ({"gone"}, {"refused"}):  # mixed: not scored
        class_ok = predicted in case.classes
    elif case.group == "complaint" and got.bounce_class is not None:
        class_ok = got.bounce_class == "complaint"
    outcome = {
        "detected": is_bounce if wants else None,
        "recipient": found_recipient(got.bounce_recipient, case.raw)
        if wants and is_bounce
        else None,
        "class": class_ok,
        # An ARF complaint comes back as a bounce of class "complaint" (it stops the emails).
        "no_false_bounce": None if wants or case.group == "complaint" else not is_bounce,
        "fast": seconds < SLOW_SECONDS,
    }
    return outcome, predicted if is_bounce else got.kind


def found_recipient(address: str | None, raw: bytes) -> bool:
    """The reader named a well-formed address found in the report, not coachd's nor the daemon's.

    sisimai's tables hold no addresses, so this checks plausibility, not identity.
    """
    if not address or not _ADDRESS.match(address) or _OURS.search(address.split("@")[0]):
        return False
    needle = address.lower()
    return needle in raw.decode("utf-8", "replace").lower() or any(
        needle in text.lower() for text in _decoded_parts(raw)
    )


def _decoded_parts(raw: bytes) -> list[str]:
    texts = []
    for part in email.message_from_bytes(raw).walk():
        payload = part.get_payload(decode=True) if isinstance(part, Message) else None
        if isinstance(payload, bytes):
            texts.append(payload.decode("utf-8", "replace"))
    return texts


def text_rows(board: Board) -> list[str]:
    """Each corpus, then its languages when it has several."""
    rows = []
    for corpus in (r for r in board.sizes if " " not in r):
        langs = sorted(r for r in board.sizes if r.startswith(f"{corpus} "))
        rows += [corpus, *(langs if len(langs) > 1 else ())]
    return rows


def bounce_rows(board: Board) -> list[str]:
    classes = sorted(r for r in board.sizes if r.startswith("class "))
    reasons = sorted(r for r in board.sizes if r.startswith("reason "))
    return ["all", *classes, *reasons]
