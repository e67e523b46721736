"""Operator settings from the environment (prefix COACHD_) and an optional .env file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SMTP_PORT = 587


class Settings(BaseSettings):
    """Everything an operator sets; secrets are SecretStr and never printed."""

    model_config = SettingsConfigDict(
        env_prefix="COACHD_", env_file=".env", extra="ignore", frozen=True
    )

    redis_url: str | None = Field(
        default=None, description="Unset: start an embedded Redis in the data directory."
    )
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=DEFAULT_SMTP_PORT, ge=1, le=65535)
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = Field(default=30.0, gt=0)
    smtp_pool_size: int = Field(default=4, ge=1, le=64)
    smtp_retry_base_s: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="First retry after a transient SMTP failure; doubles, 8 tries in all.",
    )
    from_address: str | None = Field(default=None, description="Overrides the firm's from.")
    reply_domain: str | None = Field(default=None, description="Overrides the firm's.")
    signing_key: SecretStr | None = Field(
        default=None, description="HMAC key for reply tokens; at least 32 characters."
    )
    config_path: Path = Path("/etc/coachd")
    data_dir: Path = Path("/var/lib/coachd")
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    # Inbound mail: replies reach coachd by IMAP polling, an SMTP/LMTP receiver, or webhooks.
    imap_host: str | None = Field(default=None, description="Unset: no IMAP polling.")
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_tls: Literal["tls", "starttls", "none"] = "tls"
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    imap_mailbox: str = "INBOX"
    imap_done_mailbox: str | None = Field(
        default=None, description="Move handled messages here; unset: flag them \\Seen."
    )
    imap_poll_s: float = Field(default=60.0, gt=0)
    receiver_host: str = "127.0.0.1"
    receiver_port: int | None = Field(default=None, description="Unset: no SMTP receiver.")
    receiver_lmtp: bool = False
    http_host: str = "127.0.0.1"
    http_port: int | None = Field(default=None, description="Unset: no webhooks/HTTP.")
    public_url: str | None = Field(
        default=None, description="https://… where the HTTP endpoints are reachable."
    )
    http_header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="A client must send a request's headers within this.",
    )
    http_body_timeout_s: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="…and then its body within this; else it is cut off.",
    )
    http_keep_alive_s: int = Field(
        default=5, ge=1, le=300, description="An idle kept-alive connection is closed after this."
    )
    http_max_connections: int = Field(
        default=512, ge=1, description="Open connections (idle ones too); past it, 503."
    )
    http_max_requests: int = Field(
        default=32,
        ge=1,
        description="Requests handled at once (each buffers a body); past it, 503.",
    )
    http_unverified_parses: int = Field(
        default=4,
        ge=1,
        description="Mailgun bodies read at once before their signature is checked.",
    )
    postmark_token: SecretStr | None = None
    mailgun_signing_key: SecretStr | None = None
    sendgrid_token: SecretStr | None = None
    max_message_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    job_timeout_s: int = Field(
        default=60,
        ge=5,
        le=600,
        description="A job's time limit; after a crash its step is retried this much later.",
    )
    shutdown_grace_s: int = Field(
        default=20,
        ge=1,
        le=600,
        description="After SIGTERM, sends in flight get this long to finish; then cut off.",
    )
    inbox_reclaim_s: float = Field(
        default=60.0,
        ge=1.0,
        description="Entries a crashed worker read but did not apply are taken over after this.",
    )
    worker_max_jobs: int = Field(
        default=100, ge=1, le=1000, description="Steps fired per batch (and coach emails at once)."
    )
    worker_poll_s: float = Field(
        default=0.2, gt=0, le=5, description="How often an idle worker looks for due steps."
    )
