"""Composing a step's email: its questions, its context, its threaded, tokened envelope."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from zoneinfo import ZoneInfo

from daemon.clock import Clock, acting_moment
from daemon.outbound.firing import Firing
from daemon.store import keys
from daemon.store.redisio import read_hash
from jobs.cadencewords import say_cadence
from jobs.choosing import Counts, sampled_scores
from jobs.clientcadence import CadenceRequest
from jobs.composer import Envelope, thread_ids
from jobs.daynames import due_name
from jobs.intention import asks_for_plan
from jobs.questions import Question, choose_help_question, choose_questions
from jobs.state import Client
from jobs.step import StepKind


async def learned_scores(firing: Firing) -> dict[str, float] | None:
    """The learning loop's draws for an overdue prompt of a profile with `learn_questions`
    (jobs.choosing): the client's and the firm's counters, read in the batch's pipeline."""
    profile = firing.profile
    if not profile.learn_questions or firing.step.kind is not StepKind.OVERDUE:
        return None
    commands = firing.services.store.commands
    client, firm = await asyncio.gather(  # one loop turn: one pipeline, with the batch's reads
        read_hash(commands, keys.question_counts(firing.client.client_id)),
        read_hash(commands, keys.FIRM_QUESTION_COUNTS),
    )
    bank = firing.services.config.bank(profile.question_bank)
    return sampled_scores(
        bank.questions, Counts.from_hash(client), Counts.from_hash(firm), _seed(firing)
    )


def _seed(firing: Firing) -> str:
    commitment = firing.commitment
    return f"{commitment.commitment_id}:{commitment.plan_gen}:{firing.step.name}"


def step_questions(firing: Firing, scores: dict[str, float] | None = None) -> tuple[Question, ...]:
    if firing.step.kind not in (StepKind.OVERDUE, StepKind.BLOCKED):
        return ()
    commitment, profile = firing.commitment, firing.profile
    bank = firing.services.config.bank(profile.question_bank)
    seed = _seed(firing)
    if firing.step.kind is StepKind.BLOCKED:
        return (choose_help_question(bank, firing.client.last_question or None, seed),)
    return choose_questions(
        bank,
        firing.overdue_days,
        firing.client.last_question or None,
        profile.questions_per_prompt,
        seed,
        # Nothing sent yet about this action: however overdue it is, the first email is light.
        first_contact=commitment.sent_count == 0,
        scores=scores,
    )


def compose_step(firing: Firing, questions: tuple[Question, ...]) -> tuple[bytes, str]:
    services, commitment, client = firing.services, firing.commitment, firing.client
    coach = services.config.coach(commitment.coach_id)
    local_today = firing.now.astimezone(client.zone).date()
    context = client_contact(client) | {
        "firm_name": services.config.firm.name,
        "coach_name": coach.name,
        # Clients are greeted as they like to be called; the coach reads the full name.
        "client_name": client.name if firing.step.kind is StepKind.COACH_QUIET else client.greeting,
        "client_full_name": client.name,
        "action": commitment.action,
        "why": commitment.why,
        "due_date": format_due_date(commitment.due_date, local_today, _lang(firing)),
        "days_until_due": (commitment.due_date - local_today).days,
        "overdue_days": firing.overdue_days,
        "questions": [q.text for q in questions],
        # A confirmation (ack) says what coachd understood, in the language of the reply.
        "understood": commitment.ack_for or "due",
        "lang": _lang(firing),
        "pause_until": format_due_date(client.paused_until, local_today, _lang(firing))
        if client.paused_until
        else "",
        "cadence": say_cadence(CadenceRequest.from_text(client.cadence), _lang(firing)),
        "unanswered": commitment.unanswered,
        # A confirmation of a new date may ask when exactly, and the first step (jobs.intention).
        "ask_plan": plan_question(firing),
        # The client's other steps due today, in this one email (see delivery._due_today_too).
        "also": [
            {
                "action": c.commitment.action,
                "due_date": format_due_date(c.commitment.due_date, local_today),
                "overdue": c.step.kind is StepKind.OVERDUE,
            }
            for c in firing.companions
        ],
    }
    composer = services.composer_for(commitment.coach_id)
    rendered = composer.render(firing.step.kind, context)
    envelope = _envelope(firing)
    return composer.compose(envelope, rendered), envelope.to_address


