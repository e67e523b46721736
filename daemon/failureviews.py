"""How the CLI shows an operator what went wrong: `status` (with today's emails and the last
errors), the dead letters, and the steps whose email failed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the types only: the CLI imports this before it needs Redis
    from daemon.inbox.replay import DeadLetter
    from daemon.store.failedsteps import FailedStep, Retried

NAME_WIDTH = 22
_SPECIAL = ("emails_today", "failed_steps", "last_errors")


def format_status(status: dict[str, Any]) -> str:
    lines = [
        f"{name.replace('_', ' '):<{NAME_WIDTH}}{value}"
        for name, value in status.items()
        if name not in _SPECIAL
    ]
    today = status["emails_today"]
    counts = ", ".join(f"{outcome} {today[outcome]}" for outcome in ("sent", "failed", "unknown"))
    lines.append(f"{'emails today':<{NAME_WIDTH}}{counts} (UTC day {today['day']})")
    lines.append(f"{'failed steps':<{NAME_WIDTH}}{status['failed_steps']} (see `coachd failed`)")
    errors = status["last_errors"]
    lines.append(f"{'last errors':<{NAME_WIDTH}}{'(none)' if not errors else '(newest first)'}")
    lines.extend(f"  {e['at']}  {e['kind']} {e['outcome']}: {e['reason']}" for e in errors)
    return "\n".join(lines)


def format_dead_letters(total: int, letters: Sequence[DeadLetter]) -> str:
    if not letters:
        return "No dead letters."
    lines = [f"{total} dead letter(s); the newest {len(letters)}, newest first (times UTC):"]
    for letter in letters:
        lines += [
            "",
            f"{letter.entry_id}  {letter.at}  {letter.source}",
            f"    event:  {letter.summary}",
            f"    reason: {letter.reason}",
        ]
        if letter.not_replayable is None:
            lines.append(f"    replay: coachd dead-letters --retry {letter.entry_id}")
        else:
            lines.append(f"    replay: no, {letter.not_replayable}")
    return "\n".join(lines)


def format_replayed(entry_id: str, inbox_id: str) -> str:
    return (
        f"dead letter {entry_id} replayed as inbox entry {inbox_id}: the daemon applies it in "
        "order with the others; if it fails again it is a dead letter again, with its reason"
    )


def format_failed(steps: Sequence[FailedStep]) -> str:
    if not steps:
        return "No steps whose email failed."
    lines = [f"{len(steps)} step(s) whose email failed or may not have arrived, newest first:"]
    for step in steps:
        lines += [
            "",
            f"{step.step_id}  {step.kind}  {step.outcome}  {step.at}",
            f"    why:   {step.reason}",
        ]
        if step.refusal is None:
            lines.append(f"    retry: coachd failed --retry {step.step_id}")
        elif step.needs_force:
            lines.append(f"    retry: only with --force, {step.refusal}")
        else:
            lines.append(f"    retry: no, {step.refusal}")
    return "\n".join(lines)


def format_retried(retried: Retried) -> str:
    after = f"; {retried.superseded} is planned again after it" if retried.superseded else ""
    return (
        f"step {retried.step_id} ({retried.outcome}) is due again now{after}. It goes out "
        "through the send ledger (once at most) within the client's send window and daily "
        "cap; `coachd failed` lists it again if it fails again."
    )
