"""arq's log sentences come out as named events with fields, in the same pipeline as ours."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import arq
import pytest

from daemon.arqlog import EVENTS
from daemon.logs import configure_logging

pytestmark = pytest.mark.usefixtures("restore_logging")

ARQ_SOURCE = Path(arq.__file__).parent
# A logger call's format string as arq writes it: logger.info('…' or logger.info(\n '…'.
LOG_CALL = re.compile(r"logger\.(?:debug|info|warning|error|exception|critical)\(\s*'([^']*)'")
# Sentences with nothing worth a field; they stay sentences (under logger "arq.worker").
LEFT_AS_SENTENCES = {
    "Windows does not support adding a signal handler to an eventloop",
    "Health check failed: no health check sentinel value found",
    "Health check successful: %s",
}


def arq_formats() -> set[str]:
    return {
        match.group(1)
        for path in ARQ_SOURCE.glob("*.py")
        for match in LOG_CALL.finditer(path.read_text())
    }


def logged(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines()]


def test_every_format_arq_logs_is_named_so_an_upgrade_that_adds_one_is_noticed() -> None:
    found = arq_formats()
    assert found, "no logger calls found in arq's source: has arq moved?"
    assert found - set(EVENTS) - LEFT_AS_SENTENCES == set()
    assert set(EVENTS) - found == set()


def test_a_job_start_becomes_job_started_with_its_id_function_and_try(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(fmt="json")

    logging.getLogger("arq.worker").info(
        "%6.2fs → %s(%s)%s", 0.0123, "digest:maria:2026-12-07:send_digest", "maria, 2026-12-07",
        " try=2 delayed=3.50s",
    )  # fmt: skip

    [line] = logged(capsys)
    assert line == line | {
        "event": "job_started",
        "logger": "arq.worker",
        "level": "info",
        "job_id": "digest:maria:2026-12-07",
        "function": "send_digest",
        "args": "maria, 2026-12-07",
        "queued_s": 0.012,
        "job_try": 2,
        "delayed_s": 3.5,
    }
    assert "positional_args" not in line


def test_a_failed_job_keeps_its_traceback_and_names_the_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(fmt="json")
    error = ConnectionError("gone")
    try:
        raise error
    except ConnectionError:
        logging.getLogger("arq.worker").exception(
            "%6.2fs ! %s failed, %s: %s", 1.5, "n1:send_coach_notice", "ConnectionError", error
        )

    [line] = logged(capsys)
    assert (line["event"], line["job_id"], line["function"]) == (
        "job_failed",
        "n1",
        "send_coach_notice",
    )
    assert (line["error_type"], line["error"], line["duration_s"]) == (
        "ConnectionError",
        "gone",
        1.5,
    )
    assert "Traceback" in str(line["exception"])


def test_arqs_redis_info_line_becomes_fields(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(fmt="json")

    logging.getLogger("arq.worker").info(
        "redis_version=7.0.15 mem_usage=1.24M clients_connected=2 db_keys=4"
    )

    [line] = logged(capsys)
    assert line == line | {"event": "arq_redis_info", "redis_version": "7.0.15", "db_keys": "4"}


def test_an_unknown_arq_sentence_and_other_libraries_lines_are_kept_as_they_are(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(fmt="json")

    logging.getLogger("arq.worker").info("something new %s", "here")
    logging.getLogger("arqueology").info("job %s expired", "x")  # not arq's
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)

    assert [(line["event"], line["logger"]) for line in logged(capsys)] == [
        ("something new here", "arq.worker"),
        ("job x expired", "arqueology"),
        ("Started server process [42]", "uvicorn.error"),
    ]
