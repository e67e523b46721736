"""Configures one structlog pipeline for coachd's and libraries' logs, with addresses redacted."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import sys
from collections.abc import Mapping
from typing import Any, Literal

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from daemon.arqlog import name_arq_events

LogFormat = Literal["auto", "json", "console"]

# Deliberately loose (dotless domains such as root@localhost count): better a false positive.
EMAIL_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*")
PSEUDONYM_PREFIX = "addr:"
PSEUDONYM_HEX_CHARS = 8
DROPPED_KEYS = frozenset({"body", "html", "text", "password"})
_HANDLER_MARK = "_coachd_handler"
# The pseudonym is an HMAC under a key derived for this one use (the signing key keys reply
# tokens too): a bare hash of an address can be reversed by hashing a list of addresses.
PSEUDONYM_CONTEXT = b"coachd log pseudonym v1\x00"
PSEUDONYM_RANDOM_KEY_BYTES = 32
# Until configure_logging is given a key: a random one, so pseudonyms are stable only
# within this process (and nothing computable without a secret is ever logged).
_pseudonym_key = secrets.token_bytes(PSEUDONYM_RANDOM_KEY_BYTES)


def pseudonym(address: str, key: bytes | None = None) -> str:
    """A stable short stand-in for an email address, e.g. `addr:3f9a1c2b`.

    Case-insensitive so one person keeps one pseudonym. Keyed (by `key`, else the key
    logging was configured with): without the key, nobody can tell which address it is.
    """
    mac = hmac.new(key or _pseudonym_key, PSEUDONYM_CONTEXT, hashlib.sha256)
    mac.update(address.lower().encode("utf-8"))
    return PSEUDONYM_PREFIX + mac.hexdigest()[:PSEUDONYM_HEX_CHARS]


def redact_text(text: str) -> str:
    """Replace every email address in `text` with its pseudonym."""
    return EMAIL_ADDRESS.sub(lambda match: pseudonym(match.group(0)), text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {key: _redact_value(item) for key, item in value.items() if key not in DROPPED_KEYS}
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(_redact_value(item) for item in value)
    return value


def redact_addresses(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: pseudonymise addresses in every string value, drop body-like keys."""
    return {
        key: _redact_value(value) for key, value in event_dict.items() if key not in DROPPED_KEYS
    }


class _StderrLogger(structlog.WriteLogger):
    """structlog's own writer on stderr, named like a stdlib logger (each line's `logger`)."""

    def __init__(self, name: str) -> None:
        super().__init__(sys.stderr)  # looked up now: it may have been replaced (tests)
        self.name = name


def _stderr_logger(name: str = "coachd", *_: Any) -> _StderrLogger:
    return _StderrLogger(name)


def _renderer(fmt: LogFormat) -> Processor:
    use_console = fmt == "console" or (fmt == "auto" and sys.stderr.isatty())
    if use_console:
        # Tracebacks arrive pre-rendered (and redacted) in "exception": plain, no locals.
        return structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
    return structlog.processors.JSONRenderer()


def configure_logging(
    fmt: LogFormat = "auto", level: str = "INFO", pseudonym_key: bytes | None = None
) -> None:
    """Route structlog and stdlib logging (arq, aiosmtplib, asyncio) to stderr through one pipeline.

    Logs go to stderr so stdout stays free for command output such as `coachd plan --json`.
    Addresses become pseudonyms keyed by `pseudonym_key` (the signing key: stable across
    restarts), else by a random per-process key. Calling it again replaces the configuration.
    """
    global _pseudonym_key  # noqa: PLW0603 - one pipeline per process, like structlog's own
    numeric_level = logging.getLevelNamesMapping().get(level.upper())
    if numeric_level is None:
        raise ValueError(f"Unknown log level {level!r}.")
    if pseudonym_key:
        _pseudonym_key = pseudonym_key
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    rendering: list[Processor] = [
        structlog.processors.format_exc_info,  # render first so tracebacks are redacted too
        redact_addresses,
        _renderer(fmt),
    ]
    # coachd's own lines are written by structlog itself, not handed to stdlib logging:
    # its LogRecords and formatter cost ~100 µs a line, more than applying an event.
    structlog.configure(
        processors=[*shared, *rendering],
        logger_factory=_stderr_logger,
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        # Not cached, so loggers made at import time follow a later reconfiguration.
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        # arq's sentences become named events; it needs the arguments they were made from.
        foreign_pre_chain=[*shared, name_arq_events],
        pass_foreign_args=True,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering],
    )
    _install_root_handler(formatter, numeric_level)


# aioimaplib logs whole messages at DEBUG and stray server lines at INFO; aiosmtpd ("mail.log")
# logs every connection at INFO. Their warnings still come through.
CHATTY_LIBRARIES = ("aioimaplib", "mail.log")


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to `sys.stderr` as it is at each line, like coachd's own lines: a progress bar
    (daemon.progress) points it above the bar while it is drawn."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)  # not StreamHandler's: it would keep today's stream

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def _install_root_handler(formatter: logging.Formatter, level: int) -> None:
    """Put our stderr handler on the root logger, replacing one a previous call installed."""
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for previous in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(previous)
        previous.close()
    root.addHandler(handler)
    root.setLevel(level)
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
