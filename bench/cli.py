"""The benchmark's command line (`python -m bench`, or `coachd bench`): flags, run, report."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from bench.measure import run_bench
from bench.plan import FULL_LEVELS, SECTIONS, BenchOptions
from bench.report import format_table, merge_reports
from daemon import loop
from daemon.logs import configure_logging

SUMMARY = (
    "Measure coachd against raw Redis, arq and aiosmtplib on this machine: ingest, delivery, "
    "lateness, Redis memory and scaling (own Redis and SMTP sink; nothing to set up)."
)
EXAMPLE = "python -m bench            (quick; --full adds the 1M level, --json for machines)"
DEFAULTS = BenchOptions()
BOTH = "both"


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list like 10000,100000") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: sizes must be positive")
    return sizes


def _sections(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = set(chosen) - set(SECTIONS)
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(SECTIONS)}")
    return chosen


def _loops(text: str) -> tuple[str, ...]:
    """`--loop`: the event loop(s) to run the whole benchmark on, each one installed."""
    if text not in (*loop.LOOPS, BOTH):
        raise argparse.ArgumentTypeError(f"choose from {', '.join((*loop.LOOPS, BOTH))}")
    chosen = loop.LOOPS if text == BOTH else (text,)
    try:
        for name in chosen:
            loop.loop_factory(name)
    except loop.LoopUnavailableError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return chosen


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = DEFAULTS
    add = parser.add_argument
    add("--runs", type=int, default=d.runs, help="runs per figure (median, range)")
    add("--events", type=int, default=d.events, help="ingest: events per run")
    add("--emails", type=int, default=d.emails, help="delivery: steps per run")
    add("--quiet", type=int, default=d.quiet, help="timeliness: steps when quiet")
    add("--quiet-spread", type=float, default=d.quiet_spread_s, help="…spread over seconds")
    add("--burst", type=int, default=d.burst, help="timeliness: steps due at once")
    add("--levels", type=_sizes, default=d.levels, help="memory/scaling backlog sizes")
    add("--full", action="store_true", help=f"levels {','.join(map(str, FULL_LEVELS))}")
    add("--batch", type=int, default=d.batch, help="scaling: events and steps per level run")
    add("--processes", type=_sizes, default=d.processes, help="scaling: worker processes")
    add("--process-emails", type=int, default=d.process_emails, help="…steps per run")
    add("--smtp-pool", type=int, default=d.smtp_pool, help="SMTP connections (both sides)")
    add("--max-jobs", type=int, default=d.max_jobs, help="tuned workers' max_jobs")
    add("--poll", type=float, default=d.poll_s, help="tuned workers' poll delay (s)")
    add("--fillers", type=int, default=d.fillers, help="processes that build the backlog")
    add("--null-transport", action="store_true", help="timeliness/processes send nowhere")
    add("--only", type=_sections, default=SECTIONS, help=f"some of {','.join(SECTIONS)}")
    add("--loop", type=_loops, default=None, help="asyncio, uvloop or both (default: as run)")
    add("--json", action="store_true", help="print JSON instead of the table")


def options_from(args: argparse.Namespace) -> BenchOptions:
    return BenchOptions(
        runs=args.runs,
        events=args.events,
        emails=args.emails,
        quiet=args.quiet,
        quiet_spread_s=args.quiet_spread,
        burst=args.burst,
        levels=FULL_LEVELS if args.full else args.levels,
        batch=args.batch,
        processes=args.processes,
        process_emails=args.process_emails,
        smtp_pool=args.smtp_pool,
        max_jobs=args.max_jobs,
        poll_s=args.poll,
        fillers=args.fillers,
        null_transport=args.null_transport,
        sections=args.only,
    )


def run(args: argparse.Namespace) -> int:
    """Run the benchmark the flags describe and print its report on stdout."""
    options = options_from(args)
    loops = args.loop or (loop.available_loop(),)  # `coachd run`'s choice unless told
    # One whole benchmark per loop, one after the other (they would share the cores).
    reports = {name: loop.run(run_bench(options), name) for name in loops}
    report = merge_reports(reports) if len(reports) > 1 else reports[loops[0]]
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        print(format_table(report))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=SUMMARY,
        epilog=f"example:\n  {EXAMPLE}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the benchmark's flags and run it; its progress owns stderr, so log only problems."""
    args = build_parser().parse_args(argv)
    configure_logging("auto", "WARNING")
    return run(args)
