"""Who may post (Basic and Bearer auth, Mailgun signatures), and the last-resort error guard."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Callable, Mapping
from enum import StrEnum
from http import HTTPStatus

import structlog
from redis.asyncio import Redis
from starlette.requests import ClientDisconnect
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from daemon.errors import CoachdError
from daemon.inbound.form import FormReader
from daemon.store import keys

log = structlog.get_logger(__name__)

BASIC_SCHEME = "basic"
BEARER_SCHEME = "bearer"
MAILGUN_PROOF = ("timestamp", "token", "signature")
# A Mailgun post waits this long for an unverified-body slot before it gets 503.
UNVERIFIED_WAIT_S = 2.0
DEFAULT_UNVERIFIED_PARSES = 4
MAILGUN_MAX_AGE_S = keys.MAILGUN_MAX_AGE_S
MAILGUN_MAX_TOKEN_CHARS = 256  # Mailgun's are 50; bounds what the replay memory holds
INTERNAL_ERROR_STATUS = 500
INTERNAL_ERROR_TEXT = "internal error"
# A route that could not take a request now (Redis away, a sink failing) asks for a retry.
RETRY_AFTER_S = 60
RETRY_LATER = {"Retry-After": str(RETRY_AFTER_S)}


def plain(
    status: int, reason: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    """A short plain-text answer: the status phrase, or a reason that never echoes input."""
    text = reason or HTTPStatus(status).phrase
    return PlainTextResponse(text, status_code=status, headers=headers)


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


def bearer_matches(authorization: str | None, token: str) -> bool:
    """True when an `Authorization: Bearer` header (RFC 6750) carries `token`; timing-safe."""
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == BEARER_SCHEME and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def mailgun_proof(fields: Mapping[str, bytes]) -> tuple[str, str, str]:
    """(timestamp, token, signature) from a Mailgun post's fields; absent ones are empty."""
    timestamp, token, signature = (
        fields.get(name, b"").decode("utf-8", "replace") for name in MAILGUN_PROOF
    )
    return timestamp, token, signature


class VerifierBusyError(CoachdError):
    """Raised when every unverified-body slot stayed taken for `waited_s`."""

    def __init__(self, waited_s: float) -> None:
        super().__init__(f"no unverified-body slot within {waited_s} s")
        self.waited_s = waited_s


class Rejection(StrEnum):
    """Why a Mailgun post was refused; the value is what is logged."""

    MISSING = "signature_missing"
    STALE = "timestamp_stale"
    FORGED = "signature_mismatch"
    REPLAYED = "token_replayed"
    NO_MEMORY = "no_replay_memory"


class MailgunVerifier:
    """Checks Mailgun's signature and timestamp, and claims each token once in Redis.

    The replay memory is in Redis (`SET NX EX`), so a restart or a second process does not
    forget it; a token outlives its accepted age, after which its timestamp alone refuses it.
    """

    def __init__(
        self,
        signing_key: str,
        redis: Redis | None,
        unverified_parses: int = DEFAULT_UNVERIFIED_PARSES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = signing_key.encode()
        self._redis = redis
        self._unverified = asyncio.Semaphore(unverified_parses)
        self._clock = clock

    async def read_proof(
        self, chunks: AsyncIterator[bytes], reader: FormReader
    ) -> Rejection | None:
        """Feed the body to `reader` until the proof fields are in, then check them.

        Until then the body is unauthenticated: only `unverified_parses` such reads run at
        once (each bounded by the route's body limit), so unsigned posts cannot fill memory.
        A forged proof sent before the bulk of the body is refused before the rest is read.
        """
        try:
            await asyncio.wait_for(self._unverified.acquire(), UNVERIFIED_WAIT_S)
        except TimeoutError:
            raise VerifierBusyError(UNVERIFIED_WAIT_S) from None
        try:
            async for chunk in chunks:
                reader.feed(chunk)
                if all(name in reader.fields for name in MAILGUN_PROOF):
                    break
            else:
                reader.finish()  # the whole body is in: its last field too
            return self.check(*mailgun_proof(reader.fields))
        finally:
            self._unverified.release()

    def check(self, timestamp: str, token: str, signature: str) -> Rejection | None:
        """The signature and age alone (no I/O); None means genuine and fresh."""
        if not (timestamp and token and signature) or len(token) > MAILGUN_MAX_TOKEN_CHARS:
            return Rejection.MISSING
        expected = hmac.new(self._key, (timestamp + token).encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            return Rejection.FORGED
        try:
            age = abs(self._clock() - int(timestamp))
        except ValueError:
            return Rejection.MISSING
        return Rejection.STALE if age > MAILGUN_MAX_AGE_S else None

    async def claim(self, token: str) -> Rejection | None:
        """Claim a checked token; a token claimed before is a replay (so is any, without Redis)."""
        if self._redis is None:
            return Rejection.NO_MEMORY
        key = keys.mailgun_token(token)
        claimed = await self._redis.set(key, b"1", nx=True, ex=keys.MAILGUN_TOKEN_TTL_S)
        return None if claimed else Rejection.REPLAYED

    async def release(self, token: str) -> None:
        """Forget a claimed token whose message was not accepted: the retry is not a replay."""
        if self._redis is not None:
            await self._redis.delete(keys.mailgun_token(token))


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
        except ClientDisconnect:  # gone, or cut off by a read deadline: nobody to answer
            log.debug("http_client_gone", route=getattr(scope.get("route"), "name", None))
        except Exception as exc:  # the last boundary: nothing above us should see it
            route = getattr(scope.get("route"), "name", None)
            log.error("http_internal_error", route=route, error=type(exc).__name__, exc_info=exc)
            if not started:
                response = PlainTextResponse(INTERNAL_ERROR_TEXT, INTERNAL_ERROR_STATUS)
                await response(scope, receive, send)
