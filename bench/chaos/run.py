"""One chaos run: Redis, a faulty sink and N workers; kills and restarts; drain; verdict.

Commitments are created in waves through `coachd emit`, each already three days overdue,
so its one prompt falls due the moment it is applied: sends go on for the whole run.
"""

from __future__ import annotations

import heapq
import json
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis

from bench.chaos.check import Verdict, judge, ledger_entries
from bench.chaos.faults import Hold
from bench.chaos.redisserver import RedisServer
from bench.chaos.sink import ChaosSink
from bench.chaos.workers import COACHD, Worker, kill_one_mid_send, worker_env
from daemon.outbound.ledger import IN_FLIGHT, parse_entry

WAVE_EVERY_S = 2.0
EMIT_TRIES = 5
EMIT_TIMEOUT_S = 60.0
DRAIN_POLL_S = 1.0
SETTLE_S = 3.0  # once all is settled, time for a late duplicate to show up
OVERDUE_DAYS = 3
NOON = 12


@dataclass(frozen=True)
class Options:
    commitments: int = 300
    workers: int = 2
    minutes: float = 2.0  # how long the chaos lasts (the drain comes after)
    seed: int = 1
    fault_rate: float = 0.15  # share of SMTP transactions that get a fault
    kill_every_s: tuple[float, float] = (3.0, 7.0)
    redis_restarts: int = 4  # alternately SIGKILL and SIGTERM, evenly spread
    drain_s: float = 180.0
    job_timeout_s: int = 5  # a killed worker's steps and claims come back ~2x this later
    smtp_timeout_s: float = 2.0
    retry_base_s: float = 0.3


@dataclass
class Report:
    options: Options
    workdir: Path
    verdict: Verdict = field(default_factory=Verdict)
    kills: int = 0
    kills_mid_send: Counter[str] = field(default_factory=Counter)  # by hold, or "anywhere"
    redis_restarts: Counter[str] = field(default_factory=Counter)
    faults: dict[str, int] = field(default_factory=dict)
    exit_codes: list[int] = field(default_factory=list)
    drained: bool = False
    seconds: float = 0.0

    @property
    def bad_exits(self) -> list[int]:
        return [code for code in self.exit_codes if code != 0]

    @property
    def failed(self) -> bool:
        return bool(self.verdict.violations or self.bad_exits)


def commitment_event(n: int, now: datetime) -> dict[str, Any]:
    """Commitment `c<n>` of client `client<n>`, 3 days overdue in a zone where it is noon."""
    offset = max(min(NOON - now.hour, 14), -12)  # Etc/GMT-N is UTC+N (POSIX signs)
    return {
        "version": 1,
        "event_id": f"e{n}",
        "occurred_at": now.isoformat(),
        "type": "commitment.created",
        "commitment_id": f"c{n}",
        "coach_id": "maria",
        "client": {
            "client_id": f"client{n}",
            "name": f"Client {n}",
            "email": f"client{n}@example.org",
            "timezone": f"Etc/GMT{-offset:+d}" if offset else "Etc/UTC",
        },
        "action": "write the first page",
        "profile": "anytime",
        "due_date": (now - timedelta(days=OVERDUE_DAYS)).date().isoformat(),
    }


def emit(env: dict[str, str], numbers: range) -> None:
    now = datetime.now(UTC)
    lines = "\n".join(json.dumps(commitment_event(n, now)) for n in numbers)
    for _ in range(EMIT_TRIES):  # event ids make a repeat harmless
        done = subprocess.run(  # noqa: S603 - our own interpreter
            [*COACHD, "emit", "-"], env=env, input=lines, text=True,
            capture_output=True, timeout=EMIT_TIMEOUT_S, check=False,
        )  # fmt: skip
        if done.returncode == 0:
            return
        time.sleep(1)
    raise RuntimeError(f"coachd emit failed: {done.stderr[-2000:]}")


