"""Redis through Sentinel: every new connection asks the sentinels which node is the primary.

redis-py's Sentinel client does most of it (`Sentinel.master_for` builds the same pool as
`SentinelPool` here); these subclasses add what coachd needs on top: the sentinels'
connections closed with the pool, a reason when no primary is found, and a primary that
refuses writes for want of replicas treated like one that became a replica.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from redis.asyncio import Redis
from redis.asyncio.sentinel import (
    MasterNotFoundError,
    Sentinel,
    SentinelConnectionPool,
    SentinelManagedConnection,
    SentinelManagedSSLConnection,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

# A primary configured with min-replicas-to-write answers writes with this when it lost its
# replicas: after a failover it is the old primary, not yet turned into a replica.
NO_REPLICAS = "NOREPLICAS"

R = TypeVar("R", bound=Redis)


class PrimaryNotFound(MasterNotFoundError):
    """Raised when no sentinel names an up primary for the service: either none answered
    (the last one's error is the cause) or those that answered know none."""

    def __init__(self, service: str, *, answered: bool) -> None:
        what = "know no primary" if answered else "did not answer, so no primary is known"
        super().__init__(f"the sentinels {what} for {service!r}")
        self.service = service
        self.answered = answered


class SentinelManager(Sentinel):
    """redis-py's Sentinel client, with `discover_master` keeping why it failed."""

    async def discover_master(self, service_name: str) -> tuple[str, int]:
        """The primary's address from the first sentinel that names one that is up."""
        failure: BaseException | None = None
        answered = False
        for number, sentinel in enumerate(self.sentinels):
            try:
                masters = await sentinel.sentinel_masters()  # type: ignore[no-untyped-call]
            except (RedisConnectionError, RedisTimeoutError) as error:
                failure = error
                continue
            answered = True
            state = masters.get(service_name)
            if state and self.check_master_state(state, service_name):
                # Ask this sentinel first next time, as redis-py does.
                self.sentinels[0], self.sentinels[number] = sentinel, self.sentinels[0]
                return state["ip"], state["port"]
        raise PrimaryNotFound(service_name, answered=answered) from (None if answered else failure)

    async def aclose(self) -> None:
        for sentinel in self.sentinels:
            await sentinel.aclose()


class SentinelPool(SentinelConnectionPool):
    """A pool of connections to the service's primary, wherever the sentinels say it is."""

    sentinel_manager: SentinelManager

    async def disconnect(self, inuse_connections: bool = True) -> None:
        """Close the connections; a full close (the client's `aclose`) closes the sentinels'
        too. The pool's own switch to a new primary closes only idle ones, and not those."""
        await super().disconnect(inuse_connections)
        if inuse_connections:
            await self.sentinel_manager.aclose()


class PrimaryConnection(SentinelManagedConnection):
    """A connection to the primary. redis-py drops one that gets READONLY (it reached the
    old primary, now a replica) so the next asks the sentinels again; NOREPLICAS, from an
    old primary that lost its replica to the failover, is handled the same way."""

    async def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().read_response(*args, **kwargs)
        except ResponseError as error:
            if not str(error).startswith(NO_REPLICAS):
                raise
            await self.disconnect()
            raise RedisConnectionError(f"the primary refused a write: {error}") from error


class PrimarySSLConnection(PrimaryConnection, SentinelManagedSSLConnection):
    """`PrimaryConnection` over TLS."""


def primary_client(
    redis_class: type[R],
    sentinels: list[tuple[str, int]],
    service: str,
    sentinel_options: dict[str, Any],
    node_options: dict[str, Any],
) -> R:
    """A `redis_class` client of the service's primary: `Sentinel.master_for`, with the
    classes above. `sentinel_options` are for the sentinels, `node_options` for the primary
    (`ssl` picks the TLS connection)."""
    manager = SentinelManager(sentinels, sentinel_kwargs=sentinel_options)  # type: ignore[no-untyped-call]
    options = dict(node_options)
    tls = options.pop("ssl", False)
    options["connection_class"] = PrimarySSLConnection if tls else PrimaryConnection
    client = manager.master_for(
        service, redis_class=redis_class, connection_pool_class=SentinelPool, **options
    )
    return cast(R, client)
