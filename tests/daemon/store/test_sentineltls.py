"""Redis Sentinel over TLS: a sentinel on a TLS port only, and primaries whose certificates
do or do not name the address Sentinel gives for them (tests/helpers/tls.py makes them)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from redis.asyncio import Redis

from daemon.cli import main
from daemon.commands import EXIT_OK
from daemon.errors import RedisUnreachableError
from daemon.store.embedded import LOOPBACK
from daemon.store.redisio import connect_client, ping_until_answering
from daemon.store.schedule import connect
from daemon.store.target import RedisTls, SentinelTarget
from tests.helpers.cli import clean_environment
from tests.helpers.tls import (
    PASSWORD,
    issue,
    make_ca,
    need_openssl,
    start_tls_redis,
    start_tls_sentinel,
)

pytestmark = pytest.mark.integration


async def _answers(redis: Redis) -> bool:
    try:
        return bool(await redis.ping())
    finally:
        await redis.aclose()


@dataclass(frozen=True)
class TlsSentinel:
    """A TLS sentinel (certificate for localhost) monitoring WITH_IP, a primary whose
    certificate names 127.0.0.1 (the address Sentinel gives), and DNS_ONLY, whose does not."""

    port: int
    ca: Path

    def target(self, service: str, host: str = "localhost") -> SentinelTarget:
        node_url = f"rediss://:{quote(PASSWORD, safe='')}@/0"
        tls = RedisTls(self.ca)
        return SentinelTarget(((host, self.port),), service, node_url, sentinel_tls=True, tls=tls)


WITH_IP, DNS_ONLY = "with-ip", "dns-only"


@pytest.fixture(scope="module")
def tls_sentinel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsSentinel]:
    need_openssl()
    folder = tmp_path_factory.mktemp("tls-sentinel")
    ca = make_ca(folder)
    started: list[subprocess.Popen[bytes]] = []
    try:
        with_ip = start_tls_redis(folder, issue(folder, "ip", "localhost", LOOPBACK), ca, "no")
        dns_only = start_tls_redis(folder, issue(folder, "dns", "localhost"), ca, "no")
        started += [with_ip[0], dns_only[0]]
        cert = issue(folder, "sentinel", "localhost")
        sentinel = start_tls_sentinel(
            folder, cert, ca, {WITH_IP: with_ip[2], DNS_ONLY: dns_only[2]}
        )
        started.append(sentinel[0])
        yield TlsSentinel(sentinel[1], ca)
    finally:
        for process in started:
            process.terminate()
            process.wait()


async def _reached(target: SentinelTarget) -> bool:
    """One try through `target`: True, or the RedisUnreachableError saying why not."""
    client = connect_client(target)
    try:
        await ping_until_answering(client, target.describe(), tries=1)
        return True
    finally:
        await client.aclose()


async def test_sentinel_and_its_primary_over_tls_with_names_checked_connect(
    tls_sentinel: TlsSentinel,
) -> None:
    assert await _answers(await connect(tls_sentinel.target(WITH_IP)))
    assert await _reached(tls_sentinel.target(WITH_IP))


def test_the_tls_sentinel_settings_reach_the_primary(
    tls_sentinel: TlsSentinel, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_environment(monkeypatch, tmp_path)
    for name, value in {
        "COACHD_REDIS_SENTINELS": f"localhost:{tls_sentinel.port}",
        "COACHD_REDIS_SENTINEL_SERVICE": WITH_IP,
        "COACHD_REDIS_SENTINEL_TLS": "true",
        "COACHD_REDIS_URL": tls_sentinel.target(WITH_IP).node_url or "",
        "COACHD_REDIS_TLS_CA": str(tls_sentinel.ca),
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["status"]) == EXIT_OK


async def test_a_primary_whose_certificate_does_not_name_the_address_sentinel_gives_is_refused(
    tls_sentinel: TlsSentinel,
) -> None:
    with pytest.raises(RedisUnreachableError, match="IP address mismatch"):
        await _reached(tls_sentinel.target(DNS_ONLY))


async def test_a_sentinel_whose_certificate_does_not_name_it_is_refused(
    tls_sentinel: TlsSentinel,
) -> None:
    with pytest.raises(RedisUnreachableError, match=r"no sentinel answered \(certificate verify"):
        await _reached(tls_sentinel.target(WITH_IP, host=LOOPBACK))
