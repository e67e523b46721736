"""`GET /metrics` counts what the app did: events, dead letters, steps, emails, replies, Redis.

The app runs on real Redis and aiosmtpd, its HTTP server and SMTP receiver started as
`coachd run` starts them (daemon.app.inbound_routes); time moves only when the test moves it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import httpx
import pytest
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis
from structlog.testing import capture_logs

from daemon.app import inbound_routes
from daemon.health import Readiness
from daemon.heartbeat import Heartbeats
from daemon.inbound.intake import ReplyIntake
from daemon.inbound.webhooks import WebhookSecrets, build_http_app
from daemon.metrics import (
    EMAIL_OUTCOMES,
    EVENT_TYPES,
    INTENTS,
    REASON_CLASS_NAMES,
    REPLY_KINDS,
    Metrics,
)
from daemon.outbound.coachmail import schedule_all_digests
from daemon.outbound.mailer import SmtpMailer
from daemon.scrape import metrics_endpoint, refresh_gauges
from daemon.settings import Settings
from daemon.store import keys
from daemon.store.embedded import pick_free_port
from daemon.worker import Identity
from jobs.step import StepKind
from tests.helpers.events import changed, created
from tests.helpers.firm import SIGNING_KEY
from tests.helpers.loop import Loop, running_loop
from tests.helpers.smtp import SmtpTestServer
from tests.helpers.webhooks import Recorder

pytestmark = pytest.mark.integration

LOOPBACK = "127.0.0.1"
DOMAIN = "reply.northstar.example"
REMINDER_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # Tuesday 09:00 Madrid, 2 days before due
LATE_S = 90  # the dispatcher reaches the reminders this late
REPLIED_AT = REMINDER_AT + timedelta(seconds=LATE_S)
REFLECTION_AT = REPLIED_AT + timedelta(hours=4)  # the standard profile's reflection delay
DIGEST_AT = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # 17:00 Madrid, the coach's digest_at
CLIENTS = {"ana": "ana@example.org", "ben": "ben@example.org", "cy": "cy@example.org"}
OPENMETRICS = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
# The mailer waits this long for the server's answer to the final dot; the server takes longer.
SMTP_TIMEOUT_S = 0.3
SLOW_ANSWER_S = 1.0
SILENT_TIMEOUT_S = 0.3

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
async def quick_loop(
    redis_url: str, smtp_server: SmtpTestServer, firm_config: Path
) -> AsyncIterator[Loop]:
    """The conftest's `loop`, with a mailer timeout short enough to make "unknown" quickly."""
    identity = Identity("coach@northstar.example", DOMAIN, SIGNING_KEY)
    mailer = SmtpMailer(smtp_server.smtp_config(timeout=SMTP_TIMEOUT_S))
    async with running_loop(redis_url, smtp_server, firm_config, mailer, identity) as running:
        yield running


@asynccontextmanager
async def serving_app(loop: Loop) -> AsyncIterator[tuple[httpx.AsyncClient, int]]:
    """The app's HTTP server and SMTP receiver, wired with the loop's own metrics."""
    http_port, receiver_port = pick_free_port(), pick_free_port()
    settings = Settings(
        _env_file=None,
        http_host=LOOPBACK,
        http_port=http_port,
        receiver_host=LOOPBACK,
        receiver_port=receiver_port,
    )
    metrics = loop.services.metrics
    intake = ReplyIntake(loop.redis, SIGNING_KEY, DOMAIN, metrics=metrics)
    readiness = Readiness(loop.redis, Heartbeats(), metrics=metrics)
    routes = inbound_routes(
        settings, intake, None, loop.redis, readiness=readiness, metrics=metrics
    )
    async with routes, httpx.AsyncClient(base_url=f"http://{LOOPBACK}:{http_port}") as http:
        yield http, receiver_port


def reply_to(prompt: EmailMessage, text: str, *, to: str | None = None) -> EmailMessage:
    answer = EmailMessage()
    answer["From"] = prompt["To"]
    answer["To"] = to or prompt["Reply-To"]
    answer["Subject"] = f"Re: {prompt['Subject']}"
    answer["Message-ID"] = f"<{abs(hash(text))}@mail.example.org>"
    answer["In-Reply-To"] = prompt["Message-ID"]
    answer.set_content(text)
    return answer


