"""The start-up line's fields, from the settings: what is on, where, and never a secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from daemon.edges import redis_target_from
from daemon.settings import Settings
from daemon.startup import inbound_routes, startup_fields
from daemon.store.target import UrlTarget

PASSWORD = "embedded-Redis-password-Zk3"


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_an_embedded_redis_shows_its_data_dir_and_target_but_not_its_password() -> None:
    fields = startup_fields(
        settings(data_dir=Path("/var/lib/coachd-x")),
        UrlTarget(f"redis://:{PASSWORD}@127.0.0.1:6399/0"),
    )

    assert fields == fields | {
        "redis": "redis://127.0.0.1:6399",
        "redis_embedded": True,
        "data_dir": "/var/lib/coachd-x",
        "smtp": "localhost:587",
        "smtp_login": False,
        "inbound_routes": [],
        "http_port": None,
    }
    assert PASSWORD not in str(fields)


def test_routes_name_lmtp_imap_and_only_the_webhooks_whose_secret_is_set() -> None:
    chosen = settings(
        receiver_port=2424,
        receiver_lmtp=True,
        imap_host="imap.example.org",
        http_port=8080,
        mailgun_signing_key="k" * 20,
    )

    assert inbound_routes(chosen) == ["lmtp_receiver", "imap", "webhook_mailgun"]
    fields = startup_fields(chosen, UrlTarget("rediss://user:pw@redis.example.org:6380/2"))
    assert (fields["imap"], fields["receiver"], fields["redis"]) == (
        "imap.example.org:993",
        "127.0.0.1:2424",
        "rediss://redis.example.org:6380",
    )
    own = settings(redis_url="redis://r:6379")
    assert "data_dir" not in startup_fields(own, UrlTarget("redis://r:6379"))


def test_webhook_secrets_without_an_http_port_serve_nothing() -> None:
    assert inbound_routes(settings(postmark_token="t" * 20)) == []


def test_post_events_is_named_on_only_with_a_port_and_a_token() -> None:
    token = "e" * 40
    served = startup_fields(
        settings(http_port=8080, events_token=token), UrlTarget("redis://r:6379")
    )
    unserved = startup_fields(settings(events_token=token), UrlTarget("redis://r:6379"))

    assert (served["http_events"], unserved["http_events"]) == (True, False)
    assert token not in str(served)


def test_sentinels_are_named_with_their_service_and_without_their_password() -> None:
    chosen = settings(
        redis_sentinels="10.0.0.1:26379,10.0.0.2:26379",
        redis_sentinel_service="coachd",
        redis_sentinel_password="sentinel-secret",
    )
    fields = startup_fields(chosen, redis_target_from(chosen, ""))

    assert fields["redis"] == "sentinel://10.0.0.1:26379,10.0.0.2:26379/coachd"
    assert (fields["redis_embedded"], "data_dir" in fields) == (False, False)
    assert "sentinel-secret" not in str(fields)
