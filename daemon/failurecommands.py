"""What `coachd dead-letters` and `coachd failed` do with their parsed arguments: call the
dead letters' and failed steps' modules on the daemon's Redis, print, exit."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime

from daemon import failureviews
from daemon.commands import EXIT_INVALID, EXIT_OK

MS_PER_S = 1000

# As in daemon.commands: what needs Redis is imported when the command runs.


def dead_letters(args: argparse.Namespace) -> int:
    from daemon.inbox import replay  # noqa: PLC0415
    from daemon.redisplace import with_redis  # noqa: PLC0415

    if args.retry and args.drop:
        print("coachd: --retry and --drop cannot go together", file=sys.stderr)
        return EXIT_INVALID
    if args.drop:
        asyncio.run(with_redis(args.settings, lambda redis: replay.drop(redis, args.drop)))
        print(f"dead letter {args.drop} dropped")
        return EXIT_OK
    if args.retry:
        inbox_id = asyncio.run(
            with_redis(args.settings, lambda redis: replay.replay(redis, args.retry))
        )
        print(failureviews.format_replayed(args.retry, inbox_id))
        return EXIT_OK
    total, letters = asyncio.run(
        with_redis(args.settings, lambda redis: replay.newest(redis, args.limit))
    )
    if args.json:
        listed = [letter.as_dict() for letter in letters]
        print(json.dumps({"total": total, "dead_letters": listed}, indent=2, ensure_ascii=False))
    else:
        print(failureviews.format_dead_letters(total, letters))
    return EXIT_OK


def failed(args: argparse.Namespace) -> int:
    from daemon.clock import SystemClock  # noqa: PLC0415
    from daemon.redisplace import with_redis  # noqa: PLC0415
    from daemon.store.failedsteps import list_failed, retry_failed  # noqa: PLC0415
    from daemon.store.schedule import StepQueue  # noqa: PLC0415

    if args.force and not args.retry:
        print("coachd: --force goes with --retry ID", file=sys.stderr)
        return EXIT_INVALID
    now = datetime.now(UTC)
    if args.retry:
        queue = StepQueue(SystemClock(), lambda: int(time.time() * MS_PER_S))
        done = asyncio.run(
            with_redis(
                args.settings,
                lambda redis: retry_failed(redis, queue, args.retry, now, force=args.force),
            )
        )
        print(json.dumps(asdict(done)) if args.json else failureviews.format_retried(done))
        return EXIT_OK
    steps = asyncio.run(with_redis(args.settings, lambda redis: list_failed(redis, now)))
    if args.json:
        print(json.dumps([s.as_dict() for s in steps], indent=2, ensure_ascii=False))
    else:
        print(failureviews.format_failed(steps))
    return EXIT_OK
