"""`coachd run` as a real process: it sends what is due and exits 0 on SIGTERM."""

from __future__ import annotations

import smtplib
import urllib.request
from pathlib import Path

import httpx
import pytest
import redis as redis_sync
from prometheus_client.parser import text_string_to_metric_families

from daemon.store import keys
from daemon.store.embedded import pick_free_port
from tests.helpers.procs import (
    WAIT_S,
    CoachdProcess,
    client_reply,
    daemon_env,
    emit,
    now_utc,
    overdue_commitment,
    wait_for,
)
from tests.helpers.smtp import SmtpTestServer

pytestmark = pytest.mark.integration


def test_run_sends_a_prompt_reads_the_reply_and_stops_cleanly_on_sigterm(
    redis_url: str, smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    receiver_port, http_port = pick_free_port(), pick_free_port()
    env = daemon_env(
        tmp_path,
        redis_url,
        smtp_server.host,
        smtp_server.port,
        receiver_port=str(receiver_port),
        http_port=str(http_port),
    )
    event = overdue_commitment(1, now_utc())
    with CoachdProcess(env, tmp_path / "daemon.log") as daemon:
        emit(env, [event])
        assert wait_for(lambda: len(smtp_server.messages) == 1), "the overdue prompt never came"
        with smtplib.SMTP("127.0.0.1", receiver_port) as smtp:
            done = "Done, finally!\n\nSent from my iPhone\n"
            smtp.send_message(client_reply(smtp_server.messages[0].message, done))
        with redis_sync.Redis.from_url(redis_url) as state:
            assert wait_for(lambda: state.hget(keys.commitment("c1"), "status") == b"completed")
        # The reply is acknowledged at once (the send window is open): wait for it, or the
        # stop races it.
        assert wait_for(lambda: len(smtp_server.messages) == 2), "the reply was not acknowledged"
        url = f"http://127.0.0.1:{http_port}/healthz"
        with urllib.request.urlopen(url, timeout=5) as health:
            assert health.status == 200
        with urllib.request.urlopen(url.replace("healthz", "metrics"), timeout=5) as scraped:
            found = {
                (sample.name, tuple(sorted(sample.labels.values()))): sample.value
                for family in text_string_to_metric_families(scraped.read().decode())
                for sample in family.samples
            }
        daemon.stop(timeout=WAIT_S)

    assert daemon.returncode == 0
    # The process's own /metrics counted what it did: wired into every part of `coachd run`.
    assert [
        found[("coachd_events_applied_total", ("commitment.created",))],
        found[("coachd_events_applied_total", ("reply.received",))],
        found[("coachd_replies_total", ("done", "reply"))],
        found[("coachd_emails_total", ("overdue", "sent"))],
        found[("coachd_emails_total", ("ack", "sent"))],
        found[("coachd_steps_fired_total", ())],
    ] == [1, 1, 1, 1, 1, 2]
    assert smtp_server.messages[0].rcpt_tos == ["client1@example.org"]
    sent = daemon.logged("email_sent")
    assert [(s["commitment_id"], s["step"]) for s in sent] == [
        ("c1", "overdue-1d"),
        ("c1", "ack-1"),
    ]
    assert "client1@example.org" not in daemon.log_text()  # ids in logs, never addresses
    assert daemon.logged("worker_stopped")
    # The test firm's addresses are on .example: valid, so it runs, and the log says so.
    [placeholders] = daemon.logged("coach_config_placeholders")
    assert f"{tmp_path / 'coachd.toml'}: firm.reply_domain" in placeholders["keys"]


def test_run_serves_post_events_and_sends_what_a_posted_event_plans(
    redis_url: str, smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    """COACHD_EVENTS_TOKEN turns POST /events on in `coachd run`; what it accepts is applied."""
    http_port, token = pick_free_port(), "t" * 32
    env = daemon_env(
        tmp_path,
        redis_url,
        smtp_server.host,
        smtp_server.port,
        http_port=str(http_port),
        events_token=token,
    )
    event = overdue_commitment(1, now_utc())
    with CoachdProcess(env, tmp_path / "daemon.log") as daemon:
        assert daemon.wait_for_event("http_listening")
        response = httpx.post(
            f"http://127.0.0.1:{http_port}/events",
            json=event,
            headers={"Authorization": f"Bearer {token}"},
            timeout=WAIT_S,
        )
        assert wait_for(lambda: len(smtp_server.messages) == 1), "the overdue prompt never came"
        daemon.stop(timeout=WAIT_S)
    assert (response.status_code, response.json()["results"]) == (
        202,
        [{"line": 1, "event_id": "e1", "result": "accepted"}],
    )
    assert smtp_server.messages[0].rcpt_tos == ["client1@example.org"]
    assert token not in daemon.log_text()
