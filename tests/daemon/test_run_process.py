"""`coachd run` as a real process: it sends what is due and exits 0 on SIGTERM."""

from __future__ import annotations

import smtplib
import urllib.request
from email.message import EmailMessage
from pathlib import Path

import pytest
import redis as redis_sync

from daemon.store import keys
from daemon.store.embedded import pick_free_port
from tests.helpers.procs import (
    WAIT_S,
    CoachdProcess,
    daemon_env,
    emit,
    now_utc,
    overdue_commitment,
    wait_for,
)
from tests.helpers.smtp import SmtpTestServer

pytestmark = pytest.mark.integration


def reply_done(prompt: EmailMessage) -> EmailMessage:
    answer = EmailMessage()
    answer["From"] = "Client One <client1@example.org>"
    answer["To"] = prompt["Reply-To"]
    answer["Subject"] = f"Re: {prompt['Subject']}"
    answer["Message-ID"] = "<answer-1@example.org>"
    answer["In-Reply-To"] = prompt["Message-ID"]
    answer.set_content("Done, finally!\n\nSent from my iPhone\n")
    return answer


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
            smtp.send_message(reply_done(smtp_server.messages[0].message))
        with redis_sync.Redis.from_url(redis_url) as state:
            assert wait_for(lambda: state.hget(keys.commitment("c1"), "status") == b"completed")
        # The reply is acknowledged at once (the send window is open): wait for it, or the
        # stop races it.
        assert wait_for(lambda: len(smtp_server.messages) == 2), "the reply was not acknowledged"
        url = f"http://127.0.0.1:{http_port}/healthz"
        with urllib.request.urlopen(url, timeout=5) as health:
            assert health.status == 200
        daemon.stop(timeout=WAIT_S)

    assert daemon.returncode == 0
    assert smtp_server.messages[0].rcpt_tos == ["client1@example.org"]
    sent = daemon.logged("email_sent")
    assert [(s["commitment_id"], s["step"]) for s in sent] == [("c1", "overdue-1d"), ("c1", "ack")]
    assert "client1@example.org" not in daemon.log_text()  # ids in logs, never addresses
    assert daemon.logged("worker_stopped")
    # The test firm's addresses are on .example: valid, so it runs, and the log says so.
    [placeholders] = daemon.logged("coach_config_placeholders")
    assert f"{tmp_path / 'coachd.toml'}: firm.reply_domain" in placeholders["keys"]
