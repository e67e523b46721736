"""The chaos harness's command line: options in, a table (or JSON) out, non-zero on a violation."""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.chaos.faults import Fault
from bench.chaos.run import Options, Report, run

DETAIL_MAX = 20  # ids listed per violation in the table (JSON lists them all)


def parse(argv: list[str] | None) -> tuple[Options, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--commitments", type=int, default=Options.commitments)
    parser.add_argument("--workers", type=int, default=Options.workers)
    parser.add_argument("--minutes", type=float, default=Options.minutes, help="of chaos")
    parser.add_argument("--seed", type=int, default=None, help="default: a random one")
    parser.add_argument("--fault-rate", type=float, default=Options.fault_rate)
    parser.add_argument("--redis-restarts", type=int, default=Options.redis_restarts)
    parser.add_argument("--drain-seconds", type=float, default=Options.drain_s)
    parser.add_argument("--workdir", type=Path, default=None, help="default: a new temp dir")
    parser.add_argument("--json", action="store_true", help="the report as JSON")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    options = Options(
        commitments=args.commitments,
        workers=args.workers,
        minutes=args.minutes,
        seed=seed,
        fault_rate=args.fault_rate,
        redis_restarts=args.redis_restarts,
        drain_s=args.drain_seconds,
    )
    return options, args


def figures(report: Report) -> dict[str, Any]:
    """The table's rows, in order."""
    verdict = report.verdict
    rows: dict[str, Any] = {
        "seed": report.options.seed,
        "expected": verdict.expected,
        "delivered once": verdict.delivered_once,
        "unknown (of which delivered)": f"{verdict.unknown} ({verdict.unknown_delivered})",
        "lost": len(verdict.lost),
        "doubled": len(verdict.doubled),
        "duplicate Message-IDs": len(verdict.duplicate_ids),
        "stuck ledger entries": len(verdict.stuck),
        "workers not exiting 0": len(report.bad_exits),
        "kills": f"{report.kills} ("
        + ", ".join(f"{k} {n}" for k, n in sorted(report.kills_mid_send.items()))
        + ")",
        "Redis restarts": ", ".join(f"{k} {n}" for k, n in sorted(report.redis_restarts.items())),
        "drained in time": report.drained,
        "seconds": round(report.seconds, 1),
    }
    for fault in Fault:
        rows[f"fault {fault.value}"] = report.faults.get(fault.value, 0)
    return rows


def details(report: Report) -> dict[str, Any]:
    verdict = report.verdict
    return {
        "lost": verdict.lost,
        "doubled": verdict.doubled,
        "duplicate_ids": verdict.duplicate_ids,
        "stuck": verdict.stuck,
        "unmatched_emails": verdict.unmatched,
        "odd_ledger": verdict.ledger,
        "exit_codes": report.exit_codes,
    }


def print_table(report: Report) -> None:
    rows = figures(report)
    width = max(len(name) for name in rows)
    for name, value in rows.items():
        print(f"{name:<{width}}  {value}")
    for name, items in details(report).items():
        if items and name != "exit_codes":
            shown = list(items)[:DETAIL_MAX] if not isinstance(items, dict) else items
            print(f"{name}: {shown}")
    print(f"workdir (logs, timeline, AOF): {report.workdir}")


def main(argv: list[str] | None = None) -> int:
    options, args = parse(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="coachd-chaos-"))
    workdir.mkdir(parents=True, exist_ok=True)
    report = run(options, workdir)
    if args.json:
        out = {"options": asdict(options), "figures": figures(report), **details(report)}
        json.dump({**out, "workdir": str(workdir)}, sys.stdout, indent=2, default=str)
        print()
    else:
        print_table(report)
    return 1 if report.failed else 0
