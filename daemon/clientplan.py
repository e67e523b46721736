"""`coachd plan --client ID`: a client's open commitments planned as coachd will plan them,
with the cadence they set by reply (read from Redis; nothing is written)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from daemon.config.load import load_coach_config
from daemon.errors import OperatorRequestError
from daemon.redisplace import connected
from daemon.settings import Settings
from daemon.store import keys
from daemon.store.redisio import read_hash
from daemon.store.watched import read_client
from daemon.views import format_plan_rows, step_json
from jobs.clientcadence import CadenceRequest, client_profile, describe
from jobs.planner import plan_commitment
from jobs.state import Client, Commitment, Status
from jobs.step import PlannedStep


@dataclass(frozen=True, slots=True)
class ClientPlan:
    """The client, and each of their open commitments with the steps still to come."""

    client: Client
    timelines: tuple[tuple[Commitment, tuple[PlannedStep, ...]], ...]

    def as_json(self) -> dict[str, object]:
        return {
            "client_id": self.client.client_id,
            "timezone": self.client.timezone,
            "cadence": CadenceRequest.from_text(self.client.cadence).model_dump(
                mode="json", exclude_defaults=True
            ),
            "commitments": [
                {
                    "commitment_id": c.commitment_id,
                    "profile": c.profile,
                    "due_date": c.due_date.isoformat(),
                    "steps": [step_json(s) for s in steps],
                }
                for c, steps in self.timelines
            ],
        }

    def as_text(self) -> str:
        own = describe(CadenceRequest.from_text(self.client.cadence))
        lines = [f"Client {self.client.client_id!r} ({self.client.timezone}), cadence: {own}"]
        if self.client.paused_until:
            lines.append(f"Paused until {self.client.paused_until:%A %d %B %Y}")
        for commitment, steps in self.timelines:
            lines += ["", f"{commitment.commitment_id}: due {commitment.due_date:%A %d %B %Y},"
                      f" profile {commitment.profile!r}"]  # fmt: skip
            lines += format_plan_rows(steps)
        if not self.timelines:
            lines += ["", "(no open commitment)"]
        return "\n".join(lines)


async def plan_client(settings: Settings, client_id: str, now: datetime) -> ClientPlan:
    """What `coachd plan --client` shows: the timelines as of `now` (from a pause's end)."""
    config = load_coach_config(settings.config_path)
    async with connected(settings) as redis:
        client = await read_client(redis, client_id)
        if client is None:
            raise OperatorRequestError(f"no client {client_id!r} is stored")
        records = [
            (cid, await read_hash(redis, keys.commitment(cid))) for cid in client.commitment_ids
        ]
    commitments = [Commitment.from_record(cid, raw) for cid, raw in records if raw]
    timelines = []
    for commitment in commitments:
        if commitment.status is not Status.ACTIVE:
            continue
        profile = client_profile(config.profile(commitment.profile), client.cadence)
        last = commitment.last_sent or None
        start = max(now, _back(client, profile.send_at) or now)
        steps = plan_commitment(profile, commitment.due_date, client.zone, start, last_sent=last)
        timelines.append((commitment, tuple(steps)))
    return ClientPlan(client, tuple(timelines))


def _back(client: Client, send_at: time) -> datetime | None:
    """When a paused client hears again: the day they are back, at the usual hour."""
    if client.paused_until is None:
        return None
    return datetime.combine(client.paused_until, send_at, tzinfo=client.zone)
