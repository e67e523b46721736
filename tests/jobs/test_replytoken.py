"""Tests for signing and verifying the reply tokens carried in Reply-To addresses."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.replytoken import (
    ALPHABET,
    EPOCH,
    MAX_SEQ,
    TOKEN_CHARS,
    InvalidReplyToken,
    ReplyClaims,
    sign_reply_token,
    thread_key,
    verify_reply_token,
)

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
TODAY = date(2024, 12, 4)
EXPIRES = date(2025, 3, 4)
THREAD = thread_key(KEY, "commitment-42")
MAX_LOCAL_PART = 64  # RFC 5321


def test_thread_key_is_16_lowercase_base32_chars() -> None:
    assert len(THREAD) == 16
    assert set(THREAD) <= set(ALPHABET)


def test_thread_key_is_stable_and_differs_per_commitment_and_key() -> None:
    assert thread_key(KEY, "commitment-42") == THREAD
    assert thread_key(KEY, "commitment-43") != THREAD
    assert thread_key(OTHER_KEY, "commitment-42") != THREAD


def test_thread_key_does_not_reveal_the_commitment_id() -> None:
    assert "42" not in thread_key(KEY, "42" * 8)


def test_token_round_trips_to_its_claims() -> None:
    token = sign_reply_token(KEY, THREAD, 7, EXPIRES)
    assert verify_reply_token(KEY, token, TODAY) == ReplyClaims(THREAD, 7, EXPIRES)


@given(
    seq=st.integers(min_value=0, max_value=MAX_SEQ),
    expires=st.dates(min_value=EPOCH, max_value=date(4000, 1, 1)),
    commitment_id=st.text(min_size=1, max_size=40),
)
def test_any_seq_and_expiry_round_trip(seq: int, expires: date, commitment_id: str) -> None:
    thread = thread_key(KEY, commitment_id)
    token = sign_reply_token(KEY, thread, seq, expires)
    assert verify_reply_token(KEY, token, EPOCH) == ReplyClaims(thread, seq, expires)


def test_token_is_fixed_width_lowercase_base32_and_fits_a_local_part() -> None:
    token = sign_reply_token(KEY, THREAD, MAX_SEQ, EXPIRES)
    assert len(token) == TOKEN_CHARS == 39
    assert set(token) <= set(ALPHABET)
    assert len(f"reply+{token}") <= MAX_LOCAL_PART


def test_tampering_with_any_character_invalidates_the_token() -> None:
    token = sign_reply_token(KEY, THREAD, 3, EXPIRES)
    for position, char in enumerate(token):
        replacement = ALPHABET[(ALPHABET.index(char) + 1) % len(ALPHABET)]
        tampered = token[:position] + replacement + token[position + 1 :]
        with pytest.raises(InvalidReplyToken) as excinfo:
            verify_reply_token(KEY, tampered, TODAY)
        assert excinfo.value.reason == "signature", position


def test_token_signed_with_another_key_is_invalid() -> None:
    token = sign_reply_token(OTHER_KEY, THREAD, 3, EXPIRES)
    with pytest.raises(InvalidReplyToken) as excinfo:
        verify_reply_token(KEY, token, TODAY)
    assert excinfo.value.reason == "signature"


def test_token_is_valid_through_its_expiry_day_and_not_after() -> None:
    token = sign_reply_token(KEY, THREAD, 3, EXPIRES)
    assert verify_reply_token(KEY, token, EXPIRES).expires == EXPIRES
    with pytest.raises(InvalidReplyToken) as excinfo:
        verify_reply_token(KEY, token, EXPIRES + timedelta(days=1))
    assert excinfo.value.reason == "expired"


def test_forged_expired_token_reports_the_signature_not_the_expiry() -> None:
    token = sign_reply_token(OTHER_KEY, THREAD, 3, date(2021, 1, 1))
    with pytest.raises(InvalidReplyToken) as excinfo:
        verify_reply_token(KEY, token, TODAY)
    assert excinfo.value.reason == "signature"


def test_uppercased_token_is_accepted() -> None:
    token = sign_reply_token(KEY, THREAD, 3, EXPIRES)
    assert verify_reply_token(KEY, token.upper(), TODAY) == ReplyClaims(THREAD, 3, EXPIRES)


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda t: t[:-1], "length"),
        (lambda t: t + "a", "length"),
        (lambda t: "", "length"),
        (lambda t: t[:-1] + "1", "alphabet"),
        (lambda t: t[:-1] + "=", "alphabet"),
        (lambda t: "0" + t[1:], "alphabet"),
        (lambda t: t[:-1] + "\n", "alphabet"),
    ],
)
def test_malformed_token_names_the_reason(mangle: object, reason: str) -> None:
    token = sign_reply_token(KEY, THREAD, 3, EXPIRES)
    assert callable(mangle)
    with pytest.raises(InvalidReplyToken) as excinfo:
        verify_reply_token(KEY, mangle(token), TODAY)
    assert excinfo.value.reason == reason


@pytest.mark.parametrize(
    ("thread", "seq", "expires", "message"),
    [
        ("short", 0, EXPIRES, "thread must be 16"),
        ("A" * 16, 0, EXPIRES, "thread must be 16"),
        (THREAD, -1, EXPIRES, "seq must be 0..32767"),
        (THREAD, MAX_SEQ + 1, EXPIRES, "seq must be 0..32767"),
        (THREAD, 0, EPOCH - timedelta(days=1), "expires must fall between"),
    ],
)
def test_signing_rejects_values_the_token_cannot_carry(
    thread: str, seq: int, expires: date, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        sign_reply_token(KEY, thread, seq, expires)


def test_thread_keys_and_tokens_keep_their_wire_format() -> None:
    # Sent emails carry these: a change of encoding would orphan every reply in flight.
    assert THREAD == "bnt2ltxguv7itzzh"
    token = sign_reply_token(KEY, THREAD, 7, EXPIRES)
    assert token == "bnt2ltxguv7itzzhaahab3b5cdzb2ruhvlijw33"