class Chaos:
    """The run's moving parts, and the timeline that breaks them."""

    def __init__(self, options: Options, workdir: Path, sink: ChaosSink, db: RedisServer) -> None:
        self.options, self.sink, self.db = options, sink, db
        self.report = Report(options, workdir)
        self.random = random.Random(options.seed)  # noqa: S311 - reproducible, not secret
        extra = {
            "job_timeout_s": str(options.job_timeout_s),
            "smtp_timeout_s": str(options.smtp_timeout_s),
            "smtp_retry_base_s": str(options.retry_base_s),
            "inbox_reclaim_s": "3",
        }
        self.env = worker_env(workdir, db.url, sink.port, extra)
        self.workers = [
            Worker(self.env, workdir / f"worker{i}.log") for i in range(options.workers)
        ]
        self._journal = (workdir / "timeline.jsonl").open("a")
        self._journal_lock = threading.Lock()  # the emitter thread notes too
        self._emit_error: BaseException | None = None

    def note(self, what: str, **fields: Any) -> None:
        """The timeline, for reading a violation against what happened when."""
        with self._journal_lock:
            self._journal.write(json.dumps({"at": time.time(), "what": what, **fields}) + "\n")
            self._journal.flush()

    def timeline(self) -> list[tuple[float, int, str, Any]]:
        """Redis restarts evenly spread, alternately SIGKILL and SIGTERM; the first kill."""
        opts, chaos_s = self.options, self.options.minutes * 60
        kinds = (signal.SIGKILL, signal.SIGTERM)
        plan: list[tuple[float, int, str, Any]] = [
            (chaos_s * (i + 1) / (opts.redis_restarts + 1), i, "redis", kinds[i % 2])
            for i in range(opts.redis_restarts)
        ]
        plan.append((self.random.uniform(*opts.kill_every_s), -1, "kill", None))
        heapq.heapify(plan)
        return plan

    def run_chaos(self) -> None:
        start, end = time.monotonic(), time.monotonic() + self.options.minutes * 60
        emitter = threading.Thread(target=self.emit_waves, args=(start,), name="chaos-emitter")
        emitter.start()
        plan = self.timeline()
        while plan:
            at, order, what, arg = heapq.heappop(plan)
            if start + at > end:
                continue
            time.sleep(max(0.0, start + at - time.monotonic()))
            if what == "redis":
                self.restart_redis(arg)
                continue
            self.kill_one()
            after = time.monotonic() - start + self.random.uniform(*self.options.kill_every_s)
            heapq.heappush(plan, (after, order - 1, "kill", None))
        emitter.join()
        if self._emit_error is not None:
            raise self._emit_error

    def emit_waves(self, start: float) -> None:
        """The commitments in waves every WAVE_EVERY_S over the chaos (beside the kills)."""
        count, waves = (
            self.options.commitments,
            max(1, int(self.options.minutes * 60 / WAVE_EVERY_S)),
        )
        bounds = [count * k // waves for k in range(waves + 1)]
        try:
            for k in range(waves):
                time.sleep(max(0.0, start + k * WAVE_EVERY_S - time.monotonic()))
                emit(self.env, range(bounds[k], bounds[k + 1]))
                self.note("emitted", first=bounds[k], stop=bounds[k + 1])
        except BaseException as exc:  # raised again in the main thread
            self._emit_error = exc

    def restart_redis(self, signum: signal.Signals) -> None:
        self.note("redis_stop", signal=signum.name)
        self.db.restart(signum)
        self.report.redis_restarts[signum.name] += 1
        self.note("redis_started")

    def kill_one(self) -> None:
        """Every other kill holds a transaction open at the sink, before or after its final dot,
        and kills the worker that sends it; the others hit a worker at random."""
        worker, hold = None, None
        if self.report.kills % 2 == 0:
            hold = self.random.choice(list(Hold))
            self.sink.hold_next(hold)
            worker = kill_one_mid_send(self.workers, self.sink.port, self.sink.open_ports)
        if worker is None:
            worker, hold = self.random.choice(self.workers), None
            worker.kill()
        self.report.kills += 1
        self.report.kills_mid_send[hold.value if hold else "anywhere"] += 1
        self.note("kill", worker=self.workers.index(worker), hold=hold)
        worker.start()  # the supervisor restarts it

    def settled(self, client: redis.Redis) -> bool:
        """Every commitment's step has a final ledger entry, and none is in flight."""
        entries = ledger_entries(client)
        if any(parse_entry(v).outcome in IN_FLIGHT for v in entries.values()):
            return False
        done = {key.split(":")[2] for key in entries}
        return all(f"c{n}" in done for n in range(self.options.commitments))

    def drain(self) -> None:
        self.sink.stop_faults()
        self.note("faults_stopped")
        client = redis.Redis.from_url(self.db.url)
        deadline = time.monotonic() + self.options.drain_s
        try:
            while time.monotonic() < deadline:
                try:
                    if self.settled(client):
                        self.report.drained = True
                        break
                except redis.RedisError:
                    pass
                time.sleep(DRAIN_POLL_S)
            time.sleep(SETTLE_S)
        finally:
            client.close()

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.terminate()
        self.report.exit_codes = [worker.wait() for worker in self.workers]
        self.note("workers_stopped", exit_codes=self.report.exit_codes)

    def judge(self) -> None:
        expected = {f"c{n}": f"client{n}@example.org" for n in range(self.options.commitments)}
        client = redis.Redis.from_url(self.db.url)
        try:
            self.report.verdict = judge(client, expected, self.sink.accepted())
        finally:
            client.close()
        self.report.faults = self.sink.injected()
        self._journal.close()


def run(options: Options, workdir: Path) -> Report:
    """The whole run, in `workdir` (logs, the AOF and the timeline stay there)."""
    began = time.monotonic()
    db = RedisServer(workdir / "redis")
    db.start()
    try:
        with ChaosSink(options.seed, options.fault_rate) as sink:
            chaos = Chaos(options, workdir, sink, db)
            try:
                for worker in chaos.workers:
                    worker.start()
                chaos.run_chaos()
                chaos.drain()
            finally:
                chaos.stop_workers()
            chaos.judge()
    finally:
        db.stop()
    chaos.report.seconds = time.monotonic() - began
    return chaos.report
