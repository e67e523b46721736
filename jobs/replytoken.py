"""HMAC-signed tokens for `reply+{token}@domain` addresses, tying each reply to its thread."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, timedelta

# Lowercase RFC 4648 base32 without padding: safe in a case-insensitive email local part.
ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
_ALPHABET_SET = frozenset(ALPHABET)
_BITS_PER_CHAR = 5

THREAD_CHARS = 16  # 80 bits of HMAC: opaque, collision-free in practice
SEQ_CHARS = 3  # 15 bits
EXPIRY_CHARS = 4  # 20 bits of days: until the year 4890
MAC_CHARS = 16  # 80 bits of HMAC
SIGNED_CHARS = THREAD_CHARS + SEQ_CHARS + EXPIRY_CHARS
TOKEN_CHARS = SIGNED_CHARS + MAC_CHARS  # 39; "reply+" + token stays well under 64

MAX_SEQ = 2 ** (SEQ_CHARS * _BITS_PER_CHAR) - 1
MAX_EXPIRY_DAYS = 2 ** (EXPIRY_CHARS * _BITS_PER_CHAR) - 1
EPOCH = date(2020, 1, 1)

_THREAD_PREFIX = b"thread:"
_MAC_PREFIX = b"coachd-reply-v1:"  # domain separation: a thread key can never pass as a mac

# Reasons carried by InvalidReplyToken.
REASON_LENGTH = "length"
REASON_ALPHABET = "alphabet"
REASON_SIGNATURE = "signature"
REASON_EXPIRED = "expired"


class InvalidReplyToken(ValueError):
    """Raised when a reply token is malformed, forged, or expired; `reason` names which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ReplyClaims:
    """What a verified token says: the thread, which message of it, and until when it is valid."""

    thread: str
    seq: int
    expires: date


def _b32(digest: bytes, chars: int) -> str:
    # Only the bytes the first `chars` characters encode (5 bits each): the stdlib's
    # encoder is Python, and the rest of a SHA-256 digest would be encoded to be cut off.
    needed = -(-chars * _BITS_PER_CHAR // 8)
    return base64.b32encode(digest[:needed]).decode("ascii")[:chars].lower()


def _encode_int(value: int, chars: int) -> str:
    digits = []
    for _ in range(chars):
        value, digit = divmod(value, len(ALPHABET))
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))


def _decode_int(text: str) -> int:
    value = 0
    for char in text:
        value = value * len(ALPHABET) + ALPHABET.index(char)
    return value


def _mac(key: bytes, signed: str) -> str:
    digest = hmac.new(key, _MAC_PREFIX + signed.encode("ascii"), hashlib.sha256).digest()
    return _b32(digest, MAC_CHARS)


def thread_key(key: bytes, commitment_id: str) -> str:
    """The opaque 16-character id of a commitment's email thread; reveals nothing of the id."""
    digest = hmac.digest(key, _THREAD_PREFIX + commitment_id.encode(), hashlib.sha256)
    return _b32(digest, THREAD_CHARS)


def sign_reply_token(key: bytes, thread: str, seq: int, expires: date) -> str:
    """A 39-character token for message `seq` of `thread`, valid through `expires`."""
    if len(thread) != THREAD_CHARS or not _ALPHABET_SET.issuperset(thread):
        raise ValueError(f"thread must be {THREAD_CHARS} lowercase base32 chars (see thread_key)")
    if not 0 <= seq <= MAX_SEQ:
        raise ValueError(f"seq must be 0..{MAX_SEQ}, got {seq}")
    days = (expires - EPOCH).days
    if not 0 <= days <= MAX_EXPIRY_DAYS:
        raise ValueError(
            f"expires must fall between {EPOCH} and {EPOCH + timedelta(MAX_EXPIRY_DAYS)}"
        )
    signed = thread + _encode_int(seq, SEQ_CHARS) + _encode_int(days, EXPIRY_CHARS)
    return signed + _mac(key, signed)


def verify_reply_token(key: bytes, token: str, today: date) -> ReplyClaims:
    """Check a token's shape, signature and expiry (inclusive of `expires`) and return its claims.

    Mail systems may change case, so uppercase tokens are accepted. The signature is
    checked before the expiry so that a forged token never learns anything else.
    """
    token = token.lower()
    if len(token) != TOKEN_CHARS:
        raise InvalidReplyToken(REASON_LENGTH)
    if not _ALPHABET_SET.issuperset(token):
        raise InvalidReplyToken(REASON_ALPHABET)
    signed, mac = token[:SIGNED_CHARS], token[SIGNED_CHARS:]
    if not hmac.compare_digest(mac, _mac(key, signed)):
        raise InvalidReplyToken(REASON_SIGNATURE)
    seq = _decode_int(signed[THREAD_CHARS : THREAD_CHARS + SEQ_CHARS])
    expires = EPOCH + timedelta(days=_decode_int(signed[THREAD_CHARS + SEQ_CHARS :]))
    if today > expires:
        raise InvalidReplyToken(REASON_EXPIRED)
    return ReplyClaims(thread=signed[:THREAD_CHARS], seq=seq, expires=expires)
