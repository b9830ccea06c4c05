"""Prometheus metrics at ``/metrics``: requests counted per process, the rest read from the database per scrape.

Requests: ``kuulo_http_requests_total`` and ``kuulo_http_request_duration_seconds`` by route endpoint (never
the raw path), method and status. Under gunicorn every worker counts its own; gunicorn.conf.py points
PROMETHEUS_MULTIPROC_DIR at a fresh directory, where prometheus-client keeps each worker's values in a file,
and a scrape — whichever worker answers it — adds up all of them. Without that variable (``flask run``, one
process) the process's own values are shown.

Everything else is a gauge computed from the database when scraped, so every worker answers the same:
the outbox by channel and state, job runs (the last run's duration, end and failure; runs of the last 24
hours by status), the scheduler's newest activity, and active loans (audiobook e-loans, circulation
loans). ``kuulo_database_up`` is 0 when the database could not be read; the request metrics still answer.

Access: ``Authorization: Bearer <KUULO_METRICS_TOKEN>``. Without a token configured, production answers 403
and development answers only clients on loopback.
"""
from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import Engine, func, select

from app import clock, db, gate
from app.config import is_production
from app.errors import problem
from app.notify.jobs import SENT_CHANNELS
from app.notify.models import OutboxMessage
from app.platform.health import scheduler_activity
from app.scheduler_models import JobRun

bp = Blueprint("metrics", __name__)
disable_created_metrics()  # no *_created series: Prometheus does not need them (process-wide setting)

REGISTRY = CollectorRegistry()  # this process's request metrics (not prometheus-client's global registry)
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
LABELS = ["endpoint", "method", "status"]
REQUESTS = Counter("kuulo_http_requests", "HTTP requests answered, by route endpoint, method and status",
                   LABELS, registry=REGISTRY)
LATENCY = Histogram("kuulo_http_request_duration_seconds",
                    "Time to answer an HTTP request (until the response is ready, not streamed), by route endpoint",
                    LABELS, registry=REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
RECENT = timedelta(hours=24)


def multiprocess_mode() -> bool:
    """Whether prometheus-client keeps values in PROMETHEUS_MULTIPROC_DIR (read by it, at import)."""
    return bool(getattr(values.ValueClass, "_multiprocess", False))


def init_app(app: Flask) -> None:
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)

    @app.after_request
    def _count(resp: Response) -> Response:
        started = g.pop("metrics_started", None)
        if started is not None:
            labels = (request.endpoint or "unmatched", request.method if request.method in METHODS else "other",
                      str(resp.status_code))
            REQUESTS.labels(*labels).inc()
            LATENCY.labels(*labels).observe(time.perf_counter() - started)
        return resp