def plan_question(firing: Firing) -> bool:
    """Whether this email is a confirmation that asks the client for their plan."""
    return firing.step.kind is StepKind.ACK and asks_for_plan(firing.commitment, firing.profile)


def _envelope(firing: Firing) -> Envelope:
    services, commitment, client = firing.services, firing.commitment, firing.client
    firm, domain = services.config.firm, services.reply_domain
    if firing.step.kind is StepKind.COACH_QUIET:
        coach = services.config.coach(commitment.coach_id)
        notice_id = f"<{commitment.thread}.coach.{commitment.plan_gen}@{domain}>"
        return Envelope(
            from_name=firm.name,
            from_address=services.from_address,
            to_name=coach.name,
            to_address=coach.email,
            message_id=notice_id,
            date=firing.now.astimezone(coach.zone),
            reply_to=coach_reply_to(client),
        )
    message_id, in_reply_to, references = thread_ids(
        commitment.thread, commitment.sent_count, domain
    )
    token = firing.reply_token
    unsubscribe = f"<mailto:unsubscribe+{token}@{domain}>"
    # The firm's own https prefix (proxied to coachd's /unsubscribe/), else coachd's public URL.
    prefix = firm.unsubscribe_url or (
        f"{services.public_url.rstrip('/')}/unsubscribe/" if services.public_url else None
    )
    if prefix:
        unsubscribe = f"<{prefix.rstrip('/')}/{token}>, {unsubscribe}"
    return Envelope(
        from_name=firm.name,
        from_address=services.from_address,
        to_name=client.name,
        to_address=client.email,
        message_id=message_id,
        date=firing.now.astimezone(client.zone),  # its due moment, when on time
        reply_to=f"reply+{token}@{domain}",
        in_reply_to=in_reply_to,
        references=references,
        list_unsubscribe=unsubscribe,
    )


def email_date(clock: Clock, due: datetime, zone: ZoneInfo) -> datetime:
    """An email's Date, in its reader's zone: when it was due if it goes out on time (a
    17:00 digest says 17:00), else when it went (daemon.clock.acting_moment)."""
    return acting_moment(clock, due).astimezone(zone)


def client_contact(client: Client) -> dict[str, object]:
    """What an email to the coach says about reaching the client: their address, and
    whether it works (after a hard bounce it does not, and `coach_reply_to` is None)."""
    return {"client_email": client.email, "client_reachable": not client.email_failing}


def coach_reply_to(client: Client) -> str | None:
    """An email to the coach about a client answers to the client: the coach's reply reaches
    them at once. Not when their address bounces."""
    return None if client.email_failing else client.email


def _lang(firing: Firing) -> str:
    """The language a confirmation is written in; other emails stay in the coach's words."""
    return (firing.client.language or "en") if firing.step.kind is StepKind.ACK else "en"


def bounce_address(firing: Firing) -> str:
    """Envelope sender on the reply domain, so bounces come back to coachd (VERP: the token
    says whose email bounced), not to a person; an email to the coach bounces to the firm."""
    if firing.step.kind is StepKind.COACH_QUIET:  # to the coach: see coachmail.send_to_coach
        return firing.services.from_address
    return f"bounces+{firing.reply_token}@{firing.services.reply_domain}"


def format_due_date(due: date, today: date, lang: str = "en") -> str:
    """`due` as the email shows it; the year appears when `due` is not in `today`'s year."""
    return due_name(due, today, lang)
