"""The path every inbound message takes: read it, match it to a commitment, publish an event."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.message import Message
from typing import cast

import structlog
from redis.asyncio import Redis

from daemon.clock import SystemClock
from daemon.errors import CoachdError
from daemon.inbound.message import InboundMessage
from daemon.inbound.readerpool import read_off_loop
from daemon.inbound.replyevents import message_key, replay_key, reply_events
from daemon.inbox.deadletters import dead_letter
from daemon.inbox.stream import publish_event
from daemon.metrics import Metrics
from daemon.store import keys
from daemon.store.records import commitments_by_id, load_commitment
from daemon.store.schedule import Clock
from jobs.events import MAX_REPLY_CHARS, SCHEMA_VERSION, ClientUpdated, ReplyReceived
from jobs.reading.intent import Asked
from jobs.reading.parts import first_plain_text, parse_message
from jobs.reading.reply import MessageEnvelope, ReadReply, read_content, read_envelope
from jobs.replytoken import InvalidReplyToken, verify_reply_token
from jobs.state import Client, Commitment

log = structlog.get_logger(__name__)

# Message-IDs coachd gives its emails: <{thread}.{seq}@{reply domain}> (see jobs.composer).
_OUR_MESSAGE_ID = re.compile(r"^<?([a-z2-7]{16})\.(\d+)@([^>]+)>?$")
# Reading runs in the reader pool under this limit, so no message can stall the event loop;
# the readers bound their own input, so only a bug or a starved machine gets near it.
READ_TIMEOUT_S = 5.0
# A reply matched by its References alone counts for as long as a reply token would
# (daemon.outbound.firing.REPLY_TOKEN_LIFETIME; a test keeps the two equal).
REFERENCE_LIFETIME = timedelta(days=120)


class HeadersTooSlowError(CoachdError):
    """Raised when a message's headers could not be read within `timeout_s` (the readers
    were busy, or the machine starved): the door answers "try again later" (SMTP 451,
    webhook 503, IMAP: the next poll), so a good reply is delayed, never dead-lettered."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(f"the headers were not read within {timeout_s:g} s")
        self.timeout_s = timeout_s


