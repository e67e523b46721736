"""How the CLI shows things to a person: a planned timeline, what a reply was read as."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from daemon.settings import Settings
from jobs.cadence import CadenceProfile
from jobs.reading.reply import read_reply
from jobs.replytoken import InvalidReplyToken, verify_reply_token
from jobs.step import PlannedStep, StepKind


def step_json(step: PlannedStep) -> dict[str, object]:
    return {
        "step": step.name,
        "kind": step.kind.value,
        "offset_days": step.offset_days,
        "local": step.fire_at_local.isoformat(),
        "utc": step.fire_at.isoformat(),
    }


@dataclass(frozen=True, slots=True)
class PlanView:
    """What `coachd plan` shows: the timeline, and the steps it leaves out, and why."""

    profile: str
    source: str  # where the profile comes from: a coach file, or coachd's built-ins
    due: date
    zone: str
    steps: Sequence[PlannedStep]
    passed: Sequence[PlannedStep] = ()  # left out: their time has passed
    note: str = ""  # said under the table (learned_hour_note)


def format_plan(plan: PlanView) -> str:
    lines = [
        f"Profile {plan.profile!r} ({plan.source}), due {plan.due:%A %d %B %Y},"
        f" client time zone {plan.zone}",
        "",
        *format_plan_rows(plan.steps),
    ]
    if plan.passed:
        lines += ["", "Skipped, because its time has passed:"]
        lines += [_plan_row(step) + _why_skipped(step, plan.steps) for step in plan.passed]
    if plan.note:
        lines += ["", plan.note]
    return "\n".join(lines)


def learned_hour_note(profile: CadenceProfile) -> str:
    """What a plan's times of overdue prompts mean when the profile learns their hour."""
    if not profile.learn_send_hour:
        return ""
    window = profile.send_window
    return (
        "Overdue prompts are shown at the send window's start: each goes at the hour the"
        f" learning loop draws when it fires (learn_send_hour), {window.start:%H:%M}-"
        f"{window.end:%H:%M} that day."
    )


def format_plan_rows(steps: Sequence[PlannedStep]) -> list[str]:
    """The timeline's table: a header, one row a step (or why there are none)."""
    rows = [f"{'step':<14}{'kind':<10}{'client local time':<32}UTC"]
    rows += [_plan_row(step) for step in steps]
    if not steps:
        rows.append("(nothing left to send: every step is in the past)")
    return rows


def _plan_row(step: PlannedStep) -> str:
    local = step.fire_at_local.strftime("%a %Y-%m-%d %H:%M %Z")
    return f"{step.name:<14}{step.kind.value:<10}{local:<32}{step.fire_at:%Y-%m-%d %H:%M}"


def _why_skipped(step: PlannedStep, planned: Sequence[PlannedStep]) -> str:
    if step.kind is not StepKind.OVERDUE:
        return ""
    latest = next((p.name for p in planned if p.kind is StepKind.OVERDUE), None)
    # Of several missed prompts only the latest is sent, at the next allowed moment.
    return f"  (instead: {latest})" if latest else ""


def message_files(paths: Sequence[Path]) -> list[Path]:
    """The messages to read: each file as given, and the .eml files of each folder, sorted."""
    found: list[Path] = []
    for path in paths:
        found.extend(
            sorted(p for p in path.rglob("*.eml") if p.is_file()) if path.is_dir() else [path]
        )
    return found


def format_reading(report: dict[str, Any]) -> str:
    """`inspect_reply`'s report for a person: the reading, the reasons, the client's words."""
    lines = [
        f"{name:<12}{report[name] if report[name] is not None else '-'}"
        for name in ("kind", "intent", "confidence", "new_due", "pause_until", "token_check")
    ]
    for number, part in enumerate(report["per_commitment"], start=1):
        lines.append(f"  #{number:<9}{part['intent']} {part['new_due'] or ''}".rstrip())
    lines.append("reasons:")
    lines.extend(f"  - {reason}" for reason in report["reasons"])
    lines.append("text:")
    text = "\n".join(f"  | {line}" for line in report["text"].splitlines())
    lines.append(text or "  (empty)")
    return "\n".join(lines)


def inspect_reply(raw: bytes, settings: Settings) -> dict[str, Any]:
    """What `read_reply` concludes, plus whether the reply token checks out (offline)."""
    reading = read_reply(raw)
    report = reading.as_json()
    report["token_check"] = _check_tokens(reading.tokens, settings)
    return report


def _check_tokens(tokens: tuple[str, ...], settings: Settings) -> str:
    if not tokens:
        return "none found (matching would fall back to In-Reply-To/References)"
    if settings.signing_key is None:
        return "not checked: COACHD_SIGNING_KEY is not set"
    key = settings.signing_key.get_secret_value().encode()
    try:
        claims = verify_reply_token(key, tokens[0], datetime.now(UTC).date())
    except InvalidReplyToken as exc:
        return f"invalid: {exc.reason}"
    return f"valid: thread {claims.thread}, email #{claims.seq}"
