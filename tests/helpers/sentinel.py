"""A Redis primary, its replica and three sentinels, as real processes on free loopback ports.

The data nodes and the sentinels each have a password with characters that are reserved
in a URL, so coachd's settings must percent-encode them. Sentinel is tuned to act within
about a second (`down-after-milliseconds` 500), where the default would take 30 s.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import redis
import redis.sentinel

from daemon.store.embedded import LOOPBACK, pick_free_port
from daemon.store.target import SentinelTarget
from tests.helpers.redis import redis_server_binary

SERVICE = "coachd-primary"
NODE_PASSWORD = "n#de@p:ss/w?rd%"
SENTINEL_PASSWORD = "s#nt@nel:pw"
SENTINELS = 3
QUORUM = 2
DOWN_AFTER_MS = 500
FAILOVER_TIMEOUT_MS = 3000
READY_S = 20.0
POLL_S = 0.05
PROBE_KEY = "probe:writes"
PROBE_EVERY_S = 0.001
PROBE_RETRY_S = 0.01


def _quoted(value: str) -> str:
    """A value for redis.conf: in double quotes (a `#` would start a comment otherwise)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _wait(condition: Callable[[], bool], what: str, timeout: float = READY_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(redis.RedisError, OSError):
            if condition():
                return
        time.sleep(POLL_S)
    raise AssertionError(f"{what} within {timeout} s")


@dataclass
class Server:
    """One redis-server process (a data node or a sentinel)."""

    name: str
    port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self, binary: Path, config: str, *, sentinel: bool = False) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        conf = self.folder / f"{self.name}.conf"
        conf.write_text(config)
        argv = [str(binary), str(conf), *(["--sentinel"] if sentinel else [])]
        self.process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def kill(self) -> None:
        """SIGKILL, as when the machine dies: no clean-up, nothing more sent to replicas."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        path = self.folder / f"{self.name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


@dataclass
class SentinelSetup:
    """A primary, a replica and three sentinels that monitor it as SERVICE."""

    folder: Path
    binary: Path
    nodes: list[Server] = field(default_factory=list)
    sentinels: list[Server] = field(default_factory=list)

    @property
    def sentinels_setting(self) -> str:
        """COACHD_REDIS_SENTINELS for these sentinels."""
        return ",".join(f"{LOOPBACK}:{s.port}" for s in self.sentinels)

    @property
    def node_url(self) -> str:
        """COACHD_REDIS_URL in Sentinel mode: the data nodes' password, no host."""
        return f"redis://:{quote(NODE_PASSWORD, safe='')}@/0"

    def coachd_env(self) -> dict[str, str]:
        """The settings that point coachd at the primary through the sentinels."""
        return {
            "COACHD_REDIS_URL": self.node_url,
            "COACHD_REDIS_SENTINELS": self.sentinels_setting,
            "COACHD_REDIS_SENTINEL_SERVICE": SERVICE,
            "COACHD_REDIS_SENTINEL_PASSWORD": SENTINEL_PASSWORD,
        }

    def target(self, service: str = SERVICE, password: str = SENTINEL_PASSWORD) -> SentinelTarget:
        """What coachd builds from `coachd_env()` (another service or sentinel password,
        for the tests of what goes wrong)."""
        sentinels = tuple((LOOPBACK, s.port) for s in self.sentinels)
        return SentinelTarget(sentinels, service, node_url=self.node_url, password=password)

    def fail_over(self) -> None:
        """A planned failover: `SENTINEL FAILOVER`, as an operator types it."""
        with self.sentinel() as client:
            client.execute_command("SENTINEL", "FAILOVER", SERVICE)

    def node(self, port: int) -> redis.Redis:
        return redis.Redis(LOOPBACK, port, password=NODE_PASSWORD, socket_timeout=2)

    def sentinel(self, number: int = 0) -> redis.Redis:
        port = self.sentinels[number].port
        return redis.Redis(LOOPBACK, port, password=SENTINEL_PASSWORD, socket_timeout=2)

    def primary(self) -> redis.Redis:
        """A client of whichever node the sentinels name primary (redis-py's own Sentinel
        client, sync): it follows a failover."""
        manager = redis.sentinel.Sentinel(
            [(LOOPBACK, s.port) for s in self.sentinels],
            sentinel_kwargs={"password": SENTINEL_PASSWORD, "socket_timeout": 0.5},
        )
        client: redis.Redis = manager.master_for(SERVICE, password=NODE_PASSWORD, socket_timeout=2)
        return client

    def primary_ports(self) -> set[int]:
        """The primary's port as each sentinel says (during a failover they may differ)."""
        ports = set()
        for number in range(len(self.sentinels)):
            with self.sentinel(number) as client:
                _, port = client.sentinel_get_master_addr_by_name(SERVICE)
                ports.add(int(port))
        return ports

    def primary_port(self) -> int:
        """The primary's port, as every sentinel says."""
        ports = self.primary_ports()
        assert len(ports) == 1, f"the sentinels disagree: {ports}"
        return ports.pop()

    def server(self, port: int) -> Server:
        return next(node for node in self.nodes if node.port == port)

    def start(self, **node_config: str) -> None:
        """Start the nodes (`node_config`: extra redis.conf lines) and the sentinels; return
        once the replica is in sync and every sentinel knows the other two and the replica."""
        primary = Server("primary", pick_free_port(), self.folder / "primary")
        replica = Server("replica", pick_free_port(), self.folder / "replica")
        self.nodes = [primary, replica]
        extra = "".join(f"{key.replace('_', '-')} {value}\n" for key, value in node_config.items())
        primary.start(self.binary, self._node_config(primary) + extra)
        replica.start(
            self.binary,
            self._node_config(replica) + extra + f"replicaof {LOOPBACK} {primary.port}\n",
        )
        _wait(lambda: self._replica_in_sync(replica.port), "the replica was not in sync")
        for number in range(SENTINELS):
            server = Server(f"sentinel{number}", pick_free_port(), self.folder / f"s{number}")
            server.start(self.binary, self._sentinel_config(server, primary.port), sentinel=True)
            self.sentinels.append(server)
        for number in range(SENTINELS):
            _wait(lambda n=number: self._sentinel_ready(n), f"sentinel {number} was not ready")

    def _node_config(self, server: Server) -> str:
        return (
            f"port {server.port}\nbind {LOOPBACK}\ndir {server.folder}\n"
            f"logfile {server.folder / (server.name + '.log')}\n"
            'save ""\nappendonly yes\nappendfsync everysec\nmaxmemory-policy noeviction\n'
            "hash-max-listpack-value 2048\nrepl-diskless-sync-delay 0\n"
            f"requirepass {_quoted(NODE_PASSWORD)}\nmasterauth {_quoted(NODE_PASSWORD)}\n"
        )

    def _sentinel_config(self, server: Server, primary_port: int) -> str:
        return (
            f"port {server.port}\nbind {LOOPBACK}\ndir {server.folder}\n"
            f"logfile {server.folder / (server.name + '.log')}\n"
            f"requirepass {_quoted(SENTINEL_PASSWORD)}\n"
            f"sentinel sentinel-pass {_quoted(SENTINEL_PASSWORD)}\n"
            f"sentinel monitor {SERVICE} {LOOPBACK} {primary_port} {QUORUM}\n"
            f"sentinel auth-pass {SERVICE} {_quoted(NODE_PASSWORD)}\n"
            f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {SERVICE} {FAILOVER_TIMEOUT_MS}\n"
        )

    def _replica_in_sync(self, port: int) -> bool:
        with self.node(port) as client:
            return bool(client.info("replication").get("master_link_status") == "up")

    def _sentinel_ready(self, number: int) -> bool:
        with self.sentinel(number) as client:
            state: dict[str, Any] = client.sentinel_master(SERVICE)
        others = int(state.get("num-other-sentinels", 0))
        return others == SENTINELS - 1 and int(state.get("num-slaves", 0)) >= 1

    def wait_for_new_primary(self, old_port: int, timeout: float = READY_S) -> int:
        """The port of the node every sentinel names primary once it is not `old_port`, and
        that node answers as a primary."""

        def switched() -> bool:
            ports = self.primary_ports()
            if len(ports) != 1 or old_port in ports:
                return False
            with self.node(ports.pop()) as client:
                return bool(client.info("replication")["role"] == "master")

        _wait(switched, "no new primary was named")
        return self.primary_port()

    def stop(self) -> None:
        for server in [*self.sentinels, *self.nodes]:
            server.stop()


