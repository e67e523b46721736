"""Tests for logging: one JSON pipeline for structlog and stdlib loggers, addresses redacted."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from daemon import logs
from daemon.logs import configure_logging, pseudonym, redact_addresses

ADDRESS = "Client.Name+tag@example.org"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Leave the root logger and structlog as other tests expect them."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def json_lines(captured: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in captured.splitlines() if line.strip()]


def test_pseudonym_is_stable_short_and_case_insensitive() -> None:
    assert pseudonym(ADDRESS) == pseudonym(ADDRESS.upper())
    assert pseudonym(ADDRESS).startswith("addr:")
    assert len(pseudonym(ADDRESS)) == len("addr:") + 8
    assert pseudonym(ADDRESS) != pseudonym("someone@example.org")


def test_redact_addresses_reaches_nested_values_and_drops_body_keys() -> None:
    event = {
        "event": f"sent to {ADDRESS}",
        "recipients": [ADDRESS, ("x@y.example",)],
        "meta": {"to": ADDRESS, "password": "hunter2"},
        "body": "secret body",
        "html": "<p>secret</p>",
        "text": "secret",
        "password": "hunter2",
        "count": 3,
    }

    redacted = redact_addresses(None, "info", event)

    assert redacted == {
        "event": f"sent to {pseudonym(ADDRESS)}",
        "recipients": [pseudonym(ADDRESS), (pseudonym("x@y.example"),)],
        "meta": {"to": pseudonym(ADDRESS)},
        "count": 3,
    }


def test_structlog_and_stdlib_logs_come_out_as_redacted_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(fmt="json", level="INFO")
    structlog.contextvars.bind_contextvars(job_id="job-1")

    structlog.get_logger("coachd.test").info("email_sent", to=ADDRESS, body="Dear client")
    logging.getLogger("aiosmtplib").warning("refused %s", ADDRESS)

    err = capsys.readouterr().err
    assert ADDRESS.lower() not in err.lower()
    assert "Dear client" not in err
    ours, theirs = json_lines(err)
    assert ours["event"] == "email_sent"
    assert ours["to"] == pseudonym(ADDRESS)
    assert ours["job_id"] == "job-1"
    assert ours["level"] == "info"
    assert ours["logger"] == "coachd.test"
    assert str(ours["timestamp"]).endswith("Z")
    assert "body" not in ours
    assert theirs["event"] == f"refused {pseudonym(ADDRESS)}"
    assert theirs["level"] == "warning"
    assert theirs["logger"] == "aiosmtplib"
    assert theirs["job_id"] == "job-1"


def test_tracebacks_are_rendered_and_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(fmt="json")
    try:
        raise RuntimeError(f"could not reach {ADDRESS}")
    except RuntimeError:
        structlog.get_logger().exception("send_failed")
        logging.getLogger("arq.worker").exception("job failed")

    err = capsys.readouterr().err
    assert ADDRESS not in err
    ours, theirs = json_lines(err)
    assert pseudonym(ADDRESS) in str(ours["exception"])
    assert "Traceback" in str(theirs["exception"])


def test_level_filters_both_kinds_of_logger(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(fmt="json", level="WARNING")

    structlog.get_logger().info("quiet")
    logging.getLogger("asyncio").info("quiet too")
    structlog.get_logger().warning("loud")

    assert [line["event"] for line in json_lines(capsys.readouterr().err)] == ["loud"]


def test_configuring_twice_installs_one_handler(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(fmt="json")
    configure_logging(fmt="json")

    logging.getLogger("arq").warning("once")

    assert len(json_lines(capsys.readouterr().err)) == 1


def test_console_format_is_readable_and_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(fmt="console")

    structlog.get_logger().info("email_sent", to=ADDRESS)

    err = capsys.readouterr().err
    assert "email_sent" in err
    assert pseudonym(ADDRESS) in err
    assert ADDRESS not in err


def test_auto_is_json_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging()

    structlog.get_logger().info("hello")

    assert json_lines(capsys.readouterr().err)[0]["event"] == "hello"


def test_unknown_level_is_rejected() -> None:
    with pytest.raises(ValueError, match="LOUD"):
        configure_logging(level="LOUD")


def test_the_pseudonym_is_keyed_different_keys_give_different_pseudonyms() -> None:
    one, other = b"k" * 32, b"j" * 32
    assert pseudonym(ADDRESS, one) == pseudonym(ADDRESS.upper(), one)
    assert pseudonym(ADDRESS, one) != pseudonym(ADDRESS, other)
    assert pseudonym(ADDRESS, one) != pseudonym(ADDRESS)  # the process's own random key


def test_logs_carry_the_keyed_pseudonym_never_the_bare_hash_of_the_address(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bare SHA-256 of an address can be reversed from a list of candidate addresses."""
    monkeypatch.setattr(logs, "_pseudonym_key", logs._pseudonym_key)  # restored afterwards
    key = b"a-signing-key-of-at-least-32-characters"
    configure_logging(fmt="json", pseudonym_key=key)

    structlog.get_logger("coachd.test").info("email_sent", to=ADDRESS)
    logging.getLogger("aiosmtplib").warning("refused %s", ADDRESS)

    err = capsys.readouterr().err
    bare = hashlib.sha256(ADDRESS.lower().encode()).hexdigest()[:8]
    assert bare not in err
    ours, theirs = json_lines(err)
    assert ours["to"] == pseudonym(ADDRESS, key) == pseudonym(ADDRESS)
    assert theirs["event"] == f"refused {pseudonym(ADDRESS, key)}"
