"""Liveness (``/healthz``: the process answers and reaches its database) and readiness (``/readyz``: every
check the site needs, each with its state and time), both open during maintenance breaks.

``/readyz`` answers 200 when every check named in READY_REQUIRED passes, 503 otherwise, always with a JSON
object ``{"status": "ok"|"fail", "checks": {name: {"state", "ok", "required", "ms", …}}}``. States: ``ok``;
``fail`` (with ``error``: an exception's class, never its text); ``stale`` (scheduler); ``unknown`` (no
scheduler has ever run: passes in development, fails in production); ``skipped`` (needs the database).
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import Engine, and_, case, func, select, text

from app import clock, db, gate, storage
from app.config import is_production
from app.notify.jobs import SENT_CHANNELS
from app.notify.models import OutboxMessage
from app.scheduler_models import JobLock, JobRun

bp = Blueprint("health", __name__)
CHECKS = ("database", "media", "outbox", "scheduler")
PROBE_TIMEOUT_SECONDS = 2  # S3: connect and read, one attempt — a probe must answer quickly


@bp.get("/healthz")
@gate.always_open
def healthz() -> Any:
    try:
        with db.engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database means "not healthy"
        current_app.logger.warning("health check: database unreachable: %s", exc.__class__.__name__)
        return jsonify({"status": "error", "database": "unreachable"}), 503
    return jsonify({"status": "ok", "database": "ok"})


@bp.get("/readyz")
@gate.always_open
def readyz() -> Any:
    report = readiness(current_app._get_current_object(), clock.now())  # type: ignore[attr-defined]
    resp = jsonify(report)
    resp.status_code = 200 if report["status"] == "ok" else 503
    resp.headers["Cache-Control"] = "no-store"
    return resp


def readiness(app: Flask, now: datetime) -> dict[str, Any]:
    """Run every check (the database ones only when the database answered) and say which required ones failed."""
    c = app.config
    engine = db.engine(app).execution_options(**{db.READ_ONLY_OPTION: True})  # SQLite: no write lock
    checks: dict[str, dict[str, Any]] = {"database": timed(lambda: check_database(engine))}
    checks["media"] = timed(lambda: check_media(app))
    reachable = checks["database"]["ok"]
    checks["outbox"] = timed(lambda: check_outbox(engine, now, int(c["READY_OUTBOX_MAX_PENDING"]),
                                                  float(c["READY_OUTBOX_MAX_AGE_SECONDS"]))) \
        if reachable else skipped()
    checks["scheduler"] = timed(lambda: check_scheduler(engine, now, float(c["READY_SCHEDULER_MAX_AGE_SECONDS"]),
                                                        production=is_production(c))) if reachable else skipped()
    required = set(c["READY_REQUIRED"])
    for name, check in checks.items():
        check["required"] = name in required
    ok = all(check["ok"] for check in checks.values() if check["required"])
    return {"status": "ok" if ok else "fail", "time": now.isoformat(), "checks": checks}


def timed(check: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = check()
    except Exception as exc:  # the check's answer is "fail", whatever went wrong; the class says what
        result = {"state": "fail", "ok": False, "error": exc.__class__.__name__}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def skipped() -> dict[str, Any]:
    return {"state": "skipped", "ok": False, "error": "database unreachable", "ms": 0.0}


def _state(ok: bool, **details: Any) -> dict[str, Any]:
    return {"state": "ok" if ok else "fail", "ok": ok, **details}


def check_database(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return _state(True)


def check_media(app: Flask) -> dict[str, Any]:
    """The local directory exists and is writable, or the S3 bucket answers HEAD."""
    store = storage.store(app)
    if isinstance(store, storage.LocalStore):
        if not store.root.is_dir():
            return _state(False, backend="local", error="directory missing")
        if not os.access(store.root, os.W_OK | os.X_OK):
            return _state(False, backend="local", error="directory not writable")
        return _state(True, backend="local")
    if isinstance(store, storage.S3Store):
        _probe_client(app).head_bucket(Bucket=store.bucket)
        return _state(True, backend="s3")
    store.size("readyz-probe")  # any other store: a cheap read that must not raise
    return _state(True, backend=type(store).__name__)


def _probe_client(app: Flask) -> Any:
    """An S3 client with short timeouts and no retries (the store's own may wait a minute)."""
    client = app.extensions.get("kuulo.readyz_s3")
    if client is None:
        import boto3
        from botocore.config import Config

        c = app.config
        client = app.extensions["kuulo.readyz_s3"] = boto3.client(
            "s3", endpoint_url=c.get("S3_ENDPOINT_URL") or None, region_name=c.get("S3_REGION"),
            aws_access_key_id=c.get("S3_ACCESS_KEY_ID") or None,
            aws_secret_access_key=c.get("S3_SECRET_ACCESS_KEY") or None,
            config=Config(connect_timeout=PROBE_TIMEOUT_SECONDS, read_timeout=PROBE_TIMEOUT_SECONDS,
                          retries={"max_attempts": 1, "mode": "standard"}))
    return client


def outbox_backlog(engine: Engine, now: datetime) -> dict[str, Any]:
    """Email and SMS waiting: never tried (``pending``), tried and waiting to retry (``retry``), held by a
    sender (``sending``), and the age in seconds of the oldest pending or retrying one (None when none)."""
    m = OutboxMessage
    waiting = and_(m.status == "pending", m.channel.in_(SENT_CHANNELS))
    counts = select(func.sum(case((and_(waiting, m.attempts == 0), 1), else_=0)),
                    func.sum(case((and_(waiting, m.attempts > 0), 1), else_=0)),
                    func.sum(case((m.status == "sending", 1), else_=0))) \
        .where(m.status.in_(("pending", "sending")))
    with engine.connect() as conn:
        pending, retry, sending = conn.execute(counts).one()
        oldest = conn.execute(select(func.min(m.created_at)).where(waiting)).scalar()
    age = round((now - oldest).total_seconds(), 1) if oldest is not None else None
    return {"pending": int(pending or 0), "retry": int(retry or 0), "sending": int(sending or 0),
            "oldest_pending_age_seconds": age}


def check_outbox(engine: Engine, now: datetime, max_pending: int, max_age_seconds: float) -> dict[str, Any]:
    backlog = outbox_backlog(engine, now)
    age = backlog["oldest_pending_age_seconds"]
    ok = backlog["pending"] + backlog["retry"] <= max_pending and (age is None or age <= max_age_seconds)
    return _state(ok, **backlog, max_pending=max_pending, max_age_seconds=max_age_seconds)


def scheduler_activity(engine: Engine) -> datetime | None:
    """The newest sign of a scheduler: a run's start or end (job_runs), or a running job's heartbeat
    (job_locks); None when no job has ever run."""
    with engine.connect() as conn:
        runs = conn.execute(select(func.max(JobRun.finished_at), func.max(JobRun.started_at))).one()
        beat = conn.execute(select(func.max(JobLock.heartbeat_at))
                            .where(JobLock.locked_until.is_not(None))).scalar()
    times = [t for t in (*runs, beat) if t is not None]
    return max(times) if times else None


def check_scheduler(engine: Engine, now: datetime, max_age_seconds: float, *, production: bool) -> dict[str, Any]:
    newest = scheduler_activity(engine)
    if newest is None:
        return {"state": "unknown", "ok": not production, "error": "no scheduler has ever run a job",
                "max_age_seconds": max_age_seconds}
    age = round((now - newest).total_seconds(), 1)
    ok = age <= max_age_seconds
    return {"state": "ok" if ok else "stale", "ok": ok, "last_activity": newest.isoformat(), "age_seconds": age,
            "max_age_seconds": max_age_seconds}
