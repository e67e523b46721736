"""A real `coachd run`'s log, as an operator reads it: every line JSON off a terminal (arq's
too, as named events), one start-up line saying what it is connected to, the ids of the coach
and the commitment on every email line, and no secret anywhere."""

from __future__ import annotations

import smtplib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from daemon.store.embedded import pick_free_port
from tests.daemon.test_secrets import SECRETS, SMTP_USER, auth_smtp
from tests.helpers import procs
from tests.helpers.smtp import SmtpTestServer

pytestmark = pytest.mark.integration
__all__ = ["auth_smtp"]  # the fixture: a recording SMTP server that wants SMTP_USER's login

COACH = "maria@northstar.example"
CLIENT = "client1@example.org"


def run_env(tmp_path: Path, redis_url: str, smtp: SmtpTestServer) -> dict[str, str]:
    """A daemon with every secret set and its log format left to `auto`."""
    env = procs.daemon_env(
        tmp_path,
        redis_url,
        smtp.host,
        smtp.port,
        receiver_port=str(pick_free_port()),
        http_port=str(pick_free_port()),
        smtp_user=SMTP_USER,
        **SECRETS,
    )
    del env["COACHD_LOG_FORMAT"]  # its log is a file: `auto` must choose JSON
    return env


def run_a_blocked_reply(
    env: dict[str, str], smtp: SmtpTestServer, log: Path
) -> procs.CoachdProcess:
    """Start coachd, have it prompt a client who answers "stuck" (the coach is told at once,
    by an arq job), then stop it."""
    with procs.CoachdProcess(env, log) as daemon:
        procs.emit(env, [procs.overdue_commitment(1, procs.now_utc())])
        assert procs.wait_for(lambda: len(smtp.messages) == 1), "the overdue prompt never came"
        with smtplib.SMTP("127.0.0.1", int(env["COACHD_RECEIVER_PORT"])) as receiver:
            prompt = smtp.messages[0].message
            receiver.send_message(procs.client_reply(prompt, "I'm stuck, no time this week.\n"))
        # The coach is told, and the client asked what would help.
        told = procs.wait_for(lambda: len(smtp.messages) == 3)
        assert told, "the coach was not told, or the client not asked what would help"
        daemon.stop(timeout=procs.WAIT_S)
    assert daemon.returncode == 0
    return daemon


def only(events: list[dict[str, Any]], name: str) -> dict[str, Any]:
    [event] = [e for e in events if e["event"] == name]
    return event


def test_a_runs_log_is_json_names_arqs_events_says_where_it_connects_and_holds_no_secret(
    redis_url: str, auth_smtp: SmtpTestServer, tmp_path: Path
) -> None:
    env = run_env(tmp_path, redis_url, auth_smtp)
    daemon = run_a_blocked_reply(env, auth_smtp, tmp_path / "daemon.log")

    text = daemon.log_text()
    events = daemon.events()
    assert len(events) == len(text.splitlines()) > 0  # every line is a JSON event
    assert_arq_lines_are_named_events(events)
    assert_the_start_up_line_says_where_it_connects(events, env, redis_url, auth_smtp)
    # Every email line names the coach and the commitment, the client's emails and the coach's.
    sent = [e for e in events if e["event"] in ("email_sent", "coach_email_sent")]
    assert sorted((e["event"], e["coach_id"], e["commitment_id"], e["kind"]) for e in sent) == [
        ("coach_email_sent", "maria", "c1", "coach_notice"),
        ("email_sent", "maria", "c1", "blocked"),  # "what would help?"
        ("email_sent", "maria", "c1", "overdue"),
    ]
    password = urlparse(redis_url).password
    for secret in (*SECRETS.values(), SMTP_USER, password or SECRETS["signing_key"]):
        assert secret not in text, secret
    assert COACH not in text
    assert CLIENT not in text


def assert_arq_lines_are_named_events(events: list[dict[str, Any]]) -> None:
    arq_lines = [e for e in events if e["logger"].startswith("arq")]
    assert {"arq_worker_starting", "job_started", "job_finished", "arq_shutdown"} <= {
        e["event"] for e in arq_lines
    }
    assert not [e for e in arq_lines if "→" in e["event"] or "←" in e["event"]]
    started = only(events, "job_started")
    assert started["function"] == "send_coach_notice"
    assert started["job_id"].startswith("notice:")


def assert_the_start_up_line_says_where_it_connects(
    events: list[dict[str, Any]], env: dict[str, str], redis_url: str, smtp: SmtpTestServer
) -> None:
    starting = events[0]  # the first thing an operator reads
    redis = urlparse(redis_url)
    assert starting == starting | {
        "event": "coachd_starting",
        "config_path": env["COACHD_CONFIG_PATH"],
        "redis": f"redis://{redis.hostname}:{redis.port}",
        "redis_embedded": False,
        "smtp": f"{smtp.host}:{smtp.port}",
        "smtp_tls": "none",
        "smtp_login": True,
        "inbound_routes": [
            "smtp_receiver",
            "webhook_postmark",
            "webhook_sendgrid",
            "webhook_mailgun",
        ],
        "receiver": f"127.0.0.1:{env['COACHD_RECEIVER_PORT']}",
        "http_port": int(env["COACHD_HTTP_PORT"]),
        "event_loop": "asyncio",  # the SMTP receiver is on: asyncio even with coachd[fast]
    }
