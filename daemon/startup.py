"""The one line `coachd run` logs at start: where it reads, sends, stores and listens.

An operator's first question about a running daemon is "what is it connected to?"; this
line answers it without a secret: the Redis target has no password, SMTP no login, and a
webhook route is named, never its token.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from daemon.settings import Settings
from daemon.store.target import RedisTarget

STARTING = "coachd_starting"


def inbound_routes(settings: Settings) -> list[str]:
    """The reply routes that are on, by name, in the order a reply would try them."""
    routes = []
    if settings.receiver_port is not None:
        routes.append("lmtp_receiver" if settings.receiver_lmtp else "smtp_receiver")
    if settings.imap_host is not None:
        routes.append("imap")
    if settings.http_port is not None:
        # A provider's route is served only when its secret is set (daemon.inbound.webhooks).
        providers = {
            "postmark": settings.postmark_token,
            "sendgrid": settings.sendgrid_token,
            "mailgun": settings.mailgun_signing_key,
        }
        routes += [f"webhook_{name}" for name, secret in providers.items() if secret]
    return routes


def startup_fields(settings: Settings, target: RedisTarget) -> dict[str, Any]:
    """The start-up line's fields; `target` is the Redis in use (described without a password)."""
    fields: dict[str, Any] = {
        "version": version("coachd"),
        "config_path": str(settings.config_path),
        "redis": target.describe(),
        "redis_embedded": not (settings.redis_url or settings.redis_sentinels),
        "smtp": f"{settings.smtp_host}:{settings.smtp_port}",
        "smtp_tls": settings.smtp_tls,
        "smtp_login": settings.smtp_user is not None,
        "inbound_routes": inbound_routes(settings),
        "http_port": settings.http_port,
        # POST /events is served only with a token (daemon.inbound.eventroute); never its value.
        "http_events": settings.http_port is not None and settings.events_token is not None,
    }
    if settings.receiver_port is not None:
        fields["receiver"] = f"{settings.receiver_host}:{settings.receiver_port}"
    if settings.imap_host is not None:
        fields["imap"] = f"{settings.imap_host}:{settings.imap_port}"
    if fields["redis_embedded"]:
        fields["data_dir"] = str(settings.data_dir)
    return fields