def samples(text: str) -> Samples:
    """Every sample of the exposition, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def labelled(found: Samples, name: str) -> dict[tuple[str, ...], float]:
    """The samples of `name`, keyed by their label values in label-name order."""
    return {
        tuple(value for _, value in sorted(labels)): value
        for (sample, labels), value in found.items()
        if sample == name
    }


def value(found: Samples, name: str) -> float:
    return found[(name, frozenset())]


async def drive(loop: Loop, receiver_port: int) -> None:
    """Three commitments, a duplicate and two bad events; reminders 90 s late (one refused),
    then the digest due since Monday 17:00 (it lists the refused email); a done, a blocked and
    a forged reply; the acknowledgement, the answer to the blocked client, the coach's notice,
    the reflection and Tuesday's digest (its final dot answered too late: outcome unknown)."""
    loop.smtp.handler.refuse_recipient(CLIENTS["cy"])
    await schedule_all_digests(loop.services)
    await loop.emit(
        *(created(f"e-{c}", f"c-{c}", client_id=c, email=e) for c, e in CLIENTS.items())
    )
    await loop.emit(created("e-ana", "c-ana", client_id="ana"))  # the same event_id again
    await loop.redis.xadd(keys.INBOX_STREAM, {"event": b"{not json"})
    await loop.emit(changed("commitment.completed", "e-x", REMINDER_AT, "c-nobody"))
    await loop.consume()

    await loop.advance(REPLIED_AT)
    reminders = {m.rcpt_tos[0]: m.message for m in loop.messages}
    async with aiosmtplib.SMTP(hostname=LOOPBACK, port=receiver_port) as smtp:
        await smtp.send_message(reply_to(reminders[CLIENTS["ana"]], "Done!"))
        await smtp.send_message(reply_to(reminders[CLIENTS["ben"]], "I'm stuck, no time."))
        forged = f"reply+{'a' * 32}@{DOMAIN}"  # the receiver's shape, no valid signature
        await smtp.send_message(reply_to(reminders[CLIENTS["ana"]], "Done?", to=forged))
    await loop.consume()
    await loop.run_due()
    await loop.advance(REFLECTION_AT)
    loop.smtp.handler.delay_data(SLOW_ANSWER_S)  # the digest's final dot: no answer in time
    await loop.advance(DIGEST_AT)


async def test_metrics_scraped_over_http_count_exactly_what_the_app_did(
    quick_loop: Loop,
) -> None:
    loop = quick_loop
    async with serving_app(loop) as (http, receiver_port):
        await drive(loop, receiver_port)
        await http.get("/readyz")  # a PING: one round trip observed
        response = await http.get("/metrics")
        openmetrics = await http.get("/metrics", headers={"Accept": OPENMETRICS})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    found = samples(response.text)

    applied = {(t,): 0.0 for t in EVENT_TYPES} | {
        ("commitment.created",): 3,
        ("reply.received",): 2,
    }
    assert labelled(found, "coachd_events_applied_total") == applied
    assert value(found, "coachd_events_duplicate_total") == 1
    dead = {(r,): 0.0 for r in REASON_CLASS_NAMES}
    dead |= {("not_json",): 1, ("unknown_reference",): 1, ("reply_rejected",): 1}
    assert labelled(found, "coachd_dead_letters_total") == dead

    emails = {(k.value, o): 0.0 for k in StepKind for o in EMAIL_OUTCOMES}
    emails |= {("reminder", "sent"): 2, ("reminder", "failed"): 1, ("ack", "sent"): 1}
    emails |= {("blocked", "sent"): 1, ("coach_notice", "sent"): 1, ("reflection", "sent"): 1}
    emails |= {("digest", "sent"): 1, ("digest", "unknown"): 1}
    assert labelled(found, "coachd_emails_total") == emails
    assert value(found, "coachd_smtp_send_seconds_count") == sum(emails.values())
    replies = {(i, k): 0.0 for k in REPLY_KINDS for i in INTENTS}  # label order: intent, kind
    replies |= {("done", "reply"): 1, ("blocked", "reply"): 1}
    assert labelled(found, "coachd_replies_total") == replies

    # Steps: three reminders (90 s late), the acknowledgement, the answer, the reflection.
    assert value(found, "coachd_steps_fired_total") == 6
    assert value(found, "coachd_step_lateness_seconds_count") == 6
    assert value(found, "coachd_step_lateness_seconds_sum") == 3 * LATE_S
    assert found[("coachd_step_lateness_seconds_bucket", frozenset({("le", "60.0")}))] == 3
    assert found[("coachd_step_lateness_seconds_bucket", frozenset({("le", "300.0")}))] == 6

    # Gauges read at the scrape: everything was read and applied, nothing is due.
    assert value(found, "coachd_inbox_length") == await loop.redis.xlen(keys.INBOX_STREAM) == 8
    assert (value(found, "coachd_inbox_pending"), value(found, "coachd_inbox_lag")) == (0, 0)
    scheduled = await loop.redis.zcard(keys.STEP_SCHEDULE)
    assert (value(found, "coachd_steps_scheduled"), value(found, "coachd_steps_due")) == (
        scheduled,
        0,
    )
    assert value(found, "coachd_redis_up") == 1
    assert value(found, "coachd_redis_roundtrip_seconds_count") == 2  # /readyz and /metrics

    # What Prometheus asks for first, OpenMetrics, holds the same counts.
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
    in_openmetrics = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in openmetrics_families(openmetrics.text)
        for sample in family.samples
    }
    assert labelled(in_openmetrics, "coachd_emails_total") == emails


