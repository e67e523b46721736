"""Redis over TLS and awkward passwords, against a real TLS redis-server and a CA made here
(tests/helpers/tls.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from redis.asyncio import Redis

from daemon.errors import SettingsError
from daemon.store.embedded import LOOPBACK
from daemon.store.redisio import connect_client
from daemon.store.schedule import connect
from daemon.store.target import RedisTls
from tests.helpers.tls import PASSWORD, issue, make_ca, need_openssl, start_tls_redis

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class TlsRedis:
    """A redis-server with a plain and a TLS port, its certificate issued for `cert_host`."""

    plain_port: int
    tls_port: int
    ca: Path
    client: RedisTls  # the CA, and a client certificate the server accepts

    def url(self, scheme: str = "rediss", host: str = "localhost", query: str = "") -> str:
        port = self.tls_port if scheme == "rediss" else self.plain_port
        return f"{scheme}://:{quote(PASSWORD, safe='')}@{host}:{port}/0{query}"


def _servers(folder: Path) -> Iterator[tuple[TlsRedis, TlsRedis]]:
    need_openssl()
    ca = make_ca(folder)
    client_cert = issue(folder, "client", "coachd-client")
    client = RedisTls(ca, *client_cert)
    right, wrong = start_tls_redis(folder, issue(folder, "localhost", "localhost"), ca), None
    try:
        # No client certificate asked: only the host name can refuse it.
        wrong = start_tls_redis(
            folder, issue(folder, "other", "wrong.example"), ca, auth_clients="no"
        )
        yield (
            TlsRedis(right[1], right[2], ca, client),
            TlsRedis(wrong[1], wrong[2], ca, client),
        )
    finally:
        for started in (right, wrong):
            if started is not None:
                started[0].terminate()
                started[0].wait()


@pytest.fixture(scope="module")
def tls_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TlsRedis, TlsRedis]]:
    """A TLS Redis with a certificate for localhost that asks for a client certificate,
    and one whose certificate names wrong.example; both with a password full of reserved
    characters."""
    yield from _servers(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def localhost(tls_servers: tuple[TlsRedis, TlsRedis]) -> TlsRedis:
    return tls_servers[0]


async def _answers(redis: Redis) -> bool:
    try:
        return bool(await redis.ping())
    finally:
        await redis.aclose()


async def test_the_ca_and_client_certificate_from_settings_connect_the_queue_and_the_cli(
    localhost: TlsRedis,
) -> None:
    assert await _answers(await connect(localhost.url(), localhost.client))
    assert await _answers(connect_client(localhost.url(), localhost.client))


async def test_the_ca_and_client_certificate_from_the_url_query_connect(
    localhost: TlsRedis,
) -> None:
    tls = localhost.client
    query = f"?ssl_ca_certs={tls.ca_certs}&ssl_certfile={tls.certfile}&ssl_keyfile={tls.keyfile}"
    assert await _answers(await connect(localhost.url(query=query)))


async def test_a_certificate_for_another_host_is_refused_even_from_a_trusted_ca(
    tls_servers: tuple[TlsRedis, TlsRedis], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CA is trusted system-wide here (SSL_CERT_FILE), so only the host name is wrong."""
    wrong = tls_servers[1]
    monkeypatch.setenv("SSL_CERT_FILE", str(wrong.ca))
    with pytest.raises(Exception, match=r"(?i)hostname|doesn.t match"):
        await _answers(await connect(wrong.url()))
    with pytest.raises(Exception, match=r"(?i)hostname|doesn.t match"):
        await _answers(connect_client(wrong.url(), wrong.client))


async def test_without_the_ca_the_server_is_refused(localhost: TlsRedis) -> None:
    no_ca = RedisTls(None, localhost.client.certfile, localhost.client.keyfile)
    with pytest.raises(Exception, match="certificate verify failed"):
        await _answers(await connect(localhost.url(), no_ca))


def test_a_url_that_switches_verification_off_is_a_settings_error(localhost: TlsRedis) -> None:
    for query in ("?ssl_cert_reqs=none", "?ssl_check_hostname=false"):
        with pytest.raises(SettingsError, match="always verifies"):
            connect_client(localhost.url(query=query), localhost.client)


async def test_a_percent_encoded_password_with_reserved_characters_connects(
    localhost: TlsRedis,
) -> None:
    """`#`, `@`, `:`, `/`, `?` and `%` in the password, percent-encoded in the URL."""
    plain = localhost.url(scheme="redis", host=LOOPBACK)
    assert await _answers(await connect(plain))
    assert await _answers(connect_client(plain))
