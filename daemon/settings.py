"""Operator settings from the environment (prefix COACHD_) and an optional .env file."""

from __future__ import annotations

import difflib
import ipaddress
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, Self

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

from daemon.errors import SettingsError
from daemon.store.address import parse_sentinels, sentinel_problem

DEFAULT_SMTP_PORT = 587
LOOPBACK_NAME = "localhost"
PREFIX = "COACHD_"
MIN_TOKEN_CHARS = 32  # a bearer token: random, like COACHD_SIGNING_KEY
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# COACHD_ variables that are not settings: the test suite's Redis, the benchmark's corpora.
OTHER_VARIABLES = frozenset({"COACHD_TEST_REDIS_URL", "COACHD_PUBLIC_CORPORA"})


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine: "localhost" or a loopback address (127.0.0.0/8, ::1)."""
    if host.lower().rstrip(".") == LOOPBACK_NAME:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """Everything an operator sets; secrets are SecretStr and never printed."""

    model_config = SettingsConfigDict(
        env_prefix="COACHD_", env_file=".env", extra="ignore", frozen=True
    )

    redis_url: str | None = Field(
        default=None, description="Unset: start an embedded Redis in the data directory."
    )
    redis_tls_ca: Path | None = Field(
        default=None, description="rediss://: CA file that signs the Redis server's certificate."
    )
    redis_tls_cert: Path | None = Field(
        default=None, description="rediss://: client certificate, for a Redis that asks for one."
    )
    redis_tls_key: Path | None = Field(default=None, description="The client certificate's key.")
    redis_sentinels: str | None = Field(
        default=None, description="host:port,host:port of the sentinels; set: Redis via Sentinel."
    )
    redis_sentinel_service: str | None = Field(
        default=None, description="The primary's name in the sentinels' `sentinel monitor`."
    )
    redis_sentinel_username: str | None = None
    redis_sentinel_password: SecretStr | None = None
    redis_sentinel_tls: bool = Field(
        default=False,
        description="TLS to the sentinels too, with the COACHD_REDIS_TLS_CA, _CERT and _KEY files.",
    )
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=DEFAULT_SMTP_PORT, ge=1, le=65535)
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_allow_plaintext_auth: bool = Field(
        default=False,
        description="Allow AUTH without TLS to a non-loopback host (the password goes in clear).",
    )
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
    receiver_max_sessions: int = Field(
        default=100, ge=1, le=10_000, description="Sessions at once; more get a 421."
    )
    receiver_max_sessions_per_ip: int = Field(
        default=20, ge=1, le=10_000, description="Sessions at once from one client IP address."
    )
    receiver_idle_timeout_s: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="A session idle this long is closed; a DATA body must arrive within it.",
    )
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
        description="Requests that may buffer a large body handled at once; past it, 503.",
    )
    http_unverified_parses: int = Field(
        default=4,
        ge=1,
        description="Mailgun bodies read at once before their signature is checked.",
    )
    postmark_token: SecretStr | None = None
    mailgun_signing_key: SecretStr | None = None
    sendgrid_token: SecretStr | None = None
    events_token: SecretStr | None = Field(
        default=None, description="Bearer token for POST /events; unset: no such route."
    )
    max_message_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    receiver_max_data_bytes: int = Field(
        default=64 * 1024 * 1024,
        description="DATA bytes the receiver takes in at once, over all sessions; then 452.",
    )
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
    compose_ahead_s: float = Field(
        default=60.0,
        ge=0,
        le=3600,
        description="An idle worker composes the emails of steps due within this many seconds,"
        " so that they only need sending when due; 0: composed when due.",
    )

    @model_validator(mode="after")
    def _refuse_plaintext_auth(self) -> Self:
        """Refuse a login sent in clear across a network unless the operator opted in."""
        has_login = self.smtp_user is not None or self.smtp_password is not None
        if (
            has_login
            and self.smtp_tls == "none"
            and not is_loopback(self.smtp_host)
            and not self.smtp_allow_plaintext_auth
        ):
            raise ValueError(
                "COACHD_SMTP_TLS=none with COACHD_SMTP_USER/COACHD_SMTP_PASSWORD set would send "
                "the SMTP password in clear to COACHD_SMTP_HOST, which is not loopback: use "
                "COACHD_SMTP_TLS=starttls or tls, or set COACHD_SMTP_ALLOW_PLAINTEXT_AUTH=true"
            )
        return self

    @field_validator("redis_sentinels")
    @classmethod
    def _sentinel_addresses(cls, value: str | None) -> str | None:
        if value is not None:
            parse_sentinels(value)
        return value

    @model_validator(mode="after")
    def _sentinel_complete(self) -> Self:
        """Sentinel settings make sense only together; with them the URL names no host."""
        problem = sentinel_problem(
            self.redis_sentinels,
            self.redis_sentinel_service,
            self.redis_url,
            others_set=self.redis_sentinel_username is not None
            or self.redis_sentinel_password is not None
            or self.redis_sentinel_tls,
        )
        if problem:
            raise ValueError(problem)
        return self

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in LOG_LEVELS or not isinstance(logging.getLevelName(level), int):
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("events_token")
    @classmethod
    def _long_events_token(cls, value: SecretStr | None) -> SecretStr | None:
        """A guessable token would open the inbox: require the length of a random secret."""
        if value is None or not value.get_secret_value():
            return None  # empty, as for the providers' tokens: the route is off
        if len(value.get_secret_value()) < MIN_TOKEN_CHARS:
            raise ValueError(
                f"must be a random secret of at least {MIN_TOKEN_CHARS} characters "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        return value

    @field_validator("receiver_max_data_bytes")
    @classmethod
    def _room_for_one_message(cls, value: int, info: ValidationInfo) -> int:
        message = info.data.get("max_message_bytes", 0)
        if value < message:
            raise ValueError(f"must be at least max_message_bytes ({message})")
        return value


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Settings from the environment (and .env); SettingsError with one line per problem,
    each naming its variable, when a COACHD_ variable is unknown or a value is invalid."""
    check_names(environ)
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError("\n".join(map(describe_error, exc.errors()))) from None


def setting_names() -> list[str]:
    return [PREFIX + name.upper() for name in Settings.model_fields]


def check_names(environ: Mapping[str, str]) -> None:
    """A misspelt COACHD_ variable would be ignored silently: name the closest valid one."""
    known = setting_names()
    problems = []
    for name in sorted(environ):
        upper = name.upper()
        if upper.startswith(PREFIX) and upper not in known and upper not in OTHER_VARIABLES:
            close = difflib.get_close_matches(upper, known, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            problems.append(f"unknown setting {name}{hint}")
    if problems:
        raise SettingsError("\n".join(problems))


def describe_error(error: ErrorDetails) -> str:
    """One pydantic error as an operator reads it: "COACHD_SMTP_TLS must be one of …".
    The value is not repeated: it may be a secret."""
    variable = PREFIX + "_".join(map(str, error["loc"])).upper() if error["loc"] else ""
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "literal_error":
        expected = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        message = f"must be one of {', '.join(expected)}"
    elif message.startswith("Input should be "):
        message = "must be " + message.removeprefix("Input should be ")
    elif error["type"] == "missing":
        message = "must be set"
    return f"{variable} {message}".strip()
