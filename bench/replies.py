"""Score coachd's reply reader: the people corpus, and public fixture corpora of other projects.

    python -m bench.replies [--people DIR ...] [--public DIR] [--json] [--verbose] [--show-frozen]

--people (repeatable; default tests/jobs/reading/people) is a corpus in the layout of
tests/jobs/reading/people/CORPUS_FORMAT.md; --public (default $COACHD_PUBLIC_CORPORA) holds other
projects' fixtures, which are never committed here. --verbose lists failing cases: the tune
split's and the public ones; the frozen split's only with --show-frozen, so tuning cannot peek at
them by accident.

Building the public corpora -- fixtures only, nothing of theirs is built or run. With DIR the
target folder, for each row: `git clone https://github.com/<repo> /tmp/<name>`, then
`mkdir -p DIR/<name> && git -C /tmp/<name> archive <commit> -- <paths> | tar -x -C DIR/<name>`

    name                repo                        commit    paths
    talon               mailgun/talon               71d9b6eb  tests/fixtures/standard_replies
                                                              tests/fixtures/html_replies
                                                              tests/fixtures/OLK_SRC_BODY_SECTION.html
                                                              tests/fixtures/reply-separated-by-hr.html
    email_reply_parser  github/email_reply_parser   59e5859c  test/emails
    mail-parser-reply   alfonsrv/mail-parser-reply  fc44bc88  test/emails
                                                              test/test_email_reply_parser.py
    set-of-emails       sisimai/set-of-emails       18e585c2  maildir/bsd maildir/not
    go-sisimai          sisimai/go-sisimai          ed142ded  ':(glob)fact/[0-9]*-*_test.go'
    rb-sisimai          sisimai/rb-sisimai          9c4a1847  ':(glob)test/public/*host-*.rb'
                                                              test/public/arf.rb
                                                              test/public/rfc3464.rb
                                                              test/public/rfc3834.rb

bench/README.md has the same recipe as a script, and how each corpus's expectations are derived.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bench.people import COLUMNS, PeopleReport, miss_lines, row_order, score_people
from bench.public import (
    BOUNCE_COLUMNS,
    TEXT_COLUMNS,
    PublicReport,
    bounce_rows,
    score_public,
    text_rows,
)
from bench.reading import CommitmentReading, Context, Reader, Reading
from bench.score import render


# ============ ADAPTER: the only place bench touches coachd's code. Re-point it here. ============
def load_reader() -> Reader:
    """coachd's reply reader as a bench Reader; passes commitments only if it accepts them."""
    from jobs.reading.intent import Asked  # noqa: PLC0415 — the project imports
    from jobs.reading.reply import read_reply  # noqa: PLC0415

    accepted = inspect.signature(read_reply).parameters

    def read(raw: bytes, context: Context) -> Reading:
        kwargs: dict[str, Any] = {"zone": context.zone}
        if "asked" in accepted:  # the actions and due dates the answered email was about
            kwargs["asked"] = tuple(Asked(c.action, c.due) for c in context.commitments)
        return as_reading(read_reply(raw, **kwargs))

    return read


# ================================================================================================


def as_reading(result: object) -> Reading:
    """Any reader result with ReadReply's field names (bounce_class, per-commitment optional)."""
    return Reading(
        kind=str(getattr(result, "kind", "?")),
        intent=getattr(result, "intent", None),
        new_due=_day(getattr(result, "new_due", None)),
        pause_until=_day(getattr(result, "pause_until", None)),
        text=str(getattr(result, "text", "") or ""),
        bounce_recipient=getattr(result, "bounce_recipient", None),
        bounce_permanent=bool(getattr(result, "bounce_permanent", False)),
        bounce_class=getattr(result, "bounce_class", None),
        per_commitment=_per_commitment(result),
    )


def _per_commitment(result: object) -> tuple[CommitmentReading, ...] | None:
    for name in ("per_commitment", "commitments", "readings"):
        items = getattr(result, name, None)
        if isinstance(items, list | tuple):
            return tuple(
                CommitmentReading(_get(i, "intent"), _day(_get(i, "new_due"))) for i in items
            )
    return None


