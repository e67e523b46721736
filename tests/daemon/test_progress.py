"""Long commands show a bar on a terminal (a real pty) and one summary line; logs go above it."""

from __future__ import annotations

import fcntl
import io
import json
import logging
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis as redis_sync
import structlog

from bench.report import Progress as BenchProgress
from daemon.logs import configure_logging
from daemon.progress import capped, counted, progress, took
from daemon.store import keys
from tests.helpers.procs import COACHD, WAIT_S

# tqdm's bar: "emit:  42%|████▏     | 1.20M/2.85M [00:00<00:01, 1.1MB/s]"
BAR = re.compile(r"(\w+): +\d+%\|")
TERMINAL_ROWS, TERMINAL_COLUMNS = 24, 120


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    terminal: str  # all that was written to the pty, redraws and all


def on_a_terminal(env: dict[str, str], *args: str) -> Finished:
    """Run `coachd ARGS` with its stderr on a pty (stdout a pipe, as `> file` would be)."""
    controller, terminal = pty.openpty()
    size = struct.pack("HHHH", TERMINAL_ROWS, TERMINAL_COLUMNS, 0, 0)
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, size)
    with subprocess.Popen(
        [*COACHD, *args], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=terminal
    ) as child:
        os.close(terminal)
        written = bytearray()
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the child closed its end
                break
            if not chunk:
                break
            written += chunk
        stdout = child.stdout.read().decode() if child.stdout else ""
        returncode = child.wait(timeout=WAIT_S)
    os.close(controller)
    return Finished(returncode, stdout, written.decode(errors="replace"))


def cli_env(redis_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACHD_")}
    # Logging is left at `auto`: on the terminal, it must choose the console format.
    return env | {"COACHD_REDIS_URL": redis_url, "COACHD_DATA_DIR": str(tmp_path)}


def events_file(path: Path, count: int) -> Path:
    lines = (
        json.dumps(
            {
                "version": 1,
                "event_id": f"e{n}",
                "occurred_at": "2026-11-30T08:00:00+00:00",
                "type": "commitment.completed",
                "commitment_id": f"c{n}",
            }
        )
        for n in range(count)
    )
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.integration
def test_emit_on_a_terminal_draws_a_bar_and_still_publishes_everything(
    redis_url: str, tmp_path: Path
) -> None:
    events = events_file(tmp_path / "events.jsonl", 5000)

    done = on_a_terminal(cli_env(redis_url, tmp_path), "emit", str(events))

    assert done.returncode == 0, done.terminal
    assert "emit" in BAR.findall(done.terminal), done.terminal
    assert re.fullmatch(
        r"emitted 5000 event\(s\) \(5000 accepted, 0 rejected\) in \S+ m?s\.\n", done.stdout
    )
    with redis_sync.Redis.from_url(redis_url) as state:
        assert state.xlen(keys.INBOX_STREAM) == 5000


@pytest.mark.integration
def test_migrate_on_a_terminal_draws_a_bar_and_logs_in_the_console_format(
    redis_url: str, tmp_path: Path
) -> None:
    with redis_sync.Redis.from_url(redis_url) as state:
        state.hset(keys.client("ana"), mapping={"client_id": "ana", "name": "Ana Ruiz"})
        state.sadd(keys.legacy_client_commitments("ana"), "c1")

        done = on_a_terminal(cli_env(redis_url, tmp_path), "migrate")

        assert state.hget(keys.client("ana"), "commitments") == b"c1"
    assert done.returncode == 0, done.terminal
    assert "migrate" in BAR.findall(done.terminal), done.terminal
    assert "storage_migrated" in done.terminal
    assert '{"' not in done.terminal  # a person reads a terminal: not JSON
    assert done.stdout.startswith("Migrated from layout 1 to 2: 1 client(s)'")


def test_off_a_terminal_there_is_no_bar_and_tqdm_is_not_even_imported() -> None:
    code = (
        "import io, sys\n"
        "from daemon.progress import progress\n"
        "with progress('x', 10, stream=io.StringIO()) as bar: bar.advance(3)\n"
        "assert 'tqdm' not in sys.modules\n"
        "import daemon.cli\n"
        "assert 'tqdm' not in sys.modules, 'coachd --help would pay for it'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=WAIT_S)


@pytest.mark.usefixtures("restore_logging")
def test_a_log_line_during_a_bar_is_written_whole_above_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)  # in the test: pytest sets it per phase
    configure_logging("json")

    with progress("emit", 4) as bar:
        for _ in counted(range(2), bar, lambda _: 1):
            structlog.get_logger("coachd.test").warning("halfway")
            logging.getLogger("arq.worker").warning("job %s expired", "j1")

    lines = re.split(r"[\r\n]", terminal.getvalue())
    logged = [json.loads(line)["event"] for line in lines if line.startswith("{")]
    assert logged == 2 * ["halfway", "job_expired"]
    assert "emit" in BAR.findall(terminal.getvalue())
    assert sys.stderr is terminal  # put back after the bar


def test_an_estimate_past_the_end_stops_the_bar_at_its_end() -> None:
    assert [capped(1000, 3500, 4000), capped(1000, 4000, 4000), capped(7, 0, None)] == [500, 0, 7]


def test_the_bench_draws_a_bar_of_its_tasks_on_a_terminal_and_one_line_otherwise() -> None:
    terminal, log = FakeTerminal(), io.StringIO()
    for stream in (terminal, log):
        with BenchProgress(2, stream) as bench:
            bench.step("ingest run 1")
            bench.step("delivery run 1")
            bench.finish()

    assert "ingest run 1" in terminal.getvalue()
    assert "bench finished: 2 task(s) in" in terminal.getvalue()
    assert re.fullmatch(r"bench finished: 2 task\(s\) in \d+ ms\n", log.getvalue())


def test_took_reads_in_milliseconds_then_seconds() -> None:
    assert [took(0.0123), took(0.25), took(61.04)] == ["12 ms", "0.2 s", "61.0 s"]
