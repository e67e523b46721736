"""What a benchmark run measures (its sizes and sections) and what its sections share."""

from __future__ import annotations

from dataclasses import dataclass, field

from arq.connections import ArqRedis

from bench.fixtures import BenchEnv
from bench.report import Progress, Report
from bench.sink import SinkProcess

INGEST = "ingest"
DELIVERY = "delivery"
TIMELINESS = "timeliness"
MEMORY = "memory"
SCALING = "scaling"
SECTIONS = (INGEST, DELIVERY, TIMELINESS, MEMORY, SCALING)
FULL_LEVELS = (10_000, 100_000, 1_000_000)
# Tasks per run of each section, for the progress bar.
DELIVERY_TASKS = 6
TIMELINESS_TASKS = 3
LEVEL_TASKS = 2


@dataclass(frozen=True)
class BenchOptions:
    """Sizes are small by default (a run takes a few minutes); `--full` adds the 1M level."""

    runs: int = 3
    events: int = 2_000
    emails: int = 500
    quiet: int = 300
    quiet_spread_s: float = 3.0
    burst: int = 2_000
    levels: tuple[int, ...] = (10_000, 100_000)
    batch: int = 500
    processes: tuple[int, ...] = (1, 2, 4)
    process_emails: int = 500
    smtp_pool: int = 8  # the reference: aiosmtplib peaks over 8 reused connections
    max_jobs: int = 100
    poll_s: float = 0.05
    fillers: int = 2
    null_transport: bool = False
    sections: tuple[str, ...] = SECTIONS

    def __post_init__(self) -> None:
        unknown = set(self.sections) - set(SECTIONS)
        if unknown:
            raise ValueError(f"unknown section(s) {sorted(unknown)}; known: {', '.join(SECTIONS)}")
        sizes = (self.runs, self.events, self.emails, self.quiet, self.burst, self.batch)
        if min(sizes) < 1 or min(self.levels, default=1) < 1 or self.smtp_pool < 1:
            raise ValueError("every size must be at least 1")
        if self.quiet_spread_s <= 0 or self.poll_s <= 0:
            raise ValueError("--quiet-spread and --poll must be positive")

    def runs_section(self, name: str) -> bool:
        return name in self.sections

    @property
    def fills_levels(self) -> bool:
        return self.runs_section(MEMORY) or self.runs_section(SCALING)

    def task_count(self) -> int:
        per_run = (
            int(self.runs_section(INGEST))
            + DELIVERY_TASKS * int(self.runs_section(DELIVERY))
            + TIMELINESS_TASKS * int(self.runs_section(TIMELINESS))
        )
        total = per_run * self.runs
        if self.fills_levels:
            batches = LEVEL_TASKS * self.runs if self.runs_section(SCALING) else 0
            total += len(self.levels) * (1 + batches)
        if self.runs_section(SCALING):
            total += len(self.processes) * (1 + self.runs)
        return total


@dataclass
class Context:
    """The servers and the report every section of one benchmark uses."""

    options: BenchOptions
    env: BenchEnv
    redis: ArqRedis
    sink: SinkProcess
    progress: Progress
    report: Report = field(repr=False)
