"""docs/operations.md lists every metric and every value its labels take, as the code has them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from daemon.metrics import (
    COMPOSED_AHEAD_USES,
    EMAIL_OUTCOMES,
    EVENT_TYPES,
    INTENTS,
    REASON_CLASS_NAMES,
    REPLY_KINDS,
    Metrics,
)
from jobs.step import StepKind

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def row(first_cell: str) -> str:
    """The table row whose first cell is `first_cell` (in backticks)."""
    [line] = [
        line
        for line in OPERATIONS.read_text(encoding="utf-8").splitlines()
        if line.startswith(f"| `{first_cell}` |")
    ]
    return line


def quoted(line: str) -> set[str]:
    return set(re.findall(r"`([^`]+)`", line))


def test_every_metric_a_process_serves_has_a_row() -> None:
    for family in Metrics().registry.collect():
        # A counter's family is named without the `_total` its samples (and the table) carry.
        assert row(f"{family.name}_total" if family.type == "counter" else family.name)


@pytest.mark.parametrize(
    ("metric", "values"),
    [
        ("coachd_events_applied_total", EVENT_TYPES),
        ("coachd_emails_total", (*(kind.value for kind in StepKind), *EMAIL_OUTCOMES)),
        ("coachd_replies_total", (*REPLY_KINDS, *INTENTS)),
        ("coachd_emails_composed_ahead_total", COMPOSED_AHEAD_USES),
    ],
)
def test_each_label_value_is_listed_in_its_metrics_row(
    metric: str, values: tuple[str, ...]
) -> None:
    assert set(values) <= quoted(row(metric))


def test_each_reason_class_has_a_row() -> None:
    for reason in REASON_CLASS_NAMES:
        assert row(reason)
