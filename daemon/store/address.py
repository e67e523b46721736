"""Where Redis is, as an operator writes it in the settings: checked here, without redis-py."""

from __future__ import annotations

from urllib.parse import urlparse

MAX_PORT = 65535


def parse_sentinels(text: str) -> tuple[tuple[str, int], ...]:
    """`host:port,host:port` (an IPv6 host in brackets) as (host, port) pairs; ValueError
    naming the first item that is not one."""
    pairs = []
    for item in (part.strip() for part in text.split(",")):
        host, _, port = item.rpartition(":")
        host = host.removeprefix("[").removesuffix("]")
        if not host or not port.isdigit() or not 1 <= int(port) <= MAX_PORT:
            raise ValueError(
                f"must be host:port pairs separated by commas, e.g. "
                f"10.0.0.1:26379,10.0.0.2:26379 ({item!r} is not one)"
            )
        pairs.append((host, int(port)))
    return tuple(pairs)


def sentinel_problem(
    sentinels: str | None, service: str | None, url: str | None, *, others_set: bool
) -> str | None:
    """What is wrong with this combination of Sentinel settings, if anything."""
    if sentinels is None:
        if service is not None or others_set:
            return (
                "COACHD_REDIS_SENTINEL_SERVICE, _USERNAME, _PASSWORD or _TLS is set but "
                "COACHD_REDIS_SENTINELS is not"
            )
        return None
    if not service:
        return (
            "COACHD_REDIS_SENTINEL_SERVICE must be set with COACHD_REDIS_SENTINELS "
            "(the primary's name in the sentinels' `sentinel monitor` line)"
        )
    if url is None:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in ("redis", "rediss") or parsed.hostname:
        return (
            "COACHD_REDIS_URL with COACHD_REDIS_SENTINELS gives only the primary's login, "
            "database and scheme, no host (the sentinels name the primary): "
            "redis://USER:PASSWORD@/0 or rediss://USER:PASSWORD@/0"
        )
    return None
