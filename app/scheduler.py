"""The one schedule of Kuulo, and the runner.

``flask --app app jobs run`` starts APScheduler in its own process (run exactly one per site, or
more: a database lease per job means two schedulers never run the same job at once).
``flask --app app jobs run-once NAME`` runs one job now; ``flask --app app jobs list`` shows them.
Every job gets ``now`` from the runner and is safe to run twice.
"""
from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app import clock, db
from app.scheduler_models import JobLock, JobRun


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[..., Any]
    trigger: dict[str, Any]  # APScheduler trigger: {"trigger": "interval", "minutes": 1} or cron fields
    comment: str
    # False: the runner opens one transaction and calls func(session, now).
    # True: func(app, sessionmaker, now) manages its own transactions (e.g. one per message).
    own_transactions: bool = False
    lease: timedelta = field(default=timedelta(minutes=30))


def _deliver_outbox(app: Flask, sm: sessionmaker[Session], now: datetime) -> Any:
    from app.notify.channels import channels_for
    from app.notify.jobs import deliver_outbox

    c = app.config
    return deliver_outbox(sm, now, channels_for(c), c["OUTBOX_MAX_ATTEMPTS"], c["OUTBOX_BACKOFF_SECONDS"])


def _purge_expired(session: Session, now: datetime) -> Any:
    from app.accounts.jobs import purge_expired

    return purge_expired(session, now)


JOBS: list[Job] = [
    # Sends pending emails and SMS from the outbox; retries with backoff while SMTP is down.
    Job("deliver-outbox", _deliver_outbox, {"trigger": "interval", "minutes": 1},
        "Send pending email and SMS from the outbox", own_transactions=True, lease=timedelta(minutes=10)),
    # Deletes used/expired one-time links and long-expired tokens and throttle rows.
    Job("purge-expired-credentials", _purge_expired, {"trigger": "cron", "hour": 3, "minute": 15},
        "Delete expired one-time links, tokens and login throttles"),
]


def _collect_domain_jobs() -> None:
    """Each domain's jobs.py lists its jobs in ``JOBS``; they join the one schedule here."""
    from app import domains

    for module in domains.submodules("jobs"):
        for job in getattr(module, "JOBS", []):
            if not any(j.name == job.name for j in JOBS):
                JOBS.append(job)


def find(name: str) -> Job:
    _collect_domain_jobs()
    for job in JOBS:
        if job.name == name:
            return job
    raise KeyError(name)


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire(sm: sessionmaker[Session], name: str, holder: str, now: datetime, lease: timedelta) -> bool:
    """Lease the job's lock row; an atomic conditional UPDATE decides between concurrent schedulers."""
    with sm.begin() as session:
        if session.get(JobLock, name) is None:
            try:
                with session.begin_nested():
                    session.execute(insert(JobLock).values(name=name, holder="", locked_until=None))
            except IntegrityError:
                pass
        free = (JobLock.locked_until.is_(None)) | (JobLock.locked_until < now)
        result = session.execute(update(JobLock).where(JobLock.name == name, free)
                                 .values(holder=holder, locked_until=now + lease))
        return result.rowcount == 1


def release(sm: sessionmaker[Session], name: str, holder: str) -> None:
    with sm.begin() as session:
        session.execute(update(JobLock).where(JobLock.name == name, JobLock.holder == holder)
                        .values(holder="", locked_until=None))


def run_job(app: Flask, name: str, now: datetime | None = None) -> JobRun:
    job = find(name)
    sm = db.get_sessionmaker(app)
    with app.app_context():
        now = now or clock.now()
        holder = holder_name()
        started = clock.now()
        if not acquire(sm, name, holder, started, job.lease):
            return _log_run(sm, name, holder, now, started, "skipped", "already running elsewhere")
        try:
            if job.own_transactions:
                result = job.func(app, sm, now)
            else:
                with sm.begin() as session:
                    result = job.func(session, now)
        except Exception as exc:
            _log_run(sm, name, holder, now, started, "error", f"{exc.__class__.__name__}: {exc}")
            raise
        finally:
            release(sm, name, holder)
        return _log_run(sm, name, holder, now, started, "ok", str(result if result is not None else ""))


def _log_run(sm: sessionmaker[Session], name: str, holder: str, now: datetime, started: datetime, status: str,
             summary: str) -> JobRun:
    with sm.begin() as session:
        run = JobRun(name=name, holder=holder, now=now, started_at=started, finished_at=clock.now(),
                     status=status, summary=summary[:1000])
        session.add(run)
    return run


def last_runs(session: Session) -> list[JobRun]:
    return list(session.scalars(select(JobRun).order_by(JobRun.id.desc()).limit(50)))


jobs_cli = AppGroup("jobs", help="Scheduled jobs.")


@jobs_cli.command("list")
def list_command() -> None:
    """List every scheduled job with its trigger."""
    _collect_domain_jobs()
    for job in JOBS:
        click.echo(f"{job.name:32} {job.trigger}  # {job.comment}")


@jobs_cli.command("run-once")
@click.argument("name")
@click.option("--now", "now_text", default="", help="ISO datetime to run as (default: the clock)")
def run_once_command(name: str, now_text: str) -> None:
    """Run job NAME once, now."""
    try:
        find(name)
    except KeyError:
        raise click.UsageError(f"no job {name!r}; see `flask --app app jobs list`") from None
    now = datetime.fromisoformat(now_text) if now_text else None
    run = run_job(current_app._get_current_object(), name, now)  # type: ignore[attr-defined]
    click.echo(f"{name}: {run.status} {run.summary}")


@jobs_cli.command("run")
def run_command() -> None:
    """Run the scheduler in this process until stopped (Ctrl+C)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    scheduler = BlockingScheduler(timezone=app.config["SCHEDULER_TIMEZONE"])
    _collect_domain_jobs()
    for job in JOBS:
        scheduler.add_job(run_job, args=[app, job.name], id=job.name, name=job.comment, coalesce=True,
                          max_instances=1, misfire_grace_time=300, **job.trigger)
    click.echo(f"scheduler started with {len(JOBS)} jobs; Ctrl+C stops it")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
