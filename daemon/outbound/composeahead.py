"""Steps' emails composed ahead of their due time, so that the due-time path only checks
(version, window, cap), claims and sends.

A worker with nothing due composes the steps due within the look-ahead (a minute by
default: `COACHD_COMPOSE_AHEAD_S`) exactly as the due-time path would compose them on time,
and keeps each email in Redis under its step (`coachd:pre:<commitment>:<version>`) with the
*fingerprint* of everything it was composed from: the commitment's version, the client's
whole record, the riding commitments, the step, the moment it is dated, the coach files and
the templates. At due time the step is loaded with its kept email in one round trip; the
email is used only if the fingerprint of what the step is now equals the kept one, and is
composed live otherwise (a reply, a reload, a late start, another email to the client in
between). Composing is deterministic (Message-ID, reply token and Date follow from the
step), so a kept email is byte for byte the one the due-time path would have composed.

One input is deliberately left out: the learning loop's counters (jobs.choosing), which
every email of the firm changes. A kept email's questions were drawn from counters up to a
minute older, as if it had been composed then; the client's own last question is in the
fingerprint, so no question is ever asked twice in a row.

Memory: a kept email (its message's bytes and ~100 more; the bench's message is 2.7 KB)
exists only for steps due within the look-ahead, and
expires `KEPT_FOR_S` after it was composed; commitments whose next step is further away
cost nothing here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis

from daemon.outbound.firing import Firing, Services
from daemon.store import keys
from daemon.store.schedule import step_job_id
from jobs.questions import Question

FORMAT = b"pre1"
# Kept after composing: the look-ahead, then room for a step that fires a little late.
KEPT_FOR_S = 300


@dataclass(frozen=True, slots=True)
class Precomposed:
    """A step's email composed ahead, and what it was composed from."""

    fingerprint: str
    recipient: str
    question_ids: tuple[str, ...]
    message: bytes

    def encode(self) -> bytes:
        head = "\n".join((self.fingerprint, self.recipient, " ".join(self.question_ids)))
        return FORMAT + b"\n" + head.encode() + b"\n" + self.message

    @classmethod
    def decode(cls, raw: bytes) -> Precomposed | None:
        """None for anything else (an older format, a damaged value): composed live then."""
        parts = raw.split(b"\n", 4)
        if len(parts) != 5 or parts[0] != FORMAT:
            return None
        fingerprint, recipient, ids = (p.decode("utf-8", "replace") for p in parts[1:4])
        return cls(fingerprint, recipient, tuple(ids.split()), parts[4])


def fingerprint(firing: Firing) -> str:
    """What the step's email is composed from, in one digest (see the module docstring)."""
    commitment, client, step = firing.commitment, firing.client, firing.step
    digest = hashlib.blake2b(digest_size=16)
    for part in (
        commitment.commitment_id,
        str(commitment.version),
        step.name,
        step.kind.value,
        firing.now.isoformat(),
        firing.services.compose_digest(commitment.coach_id),
        *(f"{k}={v}" for k, v in sorted(client.to_record().items())),
        *(
            f"{c.commitment.commitment_id}:{c.commitment.version}:{c.step.name}"
            for c in firing.companions
        ),
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def kept_email(
    firing: Firing, kept: Precomposed | None
) -> tuple[tuple[Question, ...], bytes, str] | None:
    """The kept email's questions, bytes and recipient, if it was composed from what the
    step is now; else None (compose it live)."""
    if kept is None or kept.fingerprint != fingerprint(firing):
        return None
    bank = firing.services.config.bank(firing.profile.question_bank)
    by_id = {q.id: q for q in bank.questions}
    if not all(i in by_id for i in kept.question_ids):
        return None  # cannot happen with the same coach files; composed live all the same
    return tuple(by_id[i] for i in kept.question_ids), kept.message, kept.recipient


async def read_kept(services: Services, commitment_id: str, version: int) -> Precomposed | None:
    """The email kept for this step, if any (in the same round trip as the step's load)."""
    if services.compose_ahead_s <= 0:
        return None
    step_key = keys.precomposed(step_job_id(commitment_id, version))
    raw = await services.store.commands.execute("GET", step_key)
    return Precomposed.decode(raw) if raw else None


async def keep(redis: Redis, step_id: str, email: Precomposed) -> bool:
    """Keep `email` for the step unless another worker already did."""
    stored = redis.set(keys.precomposed(step_id), email.encode(), nx=True, ex=KEPT_FOR_S)
    return bool(await cast(Awaitable[bool | None], stored))
