"""What `coachd` says when something is wrong: one line on stderr, its exit code, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pytest

from daemon.cli import main
from daemon.commands import EXIT_CONFIG, EXIT_INVALID, EXIT_OK
from daemon.edges import webhook_secrets
from daemon.settings import OTHER_VARIABLES, load_settings, setting_names
from tests.helpers import cli
from tests.helpers.cli import clean_environment, one_line

EXAMPLE_CONFIG = Path(__file__).parents[2] / "deploy" / "coachd.example.toml"
SIGNING_KEY = "k" * 40
QUICK_S = 3.0  # a one-off command reports an absent Redis within this (it was 7 s)
REPO = Path(__file__).parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_environment(monkeypatch, tmp_path)


@pytest.fixture
def closed_port() -> int:
    return cli.closed_port()


@pytest.mark.parametrize(
    "argv",
    [
        ["status"],
        ["dead-letters"],
        ["dead-letters", "--retry", "1-0"],
        ["failed"],
        ["failed", "--retry", "c1:1:reminder-2d"],
        ["emit", "-"],
        ["export-client", "ana"],
        ["brief", "ana"],
        ["erase-client", "ana"],
        ["erase-client", "ana", "--now"],
        ["migrate"],
        ["run"],
    ],
)
def test_an_unreachable_redis_is_one_line_without_the_password_and_exit_3(
    argv: list[str],
    closed_port: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("COACHD_REDIS_URL", f"redis://:hunter2@127.0.0.1:{closed_port}/0")
    monkeypatch.setenv("COACHD_CONFIG_PATH", str(EXAMPLE_CONFIG))
    monkeypatch.setenv("COACHD_SIGNING_KEY", SIGNING_KEY)
    started = time.monotonic()
    assert main(argv) == EXIT_CONFIG
    elapsed = time.monotonic() - started
    expected = f"coachd: cannot reach Redis at redis://127.0.0.1:{closed_port}: connection refused"
    assert one_line(capsys.readouterr().err) == expected
    if argv != ["run"]:  # the daemon waits a few seconds for a Redis that is starting
        assert elapsed < QUICK_S


def test_emit_of_a_missing_file_says_so_before_reaching_for_redis(
    closed_port: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COACHD_REDIS_URL", f"redis://127.0.0.1:{closed_port}")
    assert main(["emit", "no-such.jsonl"]) == EXIT_INVALID
    assert one_line(capsys.readouterr().err) == "coachd: no such file: no-such.jsonl"


def test_inspect_reply_names_each_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect-reply", "a.eml", "b.eml"]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert err.splitlines() == ["coachd: no such file: a.eml", "coachd: no such file: b.eml"]


def test_a_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("COACHD_")}
    env["PYTHONPATH"] = str(REPO)
    command = f"{sys.executable} -m daemon.cli schema | head -1"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert (done.returncode, done.stdout, done.stderr) == (EXIT_OK, "{\n", "")


def test_an_unknown_log_level_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COACHD_LOG_LEVEL", "LOUD")
    assert main(["schema"]) == EXIT_CONFIG
    assert one_line(capsys.readouterr().err) == (
        "coachd: COACHD_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
    )


def test_a_lowercase_log_level_is_accepted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COACHD_LOG_LEVEL", "debug")
    assert main(["schema"]) == EXIT_OK


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("COACHD_SMTP_TLS", "ssl", "COACHD_SMTP_TLS must be one of starttls, tls, none"),
        ("COACHD_SMTP_PORT", "0", "COACHD_SMTP_PORT must be greater than or equal to 1"),
        ("COACHD_SMTP_PORT", "lots", "COACHD_SMTP_PORT must be a valid integer"),
        ("COACHD_RECEIVER_MAX_DATA_BYTES", "1024", "COACHD_RECEIVER_MAX_DATA_BYTES must be at"),
    ],
)
def test_a_settings_error_names_the_environment_variable(
    name: str,
    value: str,
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(name, value)
    assert main(["schema"]) == EXIT_CONFIG
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"coachd: {expected}")
    assert "pydantic" not in line


def test_a_short_events_token_is_refused_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COACHD_EVENTS_TOKEN", "letmein")
    assert main(["schema"]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert one_line(err) == (
        "coachd: COACHD_EVENTS_TOKEN must be a random secret of at least 32 characters "
        "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
    )
    assert "letmein" not in err


def test_an_empty_events_token_is_unset_like_the_providers_tokens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COACHD_EVENTS_TOKEN", "")
    assert webhook_secrets(load_settings(os.environ)).events_token is None
    monkeypatch.setenv("COACHD_EVENTS_TOKEN", "t" * 32)
    assert webhook_secrets(load_settings(os.environ)).events_token == "t" * 32


def test_each_settings_error_is_its_own_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COACHD_SMTP_TLS", "ssl")
    monkeypatch.setenv("COACHD_IMAP_TLS", "ssl")
    assert main(["schema"]) == EXIT_CONFIG
    assert capsys.readouterr().err.splitlines() == [
        "coachd: COACHD_SMTP_TLS must be one of starttls, tls, none",
        "coachd: COACHD_IMAP_TLS must be one of tls, starttls, none",
    ]


def test_a_misspelt_variable_is_an_error_naming_the_closest_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COACHD_SMTP_HOTS", "mail.example.org")
    assert main(["schema"]) == EXIT_CONFIG
    assert one_line(capsys.readouterr().err) == (
        "coachd: unknown setting COACHD_SMTP_HOTS; did you mean COACHD_SMTP_HOST?"
    )


def test_variables_that_are_not_settings_but_the_repo_uses_are_allowed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in OTHER_VARIABLES:
        monkeypatch.setenv(name, "x")
    assert main(["schema"]) == EXIT_OK


def test_every_coachd_variable_the_repo_mentions_is_known() -> None:
    """Docs, deploy files, tests and the benchmark only name variables coachd accepts."""
    known = set(setting_names()) | OTHER_VARIABLES
    found = subprocess.run(
        ["git", "grep", "-ohE", r"COACHD_[A-Z0-9_]*[A-Z0-9]", "--", ".", ":!tests/daemon"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    ).stdout.split()
    assert set(found) - known == set()


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"coachd {version('coachd')}\n"
