"""coachd on a Redis configured the way managed services are (ElastiCache, Memorystore).

The server has CONFIG renamed away, as ElastiCache does, and coachd logs in as an ACL user
(with a password full of URL-reserved characters) that may not run any command either
service restricts. After a start-up, events, sends and the one-off commands, the server's
own ACL log and command statistics say what coachd asked for.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import redis

from daemon.store.embedded import LOOPBACK, pick_free_port
from daemon.store.redisio import connect_client
from daemon.store.schedule import connect
from tests.helpers import procs
from tests.helpers.procs import CoachdProcess, now_utc, overdue_commitment
from tests.helpers.redis import redis_server_binary, wait_until_listening
from tests.helpers.smtp import SmtpTestServer

pytestmark = pytest.mark.integration

USER = "coachd"
PASSWORD = "p#w@d:s/x?y%z&+= !"
ADMIN_PASSWORD = "admin-only"
# Commands ElastiCache restricts and Memorystore blocks (their documentation, 2025), by the
# name Redis counts them under (a subcommand is `command|sub`).
FORBIDDEN = frozenset({
    "acl", "bgrewriteaof", "bgsave", "client", "cluster", "command", "config", "debug",
    "lastsave", "migrate", "monitor", "object", "psync", "replicaof", "save", "shutdown",
    "slaveof", "sync",
})  # fmt: skip
EVENTS = 5


@dataclass(frozen=True)
class ManagedRedis:
    port: int

    @property
    def url(self) -> str:
        """What an operator writes: the ACL user and its password, percent-encoded."""
        return f"redis://{USER}:{quote(PASSWORD, safe='')}@{LOOPBACK}:{self.port}/0"

    def admin(self) -> redis.Redis:
        return redis.Redis(LOOPBACK, self.port, password=ADMIN_PASSWORD, decode_responses=True)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture
def managed_redis(tmp_path: Path) -> Iterator[ManagedRedis]:
    folder = tmp_path / "managed-redis"
    folder.mkdir()
    port, log = pick_free_port(), folder / "redis.log"
    # What the coachd user may not run: every restricted command that still exists here.
    denied = " ".join(f"-{name}" for name in sorted(FORBIDDEN - {"config"}))
    (folder / "redis.conf").write_text(
        f"port {port}\nbind {LOOPBACK}\ndir {folder}\nlogfile {log}\n"
        'save ""\nappendonly yes\nrename-command CONFIG ""\n'
        f"user default on {_quoted('>' + ADMIN_PASSWORD)} ~* &* +@all\n"
        f"user {USER} on {_quoted('>' + PASSWORD)} ~* &* +@all {denied}\n"
    )
    process = subprocess.Popen(
        [str(redis_server_binary()), str(folder / "redis.conf")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_listening(process, port, log)
        yield ManagedRedis(port)
    finally:
        process.terminate()
        process.wait()


def test_coachd_issues_no_command_a_managed_redis_forbids(
    managed_redis: ManagedRedis, smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    env = procs.daemon_env(tmp_path, managed_redis.url, smtp_server.host, smtp_server.port)
    now = now_utc()
    with CoachdProcess(env, tmp_path / "daemon.log") as daemon:
        assert daemon.wait_for_event("worker_started")
        procs.emit(env, [overdue_commitment(n, now) for n in range(EVENTS)])
        assert procs.wait_for(lambda: len(smtp_server.messages) >= EVENTS)
        for command in (["status"], ["migrate"], ["export-client", "client0"]):
            done = procs.coachd(env, *command)
            assert done.returncode == 0, done.stderr
    assert daemon.returncode == 0
    # CONFIG GET is refused (CONFIG is gone here): tolerated, and said once.
    unchecked = daemon.logged("redis_settings_unchecked")
    assert len(unchecked) == 1
    assert "unknown command 'CONFIG'" in unchecked[0]["error"]
    with managed_redis.admin() as admin:
        used = sorted(name.removeprefix("cmdstat_") for name in admin.info("commandstats"))
        denied = admin.acl_log()
    print("commands coachd used:", " ".join(used))
    assert denied == []
    assert [name for name in used if name.split("|")[0] in FORBIDDEN] == []


async def test_coachds_connections_do_not_announce_themselves_with_client_setinfo(
    managed_redis: ManagedRedis,
) -> None:
    """redis-py sends CLIENT SETINFO on each new connection; Memorystore blocks CLIENT (Redis
    7.0, run here, does not know SETINFO, so the ACL log above cannot show it)."""
    for client in (await connect(managed_redis.url), connect_client(managed_redis.url)):
        try:
            async with client.client() as single:  # one connection, made now
                await single.ping()
                connection = single.connection
                assert connection is not None
                assert (connection.lib_name, connection.lib_version) == (None, None)
        finally:
            await client.aclose()
