"""Each edge's small config, built from the operator's settings: no edge reads them whole."""

from __future__ import annotations

from dataclasses import fields

from pydantic import SecretStr

from daemon.config.load import CoachConfig
from daemon.errors import SettingsError
from daemon.inbound.httpserver import HttpLimits
from daemon.inbound.imappoller import ImapConfig
from daemon.inbound.mailguard import ReceiverLimits
from daemon.inbound.webhooks import WebhookSecrets
from daemon.outbound.mailer import SmtpConfig
from daemon.settings import Settings
from daemon.store.address import parse_sentinels
from daemon.store.target import RedisTarget, RedisTls, SentinelTarget, UrlTarget
from daemon.worker import Identity

MIN_SIGNING_KEY_CHARS = 32


def redis_target_from(settings: Settings, url: str) -> RedisTarget:
    """The primary Sentinel names when COACHD_REDIS_SENTINELS is set (COACHD_REDIS_URL then
    gives only its login and database), else the Redis at `url`."""
    tls = RedisTls(settings.redis_tls_ca, settings.redis_tls_cert, settings.redis_tls_key)
    if not settings.redis_sentinels:
        return UrlTarget(url, tls)
    password = settings.redis_sentinel_password
    return SentinelTarget(
        parse_sentinels(settings.redis_sentinels),
        settings.redis_sentinel_service or "",  # set: the settings refuse sentinels without
        node_url=settings.redis_url,
        username=settings.redis_sentinel_username,
        password=password.get_secret_value() if password else None,
        sentinel_tls=settings.redis_sentinel_tls,
        tls=tls,
    )


def signing_key_from(settings: Settings) -> bytes:
    key = settings.signing_key
    if key is None or len(key.get_secret_value()) < MIN_SIGNING_KEY_CHARS:
        raise SettingsError(
            f"COACHD_SIGNING_KEY must be set to a random secret of at least "
            f"{MIN_SIGNING_KEY_CHARS} characters (e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'`)"
        )
    return key.get_secret_value().encode()


def identity_from(settings: Settings, config: CoachConfig) -> Identity:
    return Identity(
        from_address=settings.from_address or config.firm.from_address,
        reply_domain=settings.reply_domain or config.firm.reply_domain,
        signing_key=signing_key_from(settings),
        public_url=settings.public_url,
    )


def smtp_config_from(settings: Settings) -> SmtpConfig:
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        tls=settings.smtp_tls,
        username=settings.smtp_user,
        password=password,
        timeout=settings.smtp_timeout_s,
        pool_size=settings.smtp_pool_size,
    )


def imap_config_from(settings: Settings) -> ImapConfig | None:
    """The poller's config from the operator's settings, or None when IMAP polling is off."""
    if settings.imap_host is None:
        return None
    if settings.imap_user is None or settings.imap_password is None:
        raise SettingsError("COACHD_IMAP_HOST is set: COACHD_IMAP_USER and _PASSWORD are required")
    return ImapConfig(
        host=settings.imap_host,
        port=settings.imap_port,
        tls=settings.imap_tls,
        user=settings.imap_user,
        password=settings.imap_password.get_secret_value(),
        mailbox=settings.imap_mailbox,
        done_mailbox=settings.imap_done_mailbox,
        poll_s=settings.imap_poll_s,
        max_message_bytes=settings.max_message_bytes,
    )


def receiver_limits(settings: Settings) -> ReceiverLimits:
    """The SMTP/LMTP receiver's bounds, from the settings."""
    return ReceiverLimits(
        max_sessions=settings.receiver_max_sessions,
        max_sessions_per_ip=settings.receiver_max_sessions_per_ip,
        max_data_bytes=settings.receiver_max_data_bytes,
        idle_timeout_s=settings.receiver_idle_timeout_s,
    )


def webhook_secrets(settings: Settings) -> WebhookSecrets:
    def secret(value: SecretStr | None) -> str | None:
        return value.get_secret_value() if value else None

    return WebhookSecrets(
        postmark_token=secret(settings.postmark_token),
        mailgun_signing_key=secret(settings.mailgun_signing_key),
        sendgrid_token=secret(settings.sendgrid_token),
        events_token=secret(settings.events_token),
    )


def http_limits(settings: Settings) -> HttpLimits:
    """Each HttpLimits field is the `http_` setting of that name."""
    return HttpLimits(
        **{item.name: getattr(settings, f"http_{item.name}") for item in fields(HttpLimits)}
    )
