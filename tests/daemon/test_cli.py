"""The `coachd` command as a user runs it: exit codes, what it prints, what it publishes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import redis as redis_sync

from daemon.cli import main
from daemon.commands import EXIT_CONFIG, EXIT_INVALID, EXIT_OK
from daemon.store import keys

EXAMPLE_CONFIG = Path(__file__).parents[2] / "deploy" / "coachd.example.toml"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("COACHD_REDIS_URL", "COACHD_SIGNING_KEY", "COACHD_CONFIG_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COACHD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # no stray .env is read


@pytest.mark.parametrize(
    "command",
    [
        "run",
        "demo",
        "check-config",
        "plan",
        "emit",
        "status",
        "dead-letters",
        "failed",
        "export-client",
        "brief",
        "erase-client",
        "migrate",
        "schema",
    ],
)
def test_every_command_explains_itself_with_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    description, example = out.split("\nexample:\n  ")
    assert description.count(".") >= 1  # a sentence saying what it does
    assert f"coachd {command}" in example


def test_check_config_accepts_the_shipped_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(EXAMPLE_CONFIG)]) == EXIT_OK
    assert capsys.readouterr().out.startswith("OK: firm")


def test_check_config_names_file_key_and_problem_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "firm.toml"
    bad.write_text(
        EXAMPLE_CONFIG.read_text().replace(
            'timezone = "Europe/Madrid"', 'timezone = "Europe/Madird"', 1
        )
    )

    assert main(["check-config", str(bad)]) == EXIT_INVALID

    out = capsys.readouterr().out
    assert f"{bad}: coaches." in out
    assert ".timezone: 'Europe/Madird' is not a known time zone" in out
    assert "1 problem(s) found." in out


def test_check_config_refuses_a_send_at_outside_the_send_window(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 15 item 11: it used to say OK while the profile could send no reminder."""
    bad = tmp_path / "firm.toml"
    bad.write_text(
        EXAMPLE_CONFIG.read_text()
        + '\n[profiles.dawn]\nsend_at = "06:30"\nsend_window = { start = "08:00", end = "20:00" }\n'
    )

    assert main(["check-config", str(bad)]) == EXIT_INVALID

    out = capsys.readouterr().out
    assert f"{bad}: profiles.dawn.send_at: profile 'dawn' sends at 06:30, outside its" in out
    assert "send_window 08:00-20:00" in out