async def test_metrics_are_not_served_without_a_registry(loop: Loop) -> None:
    """The HTTP app without metrics (as build_http_app's other users build it): 404."""
    settings = Settings(_env_file=None, http_host=LOOPBACK, http_port=pick_free_port())
    intake = ReplyIntake(loop.redis, SIGNING_KEY, DOMAIN)
    async with (
        inbound_routes(settings, intake, None, loop.redis),
        httpx.AsyncClient(base_url=f"http://{LOOPBACK}:{settings.http_port}") as http,
    ):
        assert (await http.get("/metrics")).status_code == 404
        assert (await http.get("/healthz")).status_code == 200


async def test_a_scrape_with_redis_refusing_serves_the_counts_and_redis_up_0() -> None:
    metrics = Metrics()
    metrics.dead_lettered("client erased")
    redis = Redis(host=LOOPBACK, port=pick_free_port())  # nothing listens there
    app = build_http_app(
        sink=Recorder().sink,
        unsubscribe=Recorder().unsubscribe,
        secrets=WebhookSecrets(),
        max_body_bytes=1024,
        metrics=metrics_endpoint(metrics, redis),
    )
    transport = httpx.ASGITransport(app=app)
    with capture_logs() as logs:
        async with httpx.AsyncClient(transport=transport, base_url="http://coachd") as http:
            response = await http.get("/metrics")
    await redis.aclose()
    found = samples(response.text)
    assert response.status_code == 200
    assert value(found, "coachd_redis_up") == 0
    assert found[("coachd_dead_letters_total", frozenset({("reason", "erased")}))] == 1
    assert [(e["event"], e["error"]) for e in logs if e["event"].startswith("metrics_")] == [
        ("metrics_redis_unavailable", "ConnectionError")
    ]


async def test_a_scrape_gives_up_on_a_silent_redis_in_time_and_keeps_the_last_gauges() -> None:
    """A Redis that accepts and never answers (frozen) costs a scrape `timeout_s`, no more."""

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up and closes

    server = await asyncio.start_server(silent, LOOPBACK, 0)
    redis = Redis(host=LOOPBACK, port=server.sockets[0].getsockname()[1])
    metrics = Metrics()
    metrics.inbox_length.set(5)
    started = time.monotonic()
    with capture_logs() as logs:
        answered = await refresh_gauges(metrics, redis, timeout_s=SILENT_TIMEOUT_S)
    took_s = time.monotonic() - started
    await redis.aclose()
    server.close()
    gauges = [
        metrics.registry.get_sample_value(n) for n in ("coachd_redis_up", "coachd_inbox_length")
    ]
    assert (answered, gauges) == (False, [0, 5])
    assert SILENT_TIMEOUT_S <= took_s < SILENT_TIMEOUT_S + 1
    assert [e["error"] for e in logs if e["event"] == "metrics_redis_unavailable"] == [
        "TimeoutError"
    ]