def _get(item: object, name: str) -> Any:
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def _day(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value) if isinstance(value, str) and value else None


DEFAULT_PEOPLE = Path(__file__).resolve().parent.parent / "tests/jobs/reading/people"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    reader = load_reader()
    roots = [Path(p) for p in args.people] or [DEFAULT_PEOPLE]
    present = [r for r in roots if r.is_dir()]
    people = score_people(present, reader) if present else None
    public_dir = Path(args.public) if args.public else None
    public = score_public(public_dir, reader) if public_dir and public_dir.is_dir() else None
    if args.json:
        print(json.dumps(_as_json(people, public), indent=2, ensure_ascii=False))
        return 0
    for root in roots:
        if not root.is_dir():
            print(f"people corpus: no folder {root}, skipped")
    if people is not None:
        print_people(people, verbose=args.verbose, show_frozen=args.show_frozen)
    if public is None:
        print(f"\npublic corpora: {public_dir or 'no --public DIR given'}: not found, skipped.")
        print(__doc__[__doc__.index("Building the public") :] if __doc__ else "")
    else:
        print_public(public, verbose=args.verbose)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.replies", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--people", action="append", default=[], metavar="DIR")
    parser.add_argument("--public", default=os.environ.get("COACHD_PUBLIC_CORPORA"), metavar="DIR")
    parser.add_argument("--json", action="store_true", help="print every tally as JSON")
    parser.add_argument("--verbose", action="store_true", help="list failing cases (not frozen)")
    parser.add_argument("--show-frozen", action="store_true", help="with --verbose: frozen too")
    return parser


def print_people(report: PeopleReport, *, verbose: bool, show_frozen: bool) -> None:
    for root, count in report.per_root.items():
        print(f"people corpus: {count} cases in {root}")
    for problem in report.problems:
        print(f"  unreadable: {problem}")
    if not report.per_commitment_offered:
        print("  (the reader offers no per-commitment reading: that column stays empty)")
    for split, board in report.boards.items():
        print()
        print(render(f"== people corpus, {split} ==", board, COLUMNS, row_order(board)))
    for split, entries in report.misses.items():
        hidden = split == "frozen" and not show_frozen
        print(f"\n{split}: {len(entries)} cases with a failed metric")
        if verbose and not hidden:
            print("\n".join(miss_lines(entries)))
        elif verbose:
            print("  (frozen failures are not listed; --show-frozen lists them)")


def print_public(report: PublicReport, *, verbose: bool) -> None:
    print("\npublic corpora: " + ", ".join(f"{k} {v} cases" for k, v in report.counts.items()))
    print("\n".join(f"  {note}" for note in report.notes))
    print()
    print(
        render(
            "== reply text: public fixtures ==", report.text, TEXT_COLUMNS, text_rows(report.text)
        )
    )
    print()
    print(
        render(
            "== bounces: sisimai set-of-emails ==",
            report.bounce,
            BOUNCE_COLUMNS,
            bounce_rows(report.bounce),
        )
    )
    print(
        "\nbounce class, expected → given (permanent ≈ gone while the reader has no bounce_class):"
    )
    for (want, given), count in sorted(report.confusion.items()):
        print(f"  {want:>14} → {given:<8} {count}")
    if verbose:
        print("\npublic failures:")
        print("\n".join(report.misses))


def _as_json(people: PeopleReport | None, public: PublicReport | None) -> dict[str, Any]:
    out: dict[str, Any] = {"people": None, "public": None}
    if people is not None:
        out["people"] = {
            "cases": people.per_root, "problems": people.problems,
            "boards": {split: board.as_json() for split, board in people.boards.items()},
        }  # fmt: skip
    if public is not None:
        out["public"] = {
            "cases": public.counts, "notes": public.notes, "text": public.text.as_json(),
            "bounce": public.bounce.as_json(),
            "confusion": [[w, g, n] for (w, g), n in sorted(public.confusion.items())],
        }  # fmt: skip
    return out


if __name__ == "__main__":
    sys.exit(main())