@contextmanager
def sentinel_setup(folder: Path, **node_config: str) -> Iterator[SentinelSetup]:
    """A running SentinelSetup, stopped on the way out. With no redis-server to run it
    skips locally and fails under CI."""
    setup = SentinelSetup(folder, redis_server_binary())
    try:
        setup.start(**node_config)
        yield setup
    finally:
        setup.stop()


@dataclass
class WriteProbe:
    """Writes INCR to the primary (found through the sentinels) about every millisecond, in
    a thread, and keeps each acknowledged value. After a failover, a value acknowledged
    twice was acknowledged first by a primary that lost it: those are the lost writes."""

    setup: SentinelSetup
    acked: list[tuple[float, int]] = field(default_factory=list)  # (monotonic time, value)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> WriteProbe:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        primary = self.setup.primary()
        while not self._stop.is_set():
            try:
                value = int(primary.incr(PROBE_KEY))
            except (redis.RedisError, OSError):
                time.sleep(PROBE_RETRY_S)
                continue
            self.acked.append((time.monotonic(), value))
            time.sleep(PROBE_EVERY_S)
        primary.close()

    def lost(self) -> list[tuple[float, int]]:
        """The acknowledged writes a failover lost: the new primary handed their value out
        again (the probe writes on long enough after a failover for that)."""
        first: dict[int, float] = {}
        lost = []
        for at, value in self.acked:
            if value in first:
                lost.append((first[value], value))
            else:
                first[value] = at
        return lost
