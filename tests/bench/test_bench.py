"""`coachd bench` at tiny sizes: every section is measured and reported (no speed thresholds)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
import types

import pytest

from bench.cli import build_parser, options_from
from bench.measure import run_bench
from bench.plan import FULL_LEVELS, SECTIONS, BenchOptions
from bench.report import Report, Target, format_table, merge_reports
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
    delivery = report.section("delivery (due → accepted)")
    cpu_rows = [
        "CPU per email: coachd → SMTP sink",
        "CPU per email: coachd → null transport",
        "CPU per email: raw aiosmtplib client",
        "CPU per email: coachd ÷ raw aiosmtplib client",
        "CPU per email: SMTP sink, taking coachd's",
        "CPU per email: SMTP sink, taking raw's",
    ]
    for label in cpu_rows:
        figure = delivery.get(label)
        assert figure is not None, label
        assert figure.median > 0, label
    assert delivery.get("coachd → SMTP sink (8 connections)") is not None  # rates stay beside
    assert any("keep_result 0 s" in f.label for f in delivery.figures)
    assert "coachd CPU per email ≤ 1.6x raw aiosmtplib's" in [t.name for t in report.targets]
    assert report.machine["event_loop"] == "asyncio"  # pytest-asyncio's loop
    assert report.machine["pinning"].startswith(("not pinned", "SMTP sink pinned"))
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
    assert args.loop is None  # the loop `coachd run` would choose


def test_loop_both_is_asyncio_then_uvloop_when_uvloop_is_importable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", types.ModuleType("uvloop"))
    sys.modules["uvloop"].new_event_loop = asyncio.new_event_loop  # type: ignore[attr-defined]

    assert build_parser().parse_args(["--loop", "both"]).loop == ("asyncio", "uvloop")
    assert build_parser().parse_args(["--loop", "asyncio"]).loop == ("asyncio",)


def test_loop_uvloop_without_uvloop_is_refused_with_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)

    with pytest.raises(SystemExit):
        build_parser().parse_args(["--loop", "both"])

    assert (
        "argument --loop: event loop 'uvloop' is not installed (pip install 'coachd[fast]')"
        in capsys.readouterr().err
    )
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--loop", "fast"])
    assert "choose from asyncio, uvloop, both" in capsys.readouterr().err


def test_merged_reports_label_each_figure_and_target_with_its_loop() -> None:
    reports = {}
    for name, rate in (("asyncio", 100.0), ("uvloop", 120.0)):
        report = Report({"load_average_1m": [0.5]}, {}, seconds=2.0)
        report.section("delivery").record("coachd → null transport", "emails/s", rate)
        report.targets = [Target("null transport ≥ raw arq tuned", "90%", False)]
        reports[name] = report

    merged = merge_reports(reports)

    figures = merged.sections[0].figures
    assert [(f.label, f.samples) for f in figures] == [
        ("coachd → null transport [asyncio]", [100.0]),
        ("coachd → null transport [uvloop]", [120.0]),
    ]
    assert [t.name for t in merged.targets] == [
        "null transport ≥ raw arq tuned [asyncio]",
        "null transport ≥ raw arq tuned [uvloop]",
    ]
    assert merged.machine["event_loop"] == "asyncio and uvloop"
    assert merged.seconds == 4.0
