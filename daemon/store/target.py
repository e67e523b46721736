"""Where coachd's Redis is: a URL, or the primary that Sentinel names for a service.

Either way the connection options come from redis-py's own URL parsing (a user, a
percent-encoded password, the database, `rediss://` and its query options), and over TLS
the server's certificate chain and host name are always verified.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import parse_url

from daemon.errors import SettingsError
from daemon.store.sentinel import primary_client

R = TypeVar("R", bound=Redis)

DEFAULT_REDIS_PORT = 6379
# A sentinel that has not answered within this is passed over for the next one.
SENTINEL_TIMEOUT_S = 1.0
# What a URL may not switch off: coachd always checks the server's certificate and name.
_VERIFIED = {"ssl_cert_reqs": "required", "ssl_check_hostname": True}
# redis-py announces itself on every new connection with CLIENT SETINFO; Memorystore
# refuses CLIENT (and redis-py ignores the refusal): coachd does not send it.
_NO_CLIENT_SETINFO = {"lib_name": None, "lib_version": None}


@dataclass(frozen=True)
class RedisTls:
    """Files for TLS beyond the URL (COACHD_REDIS_TLS_CA, _CERT, _KEY); the URL's own
    `ssl_ca_certs`, `ssl_certfile` and `ssl_keyfile` query values win over these."""

    ca_certs: Path | None = None
    certfile: Path | None = None
    keyfile: Path | None = None

    def options(self) -> dict[str, Any]:
        """redis-py's options for a verified TLS connection with these files."""
        named = {"ssl_ca_certs": self.ca_certs, "ssl_certfile": self.certfile}
        named["ssl_keyfile"] = self.keyfile
        return {name: str(path) for name, path in named.items() if path is not None} | _VERIFIED


def _refuse_weakened(options: dict[str, Any]) -> None:
    weakened = [k for k, v in _VERIFIED.items() if options.get(k) != v]
    if weakened:
        raise SettingsError(
            f"the Redis URL sets {', '.join(weakened)}: coachd always verifies the Redis "
            "server's certificate and host name (set COACHD_REDIS_TLS_CA for a private CA)"
        )


def describe_url(url: str) -> str:
    """`url` as an operator may see it: scheme, host and port (or socket path), no password."""
    parsed = urlparse(url)
    if parsed.scheme == "unix":
        return f"unix://{parsed.path}"
    try:
        port = parsed.port or DEFAULT_REDIS_PORT
    except ValueError:
        port = DEFAULT_REDIS_PORT
    return f"{parsed.scheme}://{parsed.hostname or 'localhost'}:{port}"


@dataclass(frozen=True)
class UrlTarget:
    """One Redis server at a URL (`redis://`, `rediss://`, `unix://`)."""

    url: str = field(repr=False)  # may hold a password
    tls: RedisTls = RedisTls()

    def client(self, redis_class: type[R], **options: Any) -> R:
        """A `redis_class` client owning a new pool; `options` are connection options."""
        pool = self.pool(**options)
        return redis_class.from_pool(pool)  # type: ignore[return-value]

    def pool(self, **options: Any) -> ConnectionPool:
        """A pool for the URL parsed by redis-py (the password and user percent-decoded,
        query options honoured); for `rediss://` the certificate chain and host name are
        verified."""
        options |= _NO_CLIENT_SETINFO
        if urlparse(self.url).scheme != "rediss":
            return ConnectionPool.from_url(self.url, **options)
        pool = ConnectionPool.from_url(self.url, **(self.tls.options() | options))
        _refuse_weakened(pool.connection_kwargs)
        return pool

    def describe(self) -> str:
        return describe_url(self.url)


@dataclass(frozen=True)
class SentinelTarget:
    """The primary Redis Sentinel names for `service`, asked of `sentinels` at each connect.

    `node_url` gives the primary's user, password, database and scheme (`rediss://` for TLS)
    without a host: `redis://:PASSWORD@/0`. The sentinels have their own login and TLS.
    """

    sentinels: tuple[tuple[str, int], ...]
    service: str
    node_url: str | None = field(default=None, repr=False)
    username: str | None = None  # the sentinels' login
    password: str | None = field(default=None, repr=False)
    sentinel_tls: bool = False
    tls: RedisTls = RedisTls()

    def client(self, redis_class: type[R], **options: Any) -> R:
        """A `redis_class` client of the primary; `options` are connection options (and a
        `socket_connect_timeout` applies to the sentinels too)."""
        return primary_client(
            redis_class,
            list(self.sentinels),
            self.service,
            self._sentinel_options(options.get("socket_connect_timeout")),
            self._node_options() | options | _NO_CLIENT_SETINFO,
        )

    def _node_options(self) -> dict[str, Any]:
        if not self.node_url:
            return {}
        options: dict[str, Any] = dict(parse_url(self.node_url))
        options.pop("connection_class", None)  # the sentinel pool picks its own
        if urlparse(self.node_url).scheme != "rediss":
            return options
        options = self.tls.options() | options | {"ssl": True}
        _refuse_weakened(options)
        return options

    def _sentinel_options(self, connect_timeout_s: float | None) -> dict[str, Any]:
        options: dict[str, Any] = {
            "socket_timeout": SENTINEL_TIMEOUT_S,
            "socket_connect_timeout": connect_timeout_s or SENTINEL_TIMEOUT_S,
            "username": self.username,
            "password": self.password,
            **_NO_CLIENT_SETINFO,
        }
        if self.sentinel_tls:
            options |= {"ssl": True, **self.tls.options()}
        return options

    def describe(self) -> str:
        """The sentinels and the service, e.g. sentinel://10.0.0.1:26379,10.0.0.2:26379/coachd."""
        hosts = ",".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in self.sentinels)
        return f"sentinel://{hosts}/{self.service}"


RedisTarget = UrlTarget | SentinelTarget


def as_target(target: RedisTarget | str, tls: RedisTls | None = None) -> RedisTarget:
    """A URL given as text is a UrlTarget (with `tls`'s files)."""
    if isinstance(target, str):
        return UrlTarget(target, tls or RedisTls())
    return target
