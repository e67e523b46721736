"""A Redis Cluster node is refused at connect, with what to do (issue 18 is not built yet)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.cli import main
from daemon.commands import EXIT_CONFIG
from daemon.errors import RedisClusterError
from daemon.store.embedded import LOOPBACK, pick_free_port
from daemon.store.schedule import connect
from tests.helpers.cli import stored_state_environment
from tests.helpers.redis import redis_server_binary, wait_until_listening

pytestmark = pytest.mark.integration


CLUSTER_BUS_OFFSET = 10_000  # a cluster node also listens on its port + 10,000
MAX_PORT = 65_535


def cluster_port() -> int:
    """A free port whose cluster-bus port (+10,000) is a port, and free too."""
    while True:
        port = pick_free_port()
        bus = port + CLUSTER_BUS_OFFSET
        if bus > MAX_PORT:
            continue
        with socket.socket() as probe:
            try:
                probe.bind((LOOPBACK, bus))
            except OSError:
                continue
        return port


@pytest.fixture
def cluster_node(tmp_path: Path) -> Iterator[str]:
    """A redis-server in cluster mode (one node, no slots yet: what `cluster create` starts
    from)."""
    port = cluster_port()
    log = tmp_path / "node.log"
    args = [
        str(redis_server_binary()), "--port", str(port), "--bind", LOOPBACK,
        "--cluster-enabled", "yes", "--cluster-config-file", str(tmp_path / "nodes.conf"),
        "--dir", str(tmp_path), "--save", "", "--appendonly", "no", "--logfile", str(log),
    ]  # fmt: skip
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_listening(process, port, log)
        yield f"redis://{LOOPBACK}:{port}/0"
    finally:
        process.kill()
        process.wait()


async def test_connecting_to_a_cluster_node_says_it_is_not_supported(cluster_node: str) -> None:
    with pytest.raises(RedisClusterError, match=r"Redis Cluster node.*Sentinel"):
        await connect(cluster_node)


async def test_a_command_pointed_at_a_cluster_node_ends_with_one_line_and_the_config_exit(
    cluster_node: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    firm_config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stored_state_environment(monkeypatch, tmp_path, cluster_node, firm_config)

    assert await asyncio.to_thread(main, ["status"]) == EXIT_CONFIG
    assert "is a Redis Cluster node" in capsys.readouterr().err


async def test_a_single_redis_is_not_mistaken_for_a_cluster(redis_url: str) -> None:
    redis = await connect(redis_url)
    await redis.aclose()
