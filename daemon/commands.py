"""What each `coachd` subcommand does with its parsed arguments: call daemon.app, print, exit."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import TypeAdapter, ValidationError

from daemon import failureviews, views
from daemon.config.load import CoachConfigError, format_problems, load_coach_config
from daemon.config.models import BUILTIN_PROFILE
from daemon.logs import configure_logging
from daemon.progress import took
from jobs.cadence import CadenceProfile
from jobs.events import Identifier, event_json_schema
from jobs.planner import passed_steps, plan_commitment

EXIT_OK = 0
EXIT_INVALID = 1  # the input (config file, events) has errors; they were printed
EXIT_CONFIG = 3  # settings or coach config stop the daemon from starting

IDENTIFIER: TypeAdapter[str] = TypeAdapter(Identifier)

# The daemon's wiring (daemon.app) pulls in uvicorn, starlette, arq and aiosmtplib: the
# commands that need Redis import it when they run, so offline ones (inspect-reply,
# check-config, plan, schema) start quickly.


def run(args: argparse.Namespace) -> int:
    from daemon import app, loop  # noqa: PLC0415

    # uvloop when it is installed, except with the SMTP/LMTP receiver on: under uvloop the
    # receiver's 421 refusals of a flood do not go out (tests/daemon/inbound/
    # test_receiver_flood.py fails with uvloop installed), so the receiver keeps asyncio.
    chosen = loop.ASYNCIO if args.settings.receiver_port is not None else None
    loop.run(app.run_daemon(args.settings), chosen)
    return EXIT_OK


def demo(args: argparse.Namespace) -> int:
    # The demo prints the emails themselves; only problems should interrupt them.
    configure_logging(args.settings.log_format, "WARNING")
    from daemon.demo.scenario import run_demo  # noqa: PLC0415

    return run_demo(args.out)


def check_config(args: argparse.Namespace) -> int:
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
    # Valid, so still exit 0; but an address on an example domain will not work.
    for warning in config.warnings:
        print(f"warning: {warning}")
    if config.warnings:
        print(f"{len(config.warnings)} warning(s): placeholders to replace before going live.")
    return EXIT_OK


def plan(args: argparse.Namespace) -> int:
    now = args.now or datetime.now(UTC)
    if now.tzinfo is None:
        print("coachd: --now needs a UTC offset, e.g. 2026-11-30T09:00+01:00", file=sys.stderr)
        return EXIT_INVALID
    if args.client is not None:
        return _plan_client(args, now)
    if args.due is None or args.timezone is None:
        print("coachd: plan needs --due and --timezone, or --client ID", file=sys.stderr)
        return EXIT_INVALID
    return _plan_due(args, now)


def _plan_due(args: argparse.Namespace, now: datetime) -> int:
    """A commitment due on `--due` for a client in `--timezone`, from a profile."""
    try:
        zone = ZoneInfo(args.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        print(f"coachd: {args.timezone!r} is not a known time zone", file=sys.stderr)
        return EXIT_INVALID
    found = _plan_profile(args)
    if isinstance(found, int):
        return found
    profile, source = found
    steps = plan_commitment(profile, args.due, zone, now)
    if args.json:
        print(json.dumps([views.step_json(s) for s in steps], indent=2))
        return EXIT_OK
    passed = passed_steps(profile, args.due, zone, now)
    print(
        views.format_plan(
            views.PlanView(
                args.profile,
                source,
                args.due,
                args.timezone,
                steps,
                passed,
                views.learned_hour_note(profile),
            )
        )
    )
    return EXIT_OK


def _plan_client(args: argparse.Namespace, now: datetime) -> int:
    """The client's own timelines, from Redis: each open commitment with their cadence."""
    from daemon import clientplan  # noqa: PLC0415

    found = asyncio.run(clientplan.plan_client(args.settings, args.client, now))
    print(json.dumps(found.as_json(), indent=2) if args.json else found.as_text())
    return EXIT_OK


