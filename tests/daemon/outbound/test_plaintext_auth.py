"""SMTP AUTH in clear: refused at start-up unless the host is loopback or the operator opts in."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from daemon.settings import Settings

REMOTE_HOST = "smtp.example.com"
SECRET = "s3cret-Pw-0cc175"


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "login",
    [{"smtp_user": "coachd"}, {"smtp_password": SecretStr(SECRET)}],
    ids=["user", "password"],
)
def test_plaintext_auth_to_remote_host_is_refused_naming_the_variables(
    login: dict[str, Any],
) -> None:
    """TLS none + a login + a remote host is a settings error that says what to change."""
    with pytest.raises(ValidationError) as caught:
        settings(smtp_host=REMOTE_HOST, smtp_tls="none", **login)
    message = str(caught.value)
    for variable in (
        "COACHD_SMTP_TLS",
        "COACHD_SMTP_USER",
        "COACHD_SMTP_PASSWORD",
        "COACHD_SMTP_ALLOW_PLAINTEXT_AUTH",
    ):
        assert variable in message
    assert SECRET not in message  # the secret itself is never echoed


def test_plaintext_auth_is_refused_when_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same check holds for COACHD_* environment variables, as the service reads them."""
    monkeypatch.setenv("COACHD_SMTP_HOST", REMOTE_HOST)
    monkeypatch.setenv("COACHD_SMTP_TLS", "none")
    monkeypatch.setenv("COACHD_SMTP_USER", "coachd")
    monkeypatch.setenv("COACHD_SMTP_PASSWORD", "change-me")
    with pytest.raises(ValidationError, match="COACHD_SMTP_ALLOW_PLAINTEXT_AUTH"):
        settings()


def test_explicit_opt_in_allows_plaintext_auth() -> None:
    """COACHD_SMTP_ALLOW_PLAINTEXT_AUTH=true is the operator's informed choice."""
    chosen = settings(
        smtp_host=REMOTE_HOST,
        smtp_tls="none",
        smtp_user="coachd",
        smtp_password=SecretStr("pw"),
        smtp_allow_plaintext_auth=True,
    )
    assert chosen.smtp_allow_plaintext_auth is True


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST.", "127.0.0.1", "127.3.2.1", "::1"])
def test_plaintext_auth_to_loopback_is_allowed(host: str) -> None:
    """A relay on this machine never puts the password on a network."""
    assert settings(smtp_host=host, smtp_tls="none", smtp_user="coachd").smtp_host == host


@pytest.mark.parametrize("tls", ["starttls", "tls"])
def test_auth_over_tls_to_remote_host_is_allowed(tls: str) -> None:
    """With TLS the login is encrypted; nothing to refuse."""
    assert settings(smtp_host=REMOTE_HOST, smtp_tls=tls, smtp_user="coachd").smtp_tls == tls


def test_no_login_without_tls_is_allowed() -> None:
    """An unauthenticated relay without TLS sends no secret."""
    assert settings(smtp_host=REMOTE_HOST, smtp_tls="none").smtp_user is None
