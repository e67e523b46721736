"""The `coachd` command: parse arguments, configure logging, delegate to daemon.app."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import TypeAdapter, ValidationError

from daemon import app, benchcli
from daemon.coachconfig import CoachConfigError, format_problems, load_coach_config
from daemon.demo import run_demo
from daemon.errors import CoachdError
from daemon.logs import configure_logging
from daemon.settings import Settings
from daemon.views import format_plan, inspect_reply, step_json
from jobs.events import Identifier, event_json_schema
from jobs.planner import plan_commitment

EXIT_OK = 0
EXIT_INVALID = 1  # the input (config file, events) has errors; they were printed
EXIT_CONFIG = 3  # settings or coach config stop the daemon from starting

Handler = Callable[[argparse.Namespace], int]
IDENTIFIER: TypeAdapter[str] = TypeAdapter(Identifier)


def _add(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    summary: str,
    example: str,
    handler: Handler,
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        name,
        help=summary,
        description=summary,
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coachd",
        description="coachd: accountability emails for coaching clients, from commitment events.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _add(
        sub,
        "run",
        "Run the daemon: consume events and send reminders and questions.",
        "COACHD_CONFIG_PATH=/etc/coachd COACHD_SIGNING_KEY=... coachd run",
        _run,
    )
    demo = _add(
        sub,
        "demo",
        "Show, in under a minute, the emails a client would receive "
        "(embedded Redis and SMTP; nothing to set up).",
        "coachd demo --out ./demo-mail",
        _demo,
    )
    demo.add_argument("--out", type=Path, default=None, help="folder for the .eml files")
    check = _add(
        sub,
        "check-config",
        "Validate coach config files; print every problem with file and key.",
        "coachd check-config /etc/coachd",
        _check_config,
    )
    check.add_argument("path", type=Path, help="a .toml file or a folder of them")
    plan = _add(
        sub,
        "plan",
        "Preview the exact timeline a commitment would get, in the client's local time and UTC.",
        "coachd plan --config deploy/coachd.example.toml --profile gentle "
        "--due 2026-12-04 --timezone Europe/Madrid",
        _plan,
    )
    plan.add_argument("--config", type=Path, default=None, help="coach config file or folder")
    plan.add_argument("--profile", default="standard", help="cadence profile name")
    plan.add_argument("--due", type=date.fromisoformat, required=True, help="due date, YYYY-MM-DD")
    plan.add_argument("--timezone", required=True, help="client's IANA zone, e.g. Europe/Madrid")
    plan.add_argument(
        "--now",
        type=datetime.fromisoformat,
        default=None,
        help="plan as if it were this moment (ISO, with offset); default: now",
    )
    plan.add_argument("--json", action="store_true", help="print JSON instead of a table")
    emit = _add(
        sub,
        "emit",
        "Validate JSON-lines events and publish them to the inbox.",
        "coachd emit events.jsonl   (or: producer | coachd emit -)",
        _emit,
    )
    emit.add_argument("source", help="a file of JSON lines, or - for standard input")
    stat = _add(
        sub,
        "status",
        "Show queue lengths, scheduled and due steps, dead letters.",
        "coachd status --json",
        _status,
    )
    stat.add_argument("--json", action="store_true", help="print JSON")
    inspect = _add(
        sub,
        "inspect-reply",
        "Show what coachd reads in a raw reply (kind, intent, new date, the client's words) "
        "and why; needs no Redis.",
        "coachd inspect-reply reply.eml --json",
        _inspect_reply,
    )
    inspect.add_argument("file", type=Path, help="the raw message (.eml)")
    inspect.add_argument("--json", action="store_true", help="print JSON")
    export = _add(
        sub,
        "export-client",
        "Print, as JSON, everything coachd stores about a client (needs Redis).",
        "coachd export-client ana > ana.json",
        _export_client,
    )
    export.add_argument("client_id", type=_client_id, help="the client's id")
    export.add_argument("--json", action="store_true", help="accepted; the output is JSON")
    erase = _add(
        sub,
        "erase-client",
        "Erase everything coachd stores about a client: publishes a client.erased event "
        "that the daemon applies in order with the others.",
        "coachd erase-client ana   (no daemon running: coachd erase-client ana --now)",
        _erase_client,
    )
    erase.add_argument("client_id", type=_client_id, help="the client's id")
    erase.add_argument("--now", action="store_true", help="apply it here, not via the daemon")
    _add(
        sub,
        "migrate",
        "Bring data an older coachd (v0.1) left in Redis up to the current layout; "
        "`coachd run` does it at start. Stop every v0.1 process first.",
        "coachd migrate",
        _migrate,
    )
    bench = _add(sub, "bench", benchcli.SUMMARY, benchcli.EXAMPLE, _bench)
    benchcli.add_arguments(bench)
    _add(
        sub,
        "schema",
        "Print the JSON Schema of coachd's events.",
        "coachd schema > coachd-events.schema.json",
        _schema,
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"coachd: invalid settings: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log_format, settings.log_level)
    args.settings = settings
    handler: Handler = args.handler
    try:
        return handler(args)
    except CoachConfigError as exc:
        print(format_problems(exc.problems), file=sys.stderr)
        return EXIT_CONFIG
    except CoachdError as exc:
        print(f"coachd: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    asyncio.run(app.run_daemon(args.settings))
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    # The demo prints the emails themselves; only problems should interrupt them.
    configure_logging(args.settings.log_format, "WARNING")
    return run_demo(args.out)


def _check_config(args: argparse.Namespace) -> int:
    try:
        config = load_coach_config(args.path)
    except CoachConfigError as exc:
        print(format_problems(exc.problems))
        print(f"{len(exc.problems)} problem(s) found.")
        return EXIT_INVALID
    print(
        f"OK: firm {config.firm.name!r}, {len(config.coaches)} coach(es), "
        f"{len(config.profiles)} profile(s), {len(config.question_banks)} question bank(s)."
    )
    return EXIT_OK


def _plan(args: argparse.Namespace) -> int:
    try:
        zone = ZoneInfo(args.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        print(f"coachd: {args.timezone!r} is not a known time zone", file=sys.stderr)
        return EXIT_INVALID
    config = load_coach_config(args.config or args.settings.config_path)
    profile = config.profile(args.profile)
    now = args.now or datetime.now(UTC)
    if now.tzinfo is None:
        print("coachd: --now needs a UTC offset, e.g. 2026-11-30T09:00+01:00", file=sys.stderr)
        return EXIT_INVALID
    steps = plan_commitment(profile, args.due, zone, now)
    if args.json:
        print(json.dumps([step_json(s) for s in steps], indent=2))
    else:
        print(format_plan(args.profile, args.due, args.timezone, steps))
    return EXIT_OK


def _emit(args: argparse.Namespace) -> int:
    report = asyncio.run(app.emit(args.settings, args.source))
    for number, reason in report.rejected:
        print(f"line {number}: rejected: {reason}", file=sys.stderr)
    print(
        f"{report.accepted} event(s) published, {len(report.rejected)} rejected "
        "(kept in the dead-letter stream)."
    )
    return EXIT_INVALID if report.rejected else EXIT_OK


def _status(args: argparse.Namespace) -> int:
    current = asyncio.run(app.status(args.settings))
    if args.json:
        print(json.dumps(current.as_dict(), indent=2))
    else:
        for name, value in current.as_dict().items():
            print(f"{name.replace('_', ' '):<22}{value}")
    return EXIT_OK


def _inspect_reply(args: argparse.Namespace) -> int:
    report = inspect_reply(args.file.read_bytes(), args.settings)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return EXIT_OK
    for name in ("kind", "intent", "new_due", "pause_until", "token_check"):
        print(f"{name:<12}{report[name] if report[name] is not None else '-'}")
    print("reasons:")
    for reason in report["reasons"]:
        print(f"  - {reason}")
    print("text:")
    print("\n".join(f"  | {line}" for line in report["text"].splitlines()) or "  (empty)")
    return EXIT_OK


def _client_id(value: str) -> str:
    try:
        return IDENTIFIER.validate_python(value)
    except ValidationError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a client id") from None


def _export_client(args: argparse.Namespace) -> int:
    exported = asyncio.run(app.export_client(args.settings, args.client_id))
    print(json.dumps(exported, indent=2, ensure_ascii=False))
    return EXIT_OK


def _erase_client(args: argparse.Namespace) -> int:
    print(asyncio.run(app.erase_client(args.settings, args.client_id, now=args.now)))
    return EXIT_OK


def _migrate(args: argparse.Namespace) -> int:
    print(asyncio.run(app.migrate(args.settings)))
    return EXIT_OK


def _bench(args: argparse.Namespace) -> int:
    # The progress bar owns stderr while the benchmark runs: only problems may interrupt it.
    configure_logging(args.settings.log_format, "WARNING")
    return benchcli.run(args)


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(event_json_schema(), indent=2))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
