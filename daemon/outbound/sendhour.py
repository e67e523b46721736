"""When an overdue prompt goes, for a profile with `learn_send_hour`: at the hour drawn from
this client's and the firm's answers by hour (jobs.choosing.sampled_hour), among the hours of
today's send window still open (jobs.planner.open_hours); the counters are read in the batch's
pipeline. Such a prompt is planned at the window's start and, firing there, is deferred to
its hour; firing at that hour, it draws the same hour again and goes."""

from __future__ import annotations

import asyncio
from datetime import datetime

from daemon.outbound.firing import Firing
from daemon.store import keys
from daemon.store.redisio import read_hash
from jobs.choosing import Counts, sampled_hour
from jobs.planner import open_hours
from jobs.step import StepKind


async def learned_moment(firing: Firing) -> datetime | None:
    """The moment the prompt goes at (now, or later today in its window); None when the
    profile does not learn the hour or the step is no overdue prompt."""
    profile, client = firing.profile, firing.client
    if not profile.learn_send_hour or firing.step.kind is not StepKind.OVERDUE:
        return None
    commands = firing.services.store.commands
    mine, firm = await asyncio.gather(  # one loop turn: one pipeline, with the batch's reads
        read_hash(commands, keys.hour_counts(client.client_id)),
        read_hash(commands, keys.FIRM_HOUR_COUNTS),
    )
    hours = open_hours(profile, firing.now, client.zone)
    hour = sampled_hour(hours, Counts.from_hash(mine), Counts.from_hash(firm), hour_seed(firing))
    return None if hour is None else hours[hour]


def hour_seed(firing: Firing) -> str:
    """By client and local day: a client's prompts of one day draw one hour and go out in one
    email (daemon.outbound.delivery's companions), and each day draws afresh."""
    day = firing.now.astimezone(firing.client.zone).date()
    return f"{firing.client.client_id}:{day.isoformat()}"