class ReplyRejected(Exception):
    """Raised when an inbound message cannot be tied to a commitment coachd may act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Match:
    commitment: Commitment
    client: Client
    via: str  # "token" or "references"
    # From one of the client's addresses: only then may the reply change anything.
    known: bool


class ReplyIntake:
    """A MessageSink: verifies who a message is for and publishes it to the inbox as an event."""

    def __init__(
        self,
        redis: Redis,
        signing_key: bytes,
        reply_domain: str,
        clock: Clock | None = None,
        *,
        metrics: Metrics | None = None,
    ) -> None:
        self._redis = redis
        self._key = signing_key
        self._domain = reply_domain.lower()
        self._clock = clock or SystemClock()
        self._metrics = metrics or Metrics()

    @property
    def reply_domain(self) -> str:
        return self._domain

    async def __call__(self, message: InboundMessage) -> None:
        now = self._clock.now()
        # Who it is for and from first: a body is read only for a message coachd may act on.
        envelope = await read_off_loop(
            READ_TIMEOUT_S, read_envelope, message.raw, recipients=message.recipients
        )
        if envelope is None:
            raise HeadersTooSlowError(READ_TIMEOUT_S)
        try:
            match = await self._match(envelope, now)
        except ReplyRejected as rejected:
            await self._reject(message, envelope, rejected.reason)
            return
        # The other commitments the answered email asked about: a reply may answer each.
        riders = await commitments_by_id(self._redis, match.commitment.sent_with)
        riders = [r for r in riders if r.client_id == match.client.client_id]
        asked = tuple(Asked(c.action, c.due_date) for c in (match.commitment, *riders))
        reading = await _read_content(envelope, match.client, now, asked)
        asked_about = [match.commitment, *riders]
        for event in reply_events(message, reading, asked_about, now, known=match.known):
            if await self._first_time(event, now):
                await publish_event(self._redis, event)
        log.info(
            "reply_accepted",
            commitment_id=match.commitment.commitment_id,
            kind=reading.kind,
            intent=reading.intent,
            via=match.via,
            known_sender=match.known,
            source=message.source,
        )
        self._metrics.reply(reading.kind, reading.intent)

    async def _first_time(self, event: ReplyReceived, now: datetime) -> bool:
        """False for a reply whose words and intent this commitment got within the replay
        window (under another Message-ID: a replayed body). The window runs on our clock."""
        if event.kind != "reply":
            return True  # bounces and auto-replies repeat by nature, and change little
        key, stamp = replay_key(event), str(int(now.timestamp()))
        if await self._redis.set(key, stamp, nx=True, ex=keys.REPLY_REPLAY_TTL_S):
            return True
        earlier = await self._redis.get(key)
        if earlier is None or now.timestamp() - int(earlier) >= keys.REPLY_REPLAY_TTL_S:
            await self._redis.set(key, stamp, ex=keys.REPLY_REPLAY_TTL_S)
            return True
        log.info("reply_replayed", commitment_id=event.commitment_id, event_id=event.event_id)
        return False

    async def unsubscribe(self, token: str) -> bool:
        """RFC 8058 one-click: opt the client out. Works after the token's reply lifetime."""
        match = await self._by_token(token, None)
        if match is None:
            return False
        event = ClientUpdated(
            version=SCHEMA_VERSION,
            event_id=f"unsub-{message_key(token.encode(), None)}",
            occurred_at=self._clock.now(),
            type="client.updated",
            client_id=match.client.client_id,
            opted_out=True,
        )
        await publish_event(self._redis, event)
        log.info("client_unsubscribed", commitment_id=match.commitment.commitment_id)
        return True

    async def _match(self, envelope: MessageEnvelope, now: datetime) -> Match:
        if envelope.tokens:
            match = await self._by_token(envelope.tokens[0], now)
            if match is None:
                raise ReplyRejected("reply token is forged, expired or for an unknown commitment")
            return replace(match, known=match.client.writes_from(envelope.sender))
        for thread, seq in _our_references(envelope.references, self._domain):
            match = await self._load(thread, "references")
            if match is not None:
                await self._check_reference(match, seq, envelope, now)
                return replace(match, known=match.client.writes_from(envelope.sender))
        raise ReplyRejected("no reply token and no reference to a coachd email")

    async def _check_reference(
        self, match: Match, seq: int, envelope: MessageEnvelope, now: datetime
    ) -> None:
        """A Message-ID is no secret (it is in every forward): a reply matched by one alone
        must name an email coachd sent, lately, and pass the receiving MTA's checks."""
        if seq >= match.commitment.sent_count:
            raise ReplyRejected("references an email coachd never sent")
        sent = await cast(
            Awaitable[bytes | None],
            self._redis.hget(keys.thread_sent(match.commitment.thread), str(seq)),
        )
        if sent is None or now.timestamp() - int(sent) > REFERENCE_LIFETIME.total_seconds():
            raise ReplyRejected("references an email older than a reply token lasts")
        if envelope.authenticated is False:
            raise ReplyRejected("Authentication-Results show no DMARC or DKIM pass for From")

    async def _by_token(self, token: str, now: datetime | None) -> Match | None:
        try:
            # Unsubscribing must work for ever; replies only within the token's lifetime.
            claims = verify_reply_token(self._key, token, now.date() if now else _FAR_PAST)
        except InvalidReplyToken:
            return None
        return await self._load(claims.thread, "token")

    async def _load(self, thread: str, via: str) -> Match | None:
        commitment_id = await cast(Awaitable[bytes | None], self._redis.hget(*keys.thread(thread)))
        commitment_id = commitment_id or await self._redis.get(keys.legacy_thread(thread))
        if commitment_id is None:
            return None  # erased, or never ours
        loaded = await load_commitment(self._redis, commitment_id.decode())
        return Match(*loaded, via, known=True) if loaded else None

    async def _reject(
        self, message: InboundMessage, envelope: MessageEnvelope, reason: str
    ) -> None:
        # Kept for inspection without the body: the message may not be from our client at all.
        log.warning("reply_rejected", reason=reason, source=message.source)
        summary = f"message-id {envelope.message_id or '(none)'} from {message.source}".encode()
        reason = f"reply rejected: {reason}"
        await dead_letter(self._redis, summary, reason, message.source)
        self._metrics.dead_lettered(reason)


_FAR_PAST = datetime(2020, 1, 1).date()


def _our_references(references: Sequence[str], domain: str) -> list[tuple[str, int]]:
    """(thread, sequence number) of each coachd Message-ID referenced, latest email first:
    References lists a thread's oldest first, and the root may be long past its lifetime."""
    ours = []
    for reference in references:
        found = _OUR_MESSAGE_ID.match(reference.strip())
        if found and found.group(3).lower() == domain:
            ours.append((found.group(1), int(found.group(2))))
    return sorted(ours, key=lambda item: item[1], reverse=True)


async def _read_content(
    envelope: MessageEnvelope, client: Client, now: datetime, asked: tuple[Asked, ...]
) -> ReadReply:
    """The message parsed whole, then read, each under READ_TIMEOUT_S; too slow, a note."""
    whole = await read_off_loop(READ_TIMEOUT_S, parse_message, envelope.raw)
    if whole is None:
        return _too_slow(envelope, envelope.message)  # its headers, the body as one payload
    reading = await read_off_loop(
        READ_TIMEOUT_S,
        read_content,
        envelope,
        zone=client.zone,
        received_at=now,
        asked=asked,
        message=whole,
    )
    return reading if reading is not None else _too_slow(envelope, whole)


def _too_slow(envelope: MessageEnvelope, message: Message | None) -> ReadReply:
    """What the coach gets for a message that took too long to read: a note with the first
    plain-text words as they are (quotes and all: better than losing the client's words)."""
    return ReadReply(
        kind="reply",
        intent="note",
        text=first_plain_text(message, MAX_REPLY_CHARS) if message else "",
        reasons=(f"reading took longer than {READ_TIMEOUT_S:g} s: left for the coach to read",),
        tokens=envelope.tokens,
        references=envelope.references,
        message_id=envelope.message_id,
        sender=envelope.sender,
        sent_at=envelope.sent_at,
    )
