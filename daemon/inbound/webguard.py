"""Who may post to the webhooks (Basic auth, Mailgun signatures) and the last-resort error guard."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import Callable
from enum import StrEnum

import structlog
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger(__name__)

BASIC_SCHEME = "basic"
MAILGUN_MAX_AGE_S = 5 * 60
MAILGUN_MAX_TOKEN_CHARS = 256  # Mailgun's are 50; bounds what the replay memory holds
MAILGUN_REMEMBERED_TOKENS = 10_000
INTERNAL_ERROR_STATUS = 500
INTERNAL_ERROR_TEXT = "internal error"


def basic_auth_matches(authorization: str | None, password: str) -> bool:
    """True when an `Authorization: Basic` header carries `password` (any user name).

    The comparison is timing-safe; a malformed header is simply a mismatch.
    """
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != BASIC_SCHEME:
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    _user, separator, given = decoded.partition(b":")
    return bool(separator) and hmac.compare_digest(given, password.encode())


class Rejection(StrEnum):
    """Why a Mailgun post was refused; the value is what is logged."""

    MISSING = "signature_missing"
    STALE = "timestamp_stale"
    FORGED = "signature_mismatch"
    REPLAYED = "token_replayed"


class MailgunVerifier:
    """Checks Mailgun's signature and timestamp, and remembers recent tokens to refuse replays.

    The memory is per process and bounded: tokens older than the accepted age are forgotten
    (their timestamp alone now refuses them), and past the bound the oldest go first.
    """

    def __init__(self, signing_key: str, clock: Callable[[], float] = time.time) -> None:
        self._key = signing_key.encode()
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def admit(self, timestamp: str, token: str, signature: str) -> Rejection | None:
        """Verify one post and, when it is genuine and new, claim its token; None means admitted."""
        if not (timestamp and token and signature) or len(token) > MAILGUN_MAX_TOKEN_CHARS:
            return Rejection.MISSING
        expected = hmac.new(self._key, (timestamp + token).encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            return Rejection.FORGED
        now = self._clock()
        try:
            age = abs(now - int(timestamp))
        except ValueError:
            return Rejection.MISSING
        if age > MAILGUN_MAX_AGE_S:
            return Rejection.STALE
        self._forget_before(now - MAILGUN_MAX_AGE_S)
        if token in self._seen:
            return Rejection.REPLAYED
        self._seen[token] = now
        if len(self._seen) > MAILGUN_REMEMBERED_TOKENS:
            self._seen.popitem(last=False)
        return None

    def release(self, token: str) -> None:
        """Forget a claimed token whose message was not accepted: the retry is not a replay."""
        self._seen.pop(token, None)

    def _forget_before(self, cutoff: float) -> None:
        while self._seen and next(iter(self._seen.values())) < cutoff:
            self._seen.popitem(last=False)


class InternalErrorGuard:
    """ASGI middleware: an unhandled exception becomes a bare 500 "internal error".

    It logs the error type and traceback (through the redacting log pipeline) and never
    lets exception text reach the client. It sits inside Starlette's own error middleware so
    that one does not re-raise to uvicorn, which would log the traceback a second time.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # the last boundary: nothing above us should see it
            route = getattr(scope.get("route"), "name", None)
            log.error("http_internal_error", route=route, error=type(exc).__name__, exc_info=exc)
            if not started:
                response = PlainTextResponse(INTERNAL_ERROR_TEXT, INTERNAL_ERROR_STATUS)
                await response(scope, receive, send)
