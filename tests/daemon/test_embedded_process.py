"""`coachd run` with its embedded Redis, as real processes: one owner per data directory, a
killed redis-server restarted (or coachd ended for systemd), a password on every connection."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
from pathlib import Path

import pytest
import redis as redis_sync

from daemon.errors import EmbeddedRedisError
from daemon.store.embedded import LOOPBACK, find_redis_server
from tests.helpers.procs import (
    COACHD,
    CoachdProcess,
    coachd,
    embedded_env,
    emit,
    now_utc,
    overdue_commitment,
    wait_for,
)
from tests.helpers.smtp import SmtpTestServer

pytestmark = pytest.mark.integration

START_S = 30.0
RESTART_S = 30.0
# The supervisor's five tries (~15 s) and the worker's shutdown, which with Redis gone waits
# out its grace periods (~40 s today).
GIVE_UP_S = 90.0


@pytest.fixture(autouse=True)
def _redis_server_binary() -> None:
    try:
        find_redis_server()
    except EmbeddedRedisError as error:
        pytest.skip(str(error))


@pytest.fixture
def env(tmp_path: Path, smtp_server: SmtpTestServer) -> dict[str, str]:
    return embedded_env(tmp_path, smtp_server.host, smtp_server.port)


def data_dir(env: dict[str, str]) -> Path:
    return Path(env["COACHD_DATA_DIR"])


def started(daemon: CoachdProcess) -> None:
    assert daemon.wait_for_event("worker_started", START_S), daemon.log_text()


def redis_pid(env: dict[str, str]) -> int:
    return int((data_dir(env) / "redis" / "redis.pid").read_text())


def url_of(env: dict[str, str]) -> str:
    return (data_dir(env) / "redis.url").read_text().strip()


def pings(url: str) -> bool:
    with redis_sync.Redis.from_url(url, socket_timeout=2) as client:
        return bool(client.ping())


def test_a_second_run_on_the_data_dir_exits_3_and_the_first_keeps_its_redis(
    env: dict[str, str], tmp_path: Path
) -> None:
    with CoachdProcess(env, tmp_path / "first.log") as first:
        started(first)
        url = url_of(env)
        second = subprocess.Popen(
            [*COACHD, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            _, stderr = second.communicate(timeout=START_S)
        finally:
            second.kill()
            second.wait()
        assert second.returncode == 3, stderr
        assert (
            stderr.strip() == f"coachd: data directory {data_dir(env)} is in use by pid {first.pid}"
        )
        assert first.running
        assert url_of(env) == url
        assert pings(url)
        status = coachd(env, "status")  # connecting, not starting: allowed while it runs
        assert status.returncode == 0, status.stderr
        assert first.stop() == 0


def test_redis_url_is_private_and_a_client_without_the_password_is_refused(
    env: dict[str, str], tmp_path: Path
) -> None:
    with CoachdProcess(env, tmp_path / "daemon.log") as daemon:
        started(daemon)
        url_file = data_dir(env) / "redis.url"
        assert stat.S_IMODE(url_file.stat().st_mode) == 0o600
        url = url_of(env)
        port = redis_sync.Redis.from_url(url).connection_pool.connection_kwargs["port"]
        assert url.startswith("redis://:") and url.endswith(f"@{LOOPBACK}:{port}/0")
        with (
            redis_sync.Redis(host=LOOPBACK, port=port) as anonymous,
            pytest.raises(redis_sync.AuthenticationError, match=r"NOAUTH|Authentication required"),
        ):
            anonymous.ping()
        assert pings(url)
        assert daemon.stop() == 0
    assert not url_file.exists()


def test_a_killed_embedded_redis_is_restarted_and_a_later_event_is_applied(
    env: dict[str, str], tmp_path: Path, smtp_server: SmtpTestServer
) -> None:
    with CoachdProcess(env, tmp_path / "daemon.log") as daemon:
        started(daemon)
        url, killed = url_of(env), redis_pid(env)
        os.kill(killed, signal.SIGKILL)
        assert daemon.wait_for_event("embedded_redis_restarted", RESTART_S), daemon.log_text()
        [restarted] = daemon.logged("embedded_redis_restarted")
        assert restarted["attempt"] == 1
        assert restarted["pid"] != killed
        assert url_of(env) == url  # same port and password: every client's URL still works
        emit(env, [overdue_commitment(1, now_utc())])
        assert wait_for(lambda: len(smtp_server.messages) == 1, RESTART_S), daemon.log_text()
        assert smtp_server.messages[0].rcpt_tos == ["client1@example.org"]
        assert daemon.stop() == 0


def test_an_embedded_redis_that_cannot_come_back_ends_coachd_with_exit_75(
    env: dict[str, str], tmp_path: Path
) -> None:
    # Winding down without Redis waits out the shutdown grace; this test is about the exit.
    env = env | {"COACHD_SHUTDOWN_GRACE_S": "1"}
    with CoachdProcess(env, tmp_path / "daemon.log") as daemon:
        started(daemon)
        port = redis_sync.Redis.from_url(url_of(env)).connection_pool.connection_kwargs["port"]
        with socket.socket() as squatter:
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            os.kill(redis_pid(env), signal.SIGKILL)
            assert wait_for(lambda: _bound(squatter, port), 5.0), "the port was not freed"
            squatter.listen()
            assert daemon.wait(GIVE_UP_S) == os.EX_TEMPFAIL, daemon.log_text()
    tries = daemon.logged("embedded_redis_restart_failed")
    assert [t["attempt"] for t in tries] == [1, 2, 3, 4, 5]
    assert daemon.logged("embedded_redis_lost")
    assert "Traceback" not in daemon.log_text()


def _bound(sock: socket.socket, port: int) -> bool:
    try:
        sock.bind((LOOPBACK, port))
    except OSError:
        return False
    return True


def test_status_with_the_embedded_redis_gone_says_one_line_and_exits_3(
    env: dict[str, str], tmp_path: Path
) -> None:
    with CoachdProcess(env, tmp_path / "daemon.log") as daemon:
        started(daemon)
        orphan = redis_pid(env)
        daemon.kill()  # coachd gone, its redis.url left behind
    os.kill(orphan, signal.SIGKILL)  # and the redis-server it had started
    assert wait_for(lambda: not Path(f"/proc/{orphan}").exists(), 5.0)
    status = coachd(env, "status")
    assert status.returncode == 3
    assert "Traceback" not in status.stderr
    [line] = status.stderr.strip().splitlines()
    assert line.startswith(f"coachd: the embedded Redis named in {data_dir(env) / 'redis.url'}")