def test_check_config_refuses_client_bounds_outside_the_send_window_and_unknown_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What a client may change by reply is checked like the rest of the profile."""
    bad = tmp_path / "firm.toml"
    bad.write_text(
        EXAMPLE_CONFIG.read_text()
        + '\n[profiles.early]\nclient_bounds = { earliest = "06:00" }\n'
        + '[profiles.loose]\nclient_may_change = ["days", "tone"]\n'
    )

    assert main(["check-config", str(bad)]) == EXIT_INVALID

    out = capsys.readouterr().out
    assert f"{bad}: profiles.early: client_bounds.earliest 06:00 is outside send_window" in out
    assert (
        f"{bad}: profiles.loose.client_may_change[2]: must be one of 'days', 'hours', "
        "'frequency', 'weekends' or 'reminder_lead'"
    ) in out
    assert "2 problem(s) found." in out


def plan(due: str, zone: str, *extra: str) -> int:
    return main(["plan", "--config", str(EXAMPLE_CONFIG), "--due", due, "--timezone", zone, *extra])


def test_plan_prints_local_and_utc_times_across_a_dst_change(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = plan("2026-11-03", "America/New_York", "--now", "2026-10-26T12:00+00:00", "--json")
    assert code == EXIT_OK
    steps = json.loads(capsys.readouterr().out)
    first_overdue = next(s for s in steps if s["kind"] == "overdue")
    reminder = steps[0]
    # 09:00 local on both sides of New York's 1 November change: UTC moves, local does not.
    assert reminder["local"].endswith("09:00:00-04:00")
    assert first_overdue["local"].endswith("09:00:00-05:00")
    assert first_overdue["utc"].endswith("14:00:00+00:00")


def test_plan_text_output_is_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    code = plan("2026-12-04", "Europe/Madrid", "--now", "2026-11-23T08:00+00:00")
    assert code == EXIT_OK
    out = capsys.readouterr().out.splitlines()
    assert (
        out[0] == f"Profile 'standard' (from {EXAMPLE_CONFIG}), due Friday 04 December 2026,"
        " client time zone Europe/Madrid"
    )
    assert out[2].split() == ["step", "kind", "client", "local", "time", "UTC"]
    assert out[3].startswith("reminder-")


def test_plan_rejects_an_unknown_zone(capsys: pytest.CaptureFixture[str]) -> None:
    code = plan("2026-12-04", "Mars/Olympus")
    assert code == EXIT_INVALID
    assert "'Mars/Olympus' is not a known time zone" in capsys.readouterr().err


def test_schema_covers_every_event_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == EXIT_OK
    schema = json.loads(capsys.readouterr().out)
    types = {
        d["properties"]["type"]["const"]
        for d in schema["$defs"].values()
        if "type" in d.get("properties", {})
    }
    assert types == {
        "commitment.created",
        "commitment.updated",
        "commitment.completed",
        "commitment.cancelled",
        "client.updated",
        "client.erased",
        "reply.received",
        "session.scheduled",
        "session.cancelled",
    }


def test_run_refuses_to_start_without_a_signing_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COACHD_CONFIG_PATH", str(EXAMPLE_CONFIG))
    assert main(["run"]) == EXIT_CONFIG
    assert "COACHD_SIGNING_KEY must be set" in capsys.readouterr().err


def test_emit_without_redis_says_how_to_get_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emit", "-"]) == EXIT_CONFIG
    assert "COACHD_REDIS_URL is not set" in capsys.readouterr().err


@pytest.mark.integration
def test_emit_publishes_valid_lines_reports_bad_ones_and_status_counts_them(
    redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("COACHD_REDIS_URL", redis_url)
    good = {
        "version": 1,
        "event_id": "e1",
        "occurred_at": "2026-11-30T08:00:00+00:00",
        "type": "commitment.completed",
        "commitment_id": "c1",
    }
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps(good) + "\n\n" + '{"version": 1, "type": "nope"}\n')

    assert main(["emit", str(events)]) == EXIT_INVALID
    captured = capsys.readouterr()
    assert captured.err.splitlines()[0].startswith("line 3: rejected:")
    assert len(captured.err.splitlines()) == 1  # off a terminal: no progress bar
    [summary] = captured.out.splitlines()
    assert re.fullmatch(
        r"emitted 2 event\(s\) \(1 accepted, 1 rejected: kept in the dead-letter stream\) "
        r"in \d+ ms\.",
        summary,
    ), summary

    assert main(["status", "--json"]) == EXIT_OK
    current = json.loads(capsys.readouterr().out)
    assert current["inbox_length"] == 1
    assert current["dead_letters"] == 1
    assert current["steps_scheduled"] == 0
    assert current["inbox_pending"] == 0  # nothing consumed it yet
    assert current["worker"] == "none seen in the last 30 s"


@pytest.mark.integration
def test_migrate_folds_v01_data_once_then_has_nothing_to_do(
    redis_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COACHD_REDIS_URL", redis_url)
    with redis_sync.Redis.from_url(redis_url) as state:
        state.hset(keys.client("ana"), mapping={"client_id": "ana", "name": "Ana Ruiz"})
        state.sadd(keys.legacy_client_commitments("ana"), "c2", "c1")
        state.sadd(keys.legacy_client_commitments("gone"), "g1")

        assert main(["migrate"]) == EXIT_OK
        captured = capsys.readouterr()
        out = captured.out
        assert re.match(r"Migrated from layout 1 to 2: 1 client\(s\)' .+ in \d+ ms\.$", out, re.M)
        assert "%|" not in captured.err  # off a terminal: no progress bar
        assert f"left as it was: {keys.legacy_client_commitments('gone')}" in out
        assert state.hget(keys.client("ana"), "commitments") == b"c1 c2"
        assert main(["migrate"]) == EXIT_OK
        assert "Nothing to do" in capsys.readouterr().out


CORPUS = Path(__file__).parents[1] / "jobs" / "reading" / "corpus"


def test_inspect_reply_explains_a_french_reschedule_without_redis_or_config(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        main(["inspect-reply", str(CORPUS / "reply" / "apple_mail_reschedule_fr.eml"), "--json"])
        == EXIT_OK
    )
    report = json.loads(capsys.readouterr().out)
    assert (report["kind"], report["intent"], report["new_due"]) == (
        "reply",
        "reschedule",
        "2026-12-03",
    )
    assert "d'ici le 3 décembre" in report["text"]
    assert "a écrit" not in report["text"]
    assert report["reasons"]
    assert report["token_check"].startswith(("none found", "not checked"))


def test_inspect_reply_checks_the_token_when_it_has_the_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COACHD_SIGNING_KEY", "k" * 40)
    message = tmp_path / "forged.eml"
    message.write_bytes(
        b"From: a@example.org\r\nTo: reply+"
        + b"a" * 39
        + b"@reply.example\r\nSubject: Re: x\r\n\r\ndone\r\n"
    )
    assert main(["inspect-reply", str(message)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "token_check invalid: signature" in out
    assert "intent      done" in out


def test_inspect_reply_reads_a_folder_as_one_json_line_per_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = CORPUS / "auto_reply"
    expected = sorted(str(p) for p in folder.rglob("*.eml"))

    assert main(["inspect-reply", str(folder)]) == EXIT_OK

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["file"] for line in lines] == expected
    assert {line["kind"] for line in lines} == {"auto_reply"}


def test_inspect_reply_with_several_files_names_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a.eml", tmp_path / "b.eml"
    first.write_bytes(b"From: a@example.org\r\nSubject: Re: x\r\n\r\nDone!\r\n")
    second.write_bytes(b"From: a@example.org\r\nSubject: Re: x\r\n\r\nI'm stuck.\r\n")

    assert main(["inspect-reply", str(first), str(second)]) == EXIT_OK

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["file"], line["intent"]) for line in lines] == [
        (str(first), "done"),
        (str(second), "blocked"),
    ]


def test_inspect_reply_on_an_empty_folder_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect-reply", str(tmp_path)]) == EXIT_INVALID
    assert "no messages found" in capsys.readouterr().err
