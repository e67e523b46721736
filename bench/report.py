"""The benchmark's results: figures with their runs, the table and JSON they print, progress."""

from __future__ import annotations

import contextlib
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from daemon.progress import progress, took

MEGABYTE = 1024 * 1024


@dataclass
class Figure:
    """One measured quantity: every run's value; the table shows the median and the range."""

    label: str
    unit: str
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "unit": self.unit,
            "median": self.median,
            "min": min(self.samples),
            "max": max(self.samples),
            "samples": list(self.samples),
        }


@dataclass
class Section:
    title: str
    figures: list[Figure] = field(default_factory=list)

    def record(self, label: str, unit: str, value: float) -> None:
        """Add one run's value to the figure `label` (created on first use, in order)."""
        figure = self.get(label)
        if figure is None:
            figure = Figure(label, unit)
            self.figures.append(figure)
        figure.samples.append(value)

    def get(self, label: str) -> Figure | None:
        return next((f for f in self.figures if f.label == label), None)


@dataclass(frozen=True)
class Target:
    """One of the issue's targets, checked against figures measured in the same run."""

    name: str
    measured: str
    met: bool


@dataclass
class Report:
    machine: dict[str, Any]
    options: dict[str, Any]
    sections: list[Section] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    seconds: float = 0.0

    def section(self, title: str) -> Section:
        found = next((s for s in self.sections if s.title == title), None)
        if found is None:
            found = Section(title)
            self.sections.append(found)
        return found

    def median_of(self, title: str, *words: str) -> float | None:
        """The median of the first figure in section `title` whose label has all `words`."""
        section = next((s for s in self.sections if s.title == title), None)
        for figure in section.figures if section else []:
            if all(word in figure.label for word in words):
                return figure.median
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "options": self.options,
            "seconds": round(self.seconds, 1),
            "sections": {s.title: [f.as_dict() for f in s.figures] for s in self.sections},
            "targets": [t.__dict__ for t in self.targets],
        }


def merge_reports(reports: dict[str, Report]) -> Report:
    """Reports of one benchmark run on several event loops as one: each figure's runs on each
    loop side by side, labelled with the loop (`--loop both`)."""
    first = next(iter(reports.values()))
    loads = [x for r in reports.values() for x in r.machine["load_average_1m"]]
    machine = first.machine | {"event_loop": " and ".join(reports), "load_average_1m": loads}
    merged = Report(machine, first.options, seconds=sum(r.seconds for r in reports.values()))
    for section in first.sections:
        into = merged.section(section.title)
        for figure in section.figures:
            for name, report in reports.items():
                twin = report.section(section.title).get(figure.label)
                if twin is not None:
                    into.figures.append(Figure(f"{figure.label} [{name}]", twin.unit, twin.samples))
    merged.targets = [
        Target(f"{t.name} [{name}]", t.measured, t.met)
        for name, report in reports.items()
        for t in report.targets
    ]
    return merged


def ratio_target(
    name: str, value: float | None, base: float | None, at_least: float
) -> Target | None:
    """`value` must be at least `at_least` times `base` (None when either was not measured)."""
    if value is None or not base:
        return None
    share = value / base
    return Target(name, f"{share:.0%} (needs {at_least:.0%})", share >= at_least)


def limit_target(
    name: str, value: float | None, limit: float, unit: str, *, at_least: bool = False
) -> Target | None:
    """`value` must be at most (or, `at_least`, at least) `limit`."""
    if value is None:
        return None
    met = value >= limit if at_least else value <= limit
    return Target(name, f"{_number(value)} {unit}", met)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 100 values is the 99th smallest)."""
    ordered = sorted(values)
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return ordered[min(rank, len(ordered)) - 1]


def machine_facts(redis_version: str) -> dict[str, Any]:
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return {
        "cpus": os.cpu_count(),
        "memory_mb": pages // MEGABYTE,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "redis": redis_version,
        # Other work on the machine skews every figure: the load before and after says how much.
        "load_average_1m": [round(os.getloadavg()[0], 2)],
    }


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def format_table(report: Report) -> str:
    """The report as aligned text: one block per section, median then the runs' range."""
    width = max((len(f.label) for s in report.sections for f in s.figures), default=20) + 2
    facts = report.machine
    load = " then ".join(f"{x:g}" for x in facts["load_average_1m"])
    lines = [
        f"coachd bench: {facts['cpus']} CPUs, {facts['memory_mb']:,} MB, "
        f"Python {facts['python']}, Redis {facts['redis']}, {report.seconds:.0f} s, "
        f"load average {load}",
        f"event loop {facts.get('event_loop', 'asyncio')}; {facts.get('pinning', 'not pinned')}",
    ]
    for section in report.sections:
        lines += ["", section.title]
        for fig in section.figures:
            spread = f"{_number(min(fig.samples))} to {_number(max(fig.samples))}"
            lines.append(
                f"  {fig.label:<{width}}{_number(fig.median):>12}  {spread:>19}  {fig.unit}"
                f"  (n={len(fig.samples)})"
            )
    if report.targets:
        lines += ["", "targets (issues 5 and 17)"]
        for target in report.targets:
            mark = "met" if target.met else "NOT met"
            lines.append(f"  {target.name:<{width}}{target.measured:>32}  {mark}")
    return "\n".join(lines)


class Progress:
    """The benchmark's progress on stderr: a bar naming the task under way on a terminal
    (daemon.progress), and one summary line when it is done, on a terminal or not."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.done = 0
        self._stream = stream or sys.stderr
        self._started = time.monotonic()
        self._closing = contextlib.ExitStack()
        self._bar = self._closing.enter_context(
            progress("bench", max(total, 1), unit=" tasks", stream=self._stream)
        )

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._closing.close()  # the bar is wiped even when a task failed

    def step(self, label: str) -> None:
        """Announce the task that starts now (the one before it is done)."""
        if self.done:
            self._bar.advance()
        self._bar.describe(label)
        self.done += 1

    def finish(self) -> None:
        self._bar.advance()
        self._closing.close()
        seconds = time.monotonic() - self._started
        self._stream.write(f"bench finished: {self.done} task(s) in {took(seconds)}\n")
        self._stream.flush()
