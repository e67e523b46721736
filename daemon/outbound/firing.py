"""What a running job holds: the worker's services, and one firing of one step."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path

from daemon.config.load import CoachConfig
from daemon.metrics import Metrics
from daemon.outbound.ledger import SendLedger
from daemon.outbound.mailer import Mailer
from daemon.outbound.promptcap import PromptCap
from daemon.outbound.sendgate import SendGate
from daemon.outbound.stepbatch import Settlement, StepBatch, settle_all
from daemon.store import keys
from daemon.store.changes import Finish, StepResult
from daemon.store.commitments import Store
from daemon.store.schedule import Clock
from jobs.cadence import CadenceProfile
from jobs.composer import Composer
from jobs.replytoken import sign_reply_token
from jobs.state import Client, Commitment
from jobs.step import PlannedStep

REPLY_TOKEN_LIFETIME = timedelta(days=120)


@dataclass
class Services:
    """What a worker's `ctx["services"]` holds: every client a job needs, built once."""

    store: Store
    ledger: SendLedger
    prompt_cap: PromptCap
    mailer: Mailer
    config: CoachConfig
    clock: Clock
    signing_key: bytes = field(repr=False)  # a secret: never in a repr or a log
    from_address: str
    reply_domain: str
    job_timeout_s: int
    retry_base_s: float  # the first SMTP retry's delay; each next one doubles
    public_url: str | None = None  # where one-click unsubscribe is served, if HTTP is on
    # Closed when the worker stops: steps and coach emails alike start no new transaction.
    gate: SendGate = field(default_factory=SendGate)
    metrics: Metrics = field(default_factory=Metrics)  # this process's own registry
    # Steps due within this many seconds are composed ahead (daemon.outbound.composeahead).
    compose_ahead_s: float = 0.0
    _composers: dict[Path | None, Composer] = field(default_factory=dict)
    _config_digest: str = ""

    def replace_config(self, config: CoachConfig) -> None:
        """Switch to reloaded coach files; templates compile again (a broken one raises)."""
        composers = {folder: Composer(folder) for folder in _template_dirs(config)}
        self.store.config = config
        self.config = config
        self._composers = composers
        self._config_digest = ""

    def compose_digest(self, coach_id: str) -> str:
        """What this coach's emails are composed from besides the step: the coach files and
        the coach's templates (the same in every worker that loaded the same files)."""
        if not self._config_digest:
            dumped = self.config.model_dump_json(exclude={"sources", "warnings"})
            self._config_digest = hashlib.blake2b(dumped.encode(), digest_size=16).hexdigest()
        return f"{self._config_digest}:{self.composer_for(coach_id).digest}"

    def composer_for(self, coach_id: str) -> Composer:
        # Per coach: their templates_dir (their tone), else the firm's, else the defaults.
        """Templates are compiled once per template folder, not per message."""
        folder = self.config.template_dir_for(coach_id)
        if folder not in self._composers:
            self._composers[folder] = Composer(folder)
        return self._composers[folder]


@dataclass(frozen=True)
class Companion:
    """Another of the client's commitments whose prompt is due the same day: it rides along
    in this email instead of waiting for another day."""

    commitment: Commitment
    step: PlannedStep

    @property
    def ledger_key(self) -> str:
        return keys.ledger(self.commitment.commitment_id, self.commitment.plan_gen, self.step.name)


@dataclass(frozen=True)
class Firing:
    """One run of one step: the state it was decided on and the moment it runs."""

    services: Services
    commitment: Commitment
    client: Client
    profile: CadenceProfile
    step: PlannedStep
    now: datetime
    companions: tuple[Companion, ...] = ()
    batch: StepBatch | None = None  # fired by the dispatcher: settles with its batch

    @property
    def overdue_days(self) -> int:
        local_today = self.now.astimezone(self.client.zone).date()
        return max((local_today - self.commitment.due_date).days, 0)

    @property
    def ledger_key(self) -> str:
        return keys.ledger(self.commitment.commitment_id, self.commitment.plan_gen, self.step.name)

    @cached_property
    def reply_token(self) -> str:
        """The signed token in this email's Reply-To, List-Unsubscribe and bounce address
        (signed once: the envelope and the bounce address both need it)."""
        expires = (self.step.fire_at + REPLY_TOKEN_LIFETIME).date()
        return sign_reply_token(
            self.services.signing_key, self.commitment.thread, self.commitment.sent_count, expires
        )

    def finished(self, result: StepResult) -> Finish:
        """This step's commitment moved on with `result`."""
        commitment = self.commitment
        # By plan and step, not version: an event applied between the final dot and this
        # settling (a new wording, say) must not make the sent email go uncounted.
        return Finish(
            commitment.commitment_id,
            commitment.version,
            self.step,
            result,
            self.now,
            same_step=commitment.plan_gen,
        )

    async def settle(self, settlement: Settlement) -> None:
        """Record outcomes, then move commitments on: with the batch, or on its own."""
        if self.batch is not None:
            await self.batch.settle(settlement)
        else:
            await settle_all(self.services.ledger, self.services.store, [settlement])


def _template_dirs(config: CoachConfig) -> set[Path | None]:
    return {None} | {config.template_dir_for(coach_id) for coach_id in config.coaches}