@bp.get("/metrics")
@gate.always_open
def metrics() -> Any:
    refusal = _refusal()
    if refusal is not None:
        return refusal
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    body = exposition(db.engine(app), clock.now())
    return Response(body, content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def _refusal() -> Response | None:
    token = str(current_app.config.get("METRICS_TOKEN") or "")
    if token:
        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return None
        return problem(401, "unauthorized", headers={"WWW-Authenticate": 'Bearer realm="kuulo-metrics"'})
    if not is_production(current_app.config) and _loopback(request.remote_addr):
        return None
    return problem(403, "forbidden", "Set KUULO_METRICS_TOKEN to read the metrics.")


def _loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def exposition(engine: Engine, now: datetime) -> bytes:
    """The text exposition: request metrics (all workers' in multiprocess mode), then the database gauges."""
    if multiprocess_mode():
        requests = CollectorRegistry()
        MultiProcessCollector(requests)
    else:
        requests = REGISTRY
    gauges = CollectorRegistry()
    gauges.register(DatabaseGauges(engine.execution_options(**{db.READ_ONLY_OPTION: True}), now))
    return generate_latest(requests) + generate_latest(gauges)


class DatabaseGauges:
    """Gauges read from the database at scrape time (see the module docstring)."""

    def __init__(self, engine: Engine, now: datetime) -> None:
        self.engine, self.now = engine, now

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("kuulo_database_up", "1 when the database answered this scrape's queries")
        try:
            families = [*self.outbox(), *self.jobs(), *self.loans()]
        except Exception as exc:  # the database is away: say so; the request metrics are answered anyway
            current_app.logger.warning("metrics: the database could not be read: %s", exc.__class__.__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def outbox(self) -> list[Metric]:
        m = OutboxMessage
        rows = select(m.channel, m.status, m.attempts, func.count()) \
            .where(m.status.in_(("pending", "sending", "failed"))).group_by(m.channel, m.status, m.attempts)
        oldest = select(func.min(m.created_at)).where(m.status == "pending", m.channel.in_(SENT_CHANNELS))
        counts: dict[tuple[str, str], int] = {}
        with self.engine.connect() as conn:
            for channel, status, attempts, n in conn.execute(rows):
                st = "retry" if status == "pending" and attempts > 0 else status
                counts[(channel, st)] = counts.get((channel, st), 0) + n
            first = conn.execute(oldest).scalar()
        messages = GaugeMetricFamily("kuulo_outbox_messages", "Outbox messages not yet delivered, by channel and "
                                     "state (pending: never tried; retry: waiting to try again; sending; failed)",
                                     labels=["channel", "state"])
        for channel in ("email", "sms", "letter"):
            for st in ("pending", "retry", "sending", "failed"):
                messages.add_metric([channel, st], counts.get((channel, st), 0))
        age = GaugeMetricFamily("kuulo_outbox_oldest_pending_age_seconds",
                                "Age of the oldest email or SMS waiting to be sent (0 when none)")
        age.add_metric([], max(0.0, (self.now - first).total_seconds()) if first else 0.0)
        return [messages, age]

    def jobs(self) -> list[Metric]:
        last_ids = select(func.max(JobRun.id)).where(JobRun.status != "skipped").group_by(JobRun.name)
        last = select(JobRun.name, JobRun.status, JobRun.started_at, JobRun.finished_at) \
            .where(JobRun.id.in_(last_ids))
        recent = select(JobRun.name, JobRun.status, func.count()).where(JobRun.started_at >= self.now - RECENT) \
            .group_by(JobRun.name, JobRun.status)
        with self.engine.connect() as conn:
            last_rows, recent_rows = conn.execute(last).all(), conn.execute(recent).all()
        newest = scheduler_activity(self.engine)
        duration = GaugeMetricFamily("kuulo_job_last_duration_seconds", "Duration of each job's last run",
                                     labels=["job"])
        finished = GaugeMetricFamily("kuulo_job_last_finished_timestamp_seconds", "When each job's last run ended "
                                     "(Unix time)", labels=["job"])
        failed = GaugeMetricFamily("kuulo_job_last_failed", "1 when each job's last run failed", labels=["job"])
        for name, status, started, ended in last_rows:
            failed.add_metric([name], 1 if status == "error" else 0)
            if started and ended:
                duration.add_metric([name], max(0.0, (ended - started).total_seconds()))
                finished.add_metric([name], ended.timestamp())
        runs = GaugeMetricFamily("kuulo_job_runs_recent", "Job runs started in the last 24 hours, by job and "
                                 "status (ok, error, skipped)", labels=["job", "status"])
        for name, status, count in recent_rows:
            runs.add_metric([name, status], count)
        activity = GaugeMetricFamily("kuulo_scheduler_last_activity_timestamp_seconds",
                                     "The scheduler's newest run or heartbeat (Unix time; 0 when never)")
        activity.add_metric([], newest.timestamp() if newest else 0.0)
        return [duration, finished, failed, runs, activity]

    def loans(self) -> list[Metric]:
        """Active loans from the domains' tables, found by name (the platform imports no domain)."""
        from app.models import metadata

        active = GaugeMetricFamily("kuulo_loans_active", "Active loans: audiobook e-loans and circulation loans",
                                   labels=["kind"])
        ebook, circulation = metadata.tables.get("lending_loans"), metadata.tables.get("circ_loans")
        with self.engine.connect() as conn:
            if ebook is not None:
                count = select(func.count()).select_from(ebook).where(ebook.c.ended_at.is_(None),
                                                                      ebook.c.until > self.now)
                active.add_metric(["audiobook"], conn.execute(count).scalar_one())
            if circulation is not None:
                count = select(func.count()).select_from(circulation).where(circulation.c.status == "open")
                active.add_metric(["circulation"], conn.execute(count).scalar_one())
        return [active]
