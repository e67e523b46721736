"""`coachd bench` at tiny sizes: every section is measured and reported (no speed thresholds)."""

from __future__ import annotations

import io
import json
import os

import pytest

from bench.cli import build_parser, options_from
from bench.measure import run_bench
from bench.plan import FULL_LEVELS, SECTIONS, BenchOptions
from bench.report import format_table
from daemon.errors import EmbeddedRedisError
from daemon.store.embedded import find_redis_server

TINY = BenchOptions(
    runs=1,
    events=200,
    emails=100,
    quiet=40,
    quiet_spread_s=0.4,
    burst=100,
    levels=(200, 400),
    batch=50,
    processes=(2,),
    process_emails=100,
)


@pytest.fixture(autouse=True)
def _needs_redis_server() -> None:
    try:
        find_redis_server()
    except EmbeddedRedisError as error:
        if os.environ.get("CI"):
            pytest.fail(str(error))
        pytest.skip(str(error))


@pytest.mark.timeout(60)
async def test_a_tiny_bench_reports_every_section_with_positive_figures() -> None:
    progress = io.StringIO()
    report = await run_bench(TINY, progress)

    titles = [section.title.split(" ")[0] for section in report.sections]
    assert titles == list(SECTIONS)
    for section in report.sections:
        assert section.figures, section.title
        for figure in section.figures:
            assert len(figure.samples) == 1, figure.label
            assert figure.median > 0, figure.label
    assert report.targets
    assert "bench finished" in progress.getvalue()
    assert "delivery, 2 worker process(es)" in format_table(report)
    assert json.loads(json.dumps(report.as_dict()))["machine"]["redis"]


def test_the_cli_flags_become_bench_options() -> None:
    args = build_parser().parse_args(
        ["--runs", "1", "--full", "--processes", "1,2", "--only", "memory,scaling"]
    )

    options = options_from(args)

    assert (options.runs, options.levels, options.processes) == (1, FULL_LEVELS, (1, 2))
    assert options.sections == ("memory", "scaling")
