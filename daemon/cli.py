"""The `coachd` command: its subcommands and their arguments; `main` runs the one asked for."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from daemon import commands, failurecommands, insightcommand
from daemon.commands import EXIT_CONFIG, EXIT_INVALID, EXIT_OK
from daemon.config.load import CoachConfigError, format_problems
from daemon.errors import CoachdError, OperatorRequestError, SettingsError
from daemon.logs import configure_logging
from daemon.settings import load_settings

Handler = Callable[[argparse.Namespace], int]


@dataclass(frozen=True, slots=True)
class Option:
    """One argument of a subcommand, as `argparse.ArgumentParser.add_argument` takes it."""

    flags: tuple[str, ...]
    settings: dict[str, Any]


def _option(*flags: str, **settings: Any) -> Option:
    return Option(flags, settings)


@dataclass(frozen=True, slots=True)
class Command:
    """A subcommand: its name, what it is for, an example, what runs it and its arguments."""

    name: str
    summary: str
    example: str
    handler: Handler
    options: tuple[Option, ...] = ()
    passthrough: bool = False  # hands every argument, --help too, to the command itself


JSON = _option("--json", action="store_true", help="print JSON")
CLIENT_ID = _option("client_id", type=commands.client_id, help="the client's id")

COMMANDS = (
    Command(
        "run",
        "Run the daemon: consume events and send reminders and questions.",
        "COACHD_CONFIG_PATH=/etc/coachd COACHD_SIGNING_KEY=... coachd run",
        commands.run,
    ),
    Command(
        "demo",
        "Show, in under a minute, the emails a client would receive "
        "(embedded Redis and SMTP; nothing to set up).",
        "coachd demo --out ./demo-mail",
        commands.demo,
        (_option("--out", type=Path, default=None, help="folder for the .eml files"),),
    ),
    Command(
        "check-config",
        "Validate coach config files; print every problem with file and key.",
        "coachd check-config /etc/coachd",
        commands.check_config,
        (_option("path", type=Path, help="a .toml file or a folder of them"),),
    ),
    Command(
        "plan",
        "Preview the exact timeline a commitment would get, in the client's local time and UTC.",
        "coachd plan --config deploy/coachd.example.toml --profile gentle "
        "--due 2026-12-04 --timezone Europe/Madrid",
        commands.plan,
        (
            _option(
                "--config",
                type=Path,
                default=None,
                help="coach config file or folder; default: COACHD_CONFIG_PATH if it exists,"
                " else the built-in profile",
            ),
            _option("--profile", default="standard", help="cadence profile name"),
            _option("--due", type=date.fromisoformat, help="due date, YYYY-MM-DD"),
            _option("--timezone", help="client's IANA zone, e.g. Europe/Madrid"),
            _option("--client", help="instead: a stored client's timelines, their cadence too"),
            _option(
                "--now",
                type=datetime.fromisoformat,
                default=None,
                help="plan as if it were this moment (ISO, with offset); default: now",
            ),
            _option("--json", action="store_true", help="print JSON instead of a table"),
        ),
    ),
    Command(
        "emit",
        "Validate JSON-lines events and publish them to the inbox.",
        "coachd emit events.jsonl   (or: producer | coachd emit -)",
        commands.emit,
        (_option("source", help="a file of JSON lines, or - for standard input"),),
    ),
    Command(
        "status",
        "Show queue lengths, scheduled and due steps, dead letters.",
        "coachd status --json",
        commands.status,
        (JSON,),
    ),
    Command(
        "dead-letters",
        "List the dead letters (events and replies coachd refused) with their reasons; "
        "replay one into the inbox (applied in order, like any event) or drop one.",
        "coachd dead-letters   (then: coachd dead-letters --retry 1764489600000-0)",
        failurecommands.dead_letters,
        (
            _option("--retry", metavar="ID", help="replay this dead letter's event"),
            _option("--drop", metavar="ID", help="delete this dead letter"),
            _option(
                "--limit",
                type=commands.positive,
                default=20,
                help="how many to list (newest first)",
            ),
            JSON,
        ),
    ),
    Command(
        "failed",
        "List the steps whose email failed (or may not have arrived) with the mail server's "
        "reason; retry one: it is due again now and sent once at most.",
        "coachd failed   (then: coachd failed --retry ana-grant:1:overdue-4d)",
        failurecommands.failed,
        (
            _option("--retry", metavar="ID", help="send this step's email again, now"),
            _option(
                "--force",
                action="store_true",
                help="with --retry: also when the outcome is unknown (it may have arrived)",
            ),
            JSON,
        ),
    ),
    Command(
        "inspect-reply",
        "Show what coachd reads in a raw reply (kind, intent, new date, the client's words) "
        "and why; needs no Redis. Several files or a folder: one JSON line per message.",
        "coachd inspect-reply reply.eml --json   (or: coachd inspect-reply mailbox-export/)",
        commands.inspect_reply,
        (
            _option("files", type=Path, nargs="+", help="raw messages (.eml), or folders of them"),
            JSON,
        ),
    ),
    Command(
        "export-client",
        "Print, as JSON, everything coachd stores about a client (needs Redis).",
        "coachd export-client ana > ana.json",
        commands.export_client,
        (CLIENT_ID, _option("--json", action="store_true", help="accepted; the output is JSON")),
    ),
    Command(
        "brief",
        "Print the coach's pre-session brief on a client now: each step's status since the "
        "last session, their replies, the questions asked, an opening question (needs Redis).",
        "coachd brief ana --json",
        commands.brief,
        (CLIENT_ID, JSON),
    ),
    Command(
        "erase-client",
        "Erase everything coachd stores about a client: publishes a client.erased event "
        "that the daemon applies in order with the others.",
        "coachd erase-client ana   (no daemon running: coachd erase-client ana --now)",
        commands.erase_client,
        (
            CLIENT_ID,
            _option("--now", action="store_true", help="apply it here, not via the daemon"),
        ),
    ),
    Command(
        "insights",
        "Answer rates and time to answer of the emails sent, by question, reason, send hour, "
        "weekday and client, for the firm and one coach or client (needs Redis).",
        "coachd insights --client ana --html ana.html",
        insightcommand.run,
        (
            _option("--coach", metavar="ID", help="only this coach's clients"),
            _option("--client", metavar="ID", type=commands.client_id, help="only this client"),
            _option("--html", metavar="FILE", type=Path, default=None, help="write an HTML report"),
            _option(
                "--within-days",
                metavar="N",
                type=commands.positive,
                default=7,
                help="a reply later than N days after an email is no answer (default 7)",
            ),
            JSON,
        ),
    ),
    Command(
        "migrate",
        "Bring data an older coachd (v0.1) left in Redis up to the current layout; "
        "`coachd run` does it at start. Stop every v0.1 process first.",
        "coachd migrate",
        commands.migrate,
    ),
    Command(
        "bench",
        "Measure coachd against raw Redis, arq and aiosmtplib on this machine "
        "(from a source checkout; the same as `python -m bench`).",
        "coachd bench --help",
        commands.bench,
        passthrough=True,
    ),
    Command(
        "schema",
        "Print the JSON Schema of coachd's events.",
        "coachd schema > coachd-events.schema.json",
        commands.schema,
    ),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coachd",
        description="coachd: accountability emails for coaching clients, from commitment events.",
    )
    parser.add_argument("--version", action="version", version=f"coachd {version('coachd')}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command_parser = sub.add_parser(
            command.name,
            help=command.summary,
            description=command.summary,
            epilog=f"example:\n  {command.example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            add_help=not command.passthrough,
        )
        command_parser.set_defaults(handler=command.handler, passthrough=command.passthrough)
        for option in command.options:
            command_parser.add_argument(*option.flags, **option.settings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, passed = parser.parse_known_args(argv)
    if passed and not args.passthrough:
        parser.error(f"unrecognized arguments: {' '.join(passed)}")
    args.passed = passed
    try:
        settings = load_settings(os.environ)
    except SettingsError as exc:
        for line in str(exc).splitlines():
            print(f"coachd: {line}", file=sys.stderr)
        return EXIT_CONFIG
    key = settings.signing_key.get_secret_value().encode() if settings.signing_key else None
    configure_logging(settings.log_format, settings.log_level, pseudonym_key=key)
    args.settings = settings
    try:
        return _handle(args)
    except BrokenPipeError:
        # The reader left (`coachd schema | head -1`): not an error. Point stdout at devnull
        # so the interpreter's final flush does not fail again (the Python docs' recipe).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


def _handle(args: argparse.Namespace) -> int:
    """Run the command; an error coachd raises on purpose is one line on stderr."""
    handler: Handler = args.handler
    try:
        code = handler(args)
        sys.stdout.flush()  # inside the try: a closed pipe shows up here
        return code
    except CoachConfigError as exc:
        print(format_problems(exc.problems), file=sys.stderr)
        return EXIT_CONFIG
    except OperatorRequestError as exc:  # an unknown id, a retry that is not safe
        print(f"coachd: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except CoachdError as exc:
        print(f"coachd: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
