"""Commitment and client state in Redis, changed only in transactions with their scheduled step."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import replace
from datetime import datetime
from typing import cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from daemon.config.load import CoachConfig, ConfigLookupError
from daemon.store import keys
from daemon.store.changes import Applied, Finish, StreamEntry
from daemon.store.coachfeed import add_to_digest, add_to_history, notify_coach
from daemon.store.learning import record_answer, record_completion
from daemon.store.pipelining import AutoPipeline
from daemon.store.privacy import erase_client, refuse_if_erased
from daemon.store.records import (
    CommitmentChange,
    client_id_of,
    commitments_by_id,
    load_commitment,
    merge_client_info,
    require_existing,
)
from daemon.store.redisio import nonempty, read_hash, transact
from daemon.store.schedule import StepQueue
from daemon.store.sessions import apply_session_event
from daemon.store.settling import finish_all
from daemon.store.watched import read_client, watch_client_commitments, watch_existing
from jobs.cadence import CadenceProfile
from jobs.clientcadence import coach_line
from jobs.commitment import (
    Transition,
    change_commitment,
    create_commitment,
    replan,
    update_client,
)
from jobs.events import (
    ClientErased,
    ClientUpdated,
    CommitmentCompleted,
    CommitmentCreated,
    Event,
    EventRejected,
    ReplyReceived,
)
from jobs.replyeffect import apply_reply
from jobs.replytoken import thread_key
from jobs.sessionevents import SessionCancelled, SessionScheduled
from jobs.state import Client, Commitment, Status
from jobs.step import PlannedStep


class Store:
    """Reads and writes commitments and clients; every write also (re)schedules their step."""

    def __init__(
        self, redis: Redis, config: CoachConfig, queue: StepQueue, signing_key: bytes
    ) -> None:
        self._redis = redis
        self._config = config
        self._queue = queue
        self._signing_key = signing_key
        # Steps fired side by side share their reads (their finishing: daemon.outbound.stepbatch).
        self.commands = AutoPipeline(redis)

    @property
    def config(self) -> CoachConfig:
        return self._config

    @config.setter
    def config(self, config: CoachConfig) -> None:
        self._config = config

    @property
    def redis(self) -> Redis:
        return self._redis

    @property
    def signing_key(self) -> bytes:
        return self._signing_key

    @property
    def queue(self) -> StepQueue:
        return self._queue

    def profile_of(self, commitment: Commitment) -> CadenceProfile:
        return self._config.profile(commitment.profile)

    async def load(self, commitment_id: str) -> tuple[Commitment, Client] | None:
        return await load_commitment(self.commands, commitment_id)

    async def client_commitments(self, client: Client) -> list[Commitment]:
        """Every commitment of a (loaded) client, read without a transaction (a snapshot)."""
        return await commitments_by_id(self._redis, client.commitment_ids)

    async def apply_event(self, event: Event, ack: StreamEntry | None = None) -> Applied:
        """Apply one event exactly once; raises EventRejected when it cannot be applied."""
        seen = keys.event_seen(event.event_id)

        async def attempt(pipe: Pipeline) -> Applied:
            await pipe.watch(seen)
            if await pipe.exists(seen):
                pipe.multi()
                _ack(pipe, ack)
                return Applied.DUPLICATE
            await refuse_if_erased(pipe, event, self._signing_key)
            if isinstance(event, ClientErased):
                await erase_client(pipe, event.client_id, self._signing_key)
            elif isinstance(event, ClientUpdated):
                await self._apply_client_event(pipe, event)
            elif isinstance(event, ReplyReceived):
                await self._apply_reply(pipe, event)
            elif isinstance(event, SessionScheduled | SessionCancelled):
                await apply_session_event(pipe, event, self._config, self._queue)
            else:
                await self._apply_commitment_event(pipe, event)
            pipe.set(seen, b"1", ex=keys.EVENT_SEEN_TTL_S)
            _ack(pipe, ack)
            return Applied.APPLIED

        return await transact(self._redis, attempt)

    async def finish_all(self, finishes: list[Finish]) -> None:
        """Move commitments on from steps the ledger has outcomes for (`Finish.moves_on`)."""
        await finish_all(self, finishes)

    async def defer_step(
        self, commitment: Commitment, client: Client, step: PlannedStep | None
    ) -> None:
        """Schedule `step` instead of the current one (None: nothing is left to send)."""

        async def attempt(pipe: Pipeline) -> None:
            ckey = keys.commitment(commitment.commitment_id)
            await pipe.watch(ckey)
            version = await cast(Awaitable[bytes | None], pipe.hget(ckey, "version"))
            pipe.multi()
            if version is None or int(version) != commitment.version:
                return
            moved = replace(
                commitment,
                version=commitment.version + 1,
                next_step=step.name if step else "",
                next_at=step.fire_at if step else None,
            )
            self.write_transition(pipe, Transition(moved, commitment.version, step))

        await transact(self._redis, attempt)

    def commitment_change(
        self, event: CommitmentChange, current: Commitment | None, client: Client | None
    ) -> tuple[Client, Transition]:
        """The pure part of a commitment event: the client to store and the transition
        (`current`: the stored commitment; `client`: the stored record of `client_id_of`)."""
        if not isinstance(event, CommitmentCreated):
            current, client = require_existing(event.commitment_id, current, client)
            profile = self.profile_of(current)
            return client, change_commitment(event, current, client, profile, event.occurred_at)
        if current is not None:
            raise EventRejected(f"commitment {event.commitment_id} already exists")
        try:
            profile_name = event.profile or self._config.coach(event.coach_id).profile
            profile = self._config.profile(profile_name)
        except ConfigLookupError as exc:
            raise EventRejected(str(exc)) from None
        client = merge_client_info(client, event.client, event.occurred_at, event.commitment_id)
        thread = thread_key(self._signing_key, event.commitment_id)
        return client, create_commitment(event, client, profile_name, profile, thread)

    def write_commitment_change(
        self, pipe: Pipeline, event: CommitmentChange, client: Client, transition: Transition
    ) -> None:
        """Queue (inside MULTI) the writes of `commitment_change`'s result."""
        if isinstance(event, CommitmentCreated):
            pipe.hset(keys.client(client.client_id), mapping=nonempty(client.to_record()))
            pipe.sadd(keys.coach_commitments(event.coach_id), event.commitment_id)
            pipe.hset(*keys.thread(transition.commitment.thread), event.commitment_id)
        self.write_transition(pipe, transition)
        if isinstance(event, CommitmentCompleted):
            record_completion(pipe, transition.commitment, event.occurred_at)
            add_to_digest(pipe, transition.commitment, client, "completed", event.occurred_at)

    async def _apply_commitment_event(self, pipe: Pipeline, event: CommitmentChange) -> None:
        ckey = keys.commitment(event.commitment_id)
        await pipe.watch(ckey)
        raw = await read_hash(pipe, ckey)
        current = Commitment.from_record(event.commitment_id, raw) if raw else None
        client_id = client_id_of(event, current)
        client = await read_client(pipe, client_id, watch=True) if client_id else None
        client, transition = self.commitment_change(event, current, client)
        pipe.multi()
        self.write_commitment_change(pipe, event, client, transition)

    async def _apply_client_event(self, pipe: Pipeline, event: ClientUpdated) -> None:
        await pipe.watch(keys.client(event.client_id))
        client = update_client(event, await read_client(pipe, event.client_id))
        commitments = await watch_client_commitments(pipe, client)
        pipe.multi()
        self._write_client(pipe, client, commitments, event.occurred_at)

    async def _apply_reply(self, pipe: Pipeline, event: ReplyReceived) -> None:
        ckey = keys.commitment(event.commitment_id)
        await pipe.watch(ckey)
        current, client = await watch_existing(
            pipe, event.commitment_id, await read_hash(pipe, ckey)
        )
        outcome = apply_reply(event, current, client, self.profile_of(current))
        others: list[Commitment] = []
        if outcome.client != client:  # opt-out, pause, bounce: every commitment of theirs
            others = await watch_client_commitments(pipe, client)
        pipe.multi()
        outcome = replace(outcome, client=record_answer(pipe, outcome.client, event))
        if outcome.commitment.status is Status.COMPLETED and current.status is not Status.COMPLETED:
            record_completion(pipe, outcome.commitment, event.occurred_at)
        profile = self.profile_of(current)
        self.write_transition(
            pipe, replan(outcome.commitment, outcome.client, profile, event.occurred_at)
        )
        others = [c for c in others if c.commitment_id != current.commitment_id]
        self._write_client(pipe, outcome.client, others, event.occurred_at)
        add_to_history(pipe, event)
        if event.kind == "reply":
            kind = "completed" if event.intent == "done" else "reply"
            cadence = coach_line(event.cadence, outcome.client.cadence, profile)
            add_to_digest(
                pipe, outcome.commitment, outcome.client, kind, event.occurred_at, reply=event,
                cadence=cadence,
            )  # fmt: skip
        if outcome.notice:
            notify_coach(pipe, self._queue, event, outcome.notice)

    def _write_client(
        self, pipe: Pipeline, client: Client, commitments: list[Commitment], now: datetime
    ) -> None:
        ckey = keys.client(client.client_id)
        pipe.delete(ckey)
        pipe.hset(ckey, mapping=nonempty(client.to_record()))
        for commitment in commitments:
            if commitment.status in (Status.ACTIVE, Status.COMPLETED):
                profile = self.profile_of(commitment)
                self.write_transition(pipe, replan(commitment, client, profile, now))

    def write_transition(self, pipe: Pipeline, transition: Transition) -> None:
        """Queue (inside MULTI) a commitment's new record and the swap of its scheduled step."""
        write_transition(pipe, self._queue, transition)


def write_transition(pipe: Pipeline, queue: StepQueue, transition: Transition) -> None:
    """Queue (inside MULTI) a commitment's new record and the swap of its scheduled step."""
    commitment = transition.commitment
    ckey = keys.commitment(commitment.commitment_id)
    # Rewrite the whole (small) hash so fields that became empty do not linger
    # (a new commitment's hash does not exist yet).
    if transition.previous_version is not None:
        pipe.delete(ckey)
    pipe.hset(ckey, mapping=nonempty(commitment.to_record()))
    if transition.previous_version is not None:
        queue.remove(pipe, commitment.commitment_id, transition.previous_version)
    if transition.step is not None:
        queue.add(pipe, commitment.commitment_id, commitment.version, transition.step)


def _ack(pipe: Pipeline, ack: StreamEntry | None) -> None:
    if ack is not None:
        pipe.xack(ack.stream, ack.group, ack.entry_id)