def _plan_profile(args: argparse.Namespace) -> tuple[CadenceProfile, str] | int:
    """The profile to plan with, and where it is from: `--config`; else the coach files at
    COACHD_CONFIG_PATH when set or present; else the built-in profile."""
    settings = args.settings
    path = args.config or settings.config_path
    if args.config is None and "config_path" not in settings.model_fields_set and not path.exists():
        if args.profile != BUILTIN_PROFILE:
            print(
                f"coachd: no coach files at {path}, and {args.profile!r} is not built in"
                f" (built in: {BUILTIN_PROFILE}); say where yours are with --config PATH",
                file=sys.stderr,
            )
            return EXIT_INVALID
        return CadenceProfile(), f"built in; no coach files at {path}"
    return load_coach_config(path).profile(args.profile), f"from {path}"


def emit(args: argparse.Namespace) -> int:
    from daemon import app  # noqa: PLC0415

    if args.source != "-" and not Path(args.source).is_file():
        print(f"coachd: no such file: {args.source}", file=sys.stderr)
        return EXIT_INVALID
    started = time.monotonic()
    report = asyncio.run(app.emit(args.settings, args.source))
    for number, reason in report.rejected:
        print(f"line {number}: rejected: {reason}", file=sys.stderr)
    rejected = len(report.rejected)
    kept = ": kept in the dead-letter stream" if rejected else ""
    print(
        f"emitted {report.accepted + rejected} event(s) ({report.accepted} accepted, "
        f"{rejected} rejected{kept}) in {took(time.monotonic() - started)}."
    )
    return EXIT_INVALID if report.rejected else EXIT_OK


def status(args: argparse.Namespace) -> int:
    from daemon import app  # noqa: PLC0415

    current = asyncio.run(app.status(args.settings))
    if args.json:
        print(json.dumps(current.as_dict(), indent=2, ensure_ascii=False))
    else:
        print(failureviews.format_status(current.as_dict()))
    return EXIT_OK


def inspect_reply(args: argparse.Namespace) -> int:
    """One message read aloud; several (files or folders of .eml): one JSON line each."""
    missing = [path for path in args.files if not path.exists()]
    for path in missing:
        print(f"coachd: no such file: {path}", file=sys.stderr)
    if missing:
        return EXIT_INVALID
    files = views.message_files(args.files)
    if not files:
        print("coachd: no messages found in " + ", ".join(map(str, args.files)), file=sys.stderr)
        return EXIT_INVALID
    if len(files) > 1 or any(path.is_dir() for path in args.files):
        for path in files:
            report = views.inspect_reply(path.read_bytes(), args.settings)
            print(json.dumps({"file": str(path), **report}, ensure_ascii=False), flush=True)
        return EXIT_OK
    report = views.inspect_reply(files[0].read_bytes(), args.settings)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(views.format_reading(report))
    return EXIT_OK


def client_id(value: str) -> str:
    try:
        return IDENTIFIER.validate_python(value)
    except ValidationError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a client id") from None


def positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return int(value)


def export_client(args: argparse.Namespace) -> int:
    from daemon import app  # noqa: PLC0415

    exported = asyncio.run(app.export_client(args.settings, args.client_id))
    print(json.dumps(exported, indent=2, ensure_ascii=False))
    return EXIT_OK


def brief(args: argparse.Namespace) -> int:
    from daemon import app  # noqa: PLC0415

    data, text = asyncio.run(app.client_brief(args.settings, args.client_id))
    print(json.dumps(data, indent=2, ensure_ascii=False) if args.json else text.rstrip("\n"))
    return EXIT_OK


def erase_client(args: argparse.Namespace) -> int:
    from daemon import app  # noqa: PLC0415

    print(asyncio.run(app.erase_client(args.settings, args.client_id, now=args.now)))
    return EXIT_OK


def migrate(args: argparse.Namespace) -> int:
    from daemon import app  # noqa: PLC0415

    started = time.monotonic()
    report = asyncio.run(app.migrate(args.settings))
    print(report.summary(took=f"in {took(time.monotonic() - started)}"))
    return EXIT_OK


def bench(args: argparse.Namespace) -> int:
    # The benchmark is not product code: it lives beside the package, in a source checkout.
    try:
        from bench.cli import main as bench_main  # noqa: PLC0415
    except ImportError:
        print("coachd: the benchmark runs from a source checkout: python -m bench", file=sys.stderr)
        return EXIT_INVALID
    return bench_main(args.passed)


def schema(args: argparse.Namespace) -> int:
    print(json.dumps(event_json_schema(), indent=2))
    return EXIT_OK
