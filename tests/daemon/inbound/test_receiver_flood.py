"""A connection flood against a real `coachd run` whose descriptor limit is lowered (prlimit).

Before the session cap, ~1,000 idle connections used up the process's descriptors: the HTTP
server stopped answering and asyncio logged an EMFILE traceback every time accept() failed.
"""

from __future__ import annotations

import os
import resource
import smtplib
import socket
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import pytest

from daemon.store.embedded import pick_free_port
from tests.helpers.procs import WAIT_S, CoachdProcess, daemon_env, wait_for
from tests.helpers.smtp import SmtpTestServer

pytestmark = pytest.mark.integration

CAP = 40
FLOOD = 300  # far more than the descriptors the daemon is given
HEADROOM = 120  # descriptors above what the idle daemon holds: room for the cap, not the flood
FD_SLACK = 15  # a transient accept, an HTTP request, a Redis reconnect
EXHAUSTED_S = 2.5  # asyncio retries a failed accept() every second
REPLY_S = 3.0
# The flood's SYNs beyond the small accept backlog are dropped and retried by the kernel (1 s,
# 3 s, 7 s, 15 s, 31 s later): until they are all answered, a probe's own SYN may be dropped too
# and retried, so on a loaded machine the first 421 can take half a minute to reach it.
FLOODED_S = 60.0
PROBE_S = 10.0
REPLY_DOMAIN = "reply.northstar.example"


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=REPLY_S) as r:
            return bool(r.status == 200)
    except OSError:
        return False


@contextmanager
def flood(port: int, count: int) -> Iterator[list[socket.socket]]:
    """`count` connections opened at once (non-blocking: a full backlog does not stall us)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            sockets.append(sock)
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def banner(port: int, timeout: float = REPLY_S) -> bytes:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            return sock.recv(512)
    except OSError:
        return b""


def reply() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "ana@example.org"
    message["To"] = f"reply+aaaaaaaa@{REPLY_DOMAIN}"
    message["Subject"] = "Re: your commitment"
    message.set_content("Done!\n")
    return message


@contextmanager
def descriptor_limit(pid: int, soft: int) -> Iterator[None]:
    previous = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, previous[1]))
    try:
        yield
    finally:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, previous)


def test_a_flood_is_refused_with_421_while_http_answers_and_accept_errors_stay_quiet(
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
        receiver_max_sessions=str(CAP),
        receiver_max_sessions_per_ip=str(CAP),
    )
    with CoachdProcess(env, tmp_path / "daemon.log") as daemon:
        assert wait_for(lambda: healthy(http_port)), "coachd never served /healthz"
        idle = open_fds(daemon.pid)
        with descriptor_limit(daemon.pid, idle + HEADROOM):
            with flood(receiver_port, FLOOD):
                # The flood's SYNs beyond the small backlog are retried by the kernel: give it
                # time to fill the cap, after which every newcomer gets the 421.
                refused = b"421 4.3.2 "
                assert wait_for(
                    lambda: banner(receiver_port, PROBE_S).startswith(refused), FLOODED_S
                )
                assert healthy(http_port), "HTTP stopped answering under the flood"
                assert open_fds(daemon.pid) <= idle + CAP + FD_SLACK
            assert not daemon.logged("receiver_accept_failed")  # the cap held, not the limit
            assert wait_for(lambda: banner(receiver_port).startswith(b"220 "), WAIT_S)
            with smtplib.SMTP("127.0.0.1", receiver_port, timeout=REPLY_S) as smtp:
                assert smtp.send_message(reply()) == {}
        # Now starve it for real: descriptors run out before the cap does.
        with descriptor_limit(daemon.pid, open_fds(daemon.pid) + 3), flood(receiver_port, CAP):
            time.sleep(EXHAUSTED_S)
        assert healthy(http_port)
        daemon.stop(timeout=WAIT_S)
    log = daemon.log_text()
    assert "Traceback" not in log
    assert "out of system resource" not in log
    assert len(daemon.logged("receiver_accept_failed")) <= 2  # once a minute, then at exit
    assert daemon.logged("receiver_overloaded")
