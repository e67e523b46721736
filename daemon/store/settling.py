"""Settling fired steps: their commitments move on in one transaction, and a step whose
commitment changed meanwhile still leaves its bookkeeping (a sent email is counted)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from redis.asyncio.client import Pipeline

from daemon.config.load import ConfigLookupError
from daemon.store import keys
from daemon.store.changes import Finish
from daemon.store.coachfeed import UNEXPLAINED_EMAIL, add_to_digest
from daemon.store.learning import record_send
from daemon.store.redisio import read_hashes, transact
from jobs.cadence import CadenceProfile
from jobs.commitment import record_sent
from jobs.learning import send_record
from jobs.questions import QuestionBank
from jobs.state import Client, Commitment
from jobs.step import StepKind

if TYPE_CHECKING:
    from daemon.store.commitments import Store


async def finish_all(store: Store, finishes: list[Finish]) -> None:
    """Move commitments on from steps the ledger has outcomes for (`Finish.moves_on`)."""
    if not finishes:
        return
    commitment_ids = sorted({f.commitment_id for f in finishes})
    commitment_keys = [keys.commitment(i) for i in commitment_ids]

    async def attempt(pipe: Pipeline) -> None:
        await pipe.watch(*commitment_keys)
        records = await read_hashes(pipe, commitment_keys)
        commitments = {
            i: Commitment.from_record(i, r)
            for i, r in zip(commitment_ids, records, strict=True)
            if r
        }
        client_ids = sorted({c.client_id for c in commitments.values()})
        found = zip(client_ids, await read_hashes(pipe, map(keys.client, client_ids)), strict=True)
        clients = {i: Client.from_record(i, r) for i, r in found if r}
        pipe.multi()
        for finish in finishes:
            _finish_one(store, pipe, finish, commitments, clients)

    await transact(store.redis, attempt)


def _finish_one(
    store: Store,
    pipe: Pipeline,
    finish: Finish,
    commitments: dict[str, Commitment],
    clients: dict[str, Client],
) -> None:
    """One step's part of the finishing MULTI, on the batch's working copies of
    `commitments` and `clients` (two steps of one client see each other's change)."""
    current = commitments.get(finish.commitment_id)
    client = clients.get(current.client_id) if current else None
    if current is None or client is None:
        return
    step, result, profile = finish.step, finish.result, store.profile_of(current)
    if result.question_id:
        client = replace(client, last_question=result.question_id)
        clients[client.client_id] = client
        pipe.hset(keys.client(client.client_id), "last_question", result.question_id)
    if not finish.moves_on(current):
        _count_late(pipe, finish, current, commitments)
        return
    error = f"{step.name}: {result.error}" if result.error else ""
    sent_with = result.sent_with
    transition = record_sent(
        current,
        client,
        profile,
        step,
        now=finish.now,
        error=error,
        sent_with=sent_with,
        reached=result.reached,
        asked_plan=result.asked_plan,
    )
    if transition.commitment.sent_count > current.sent_count:
        _record_send(pipe, current, finish)
        if not result.rider:  # the learning loop: one record per email, in this MULTI
            asked, bank = result.question_id.split(), _bank(store, profile)
            sent = send_record(current, client, step, question_ids=asked, bank=bank, now=finish.now)
            client = record_send(pipe, client, sent)
            clients[client.client_id] = client
    store.write_transition(pipe, transition)
    commitments[current.commitment_id] = transition.commitment
    if error:  # the coach hears about an email that did not reach the client, in plain words
        note = result.note or UNEXPLAINED_EMAIL
        add_to_digest(pipe, current, client, "undelivered", finish.now, note=note)


def _count_late(
    pipe: Pipeline, finish: Finish, current: Commitment, commitments: dict[str, Commitment]
) -> None:
    """The commitment changed between this step's final dot and its settling (an event was
    applied): its new version plans on, but a sent email is still counted, so the next one
    gets a Message-ID of its own."""
    if not finish.result.reached or finish.step.kind is StepKind.COACH_QUIET:
        return
    _record_send(pipe, current, finish)
    pipe.hincrby(keys.commitment(current.commitment_id), "sent_count", 1)
    commitments[current.commitment_id] = replace(current, sent_count=current.sent_count + 1)


def _record_send(pipe: Pipeline, current: Commitment, finish: Finish) -> None:
    """When email number `sent_count` of the thread went out: a reply that names it by its
    Message-ID alone counts only while it is young (daemon.inbound.intake)."""
    sent_key = keys.thread_sent(current.thread)
    pipe.hset(sent_key, str(current.sent_count), str(int(finish.now.timestamp())))
    pipe.expire(sent_key, keys.THREAD_SENT_TTL_S)


def _bank(store: Store, profile: CadenceProfile) -> QuestionBank | None:
    """The bank the email's questions came from: their reasons and depths are recorded."""
    try:
        return store.config.bank(profile.question_bank)
    except ConfigLookupError:  # a reload dropped it: the ids are recorded alone
        return None
