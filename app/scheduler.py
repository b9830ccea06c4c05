"""The one schedule of Kuulo, the runner, and the job locks that keep two runs of a job apart.

``flask --app app jobs run`` starts APScheduler in its own process (run one per site, or more: a lock
per job in the database means two schedulers never run the same job at once).
``flask --app app jobs run-once [--force] NAME`` runs one job now; ``flask --app app jobs list`` shows them.
Every job gets ``now`` from the runner and is safe to run twice.

A lock is a short lease that a heartbeat thread renews while the job runs. A lock whose holder is dead
— a process of this host (same boot and PID namespace) that is gone, or a heartbeat older than
``JOB_STALE_SECONDS`` — is taken over at once; a live holder is respected.
"""
from __future__ import annotations

import contextvars
import importlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app, has_app_context
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app import clock, db
from app.scheduler_models import JobLock, JobRun

log = logging.getLogger(__name__)

EXIT_SKIPPED = 75  # sysexits' EX_TEMPFAIL: a live process holds the job; try again later


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[..., Any]
    trigger: dict[str, Any]  # APScheduler trigger: {"trigger": "interval", "minutes": 1} or cron fields
    comment: str
    # False: the runner opens one transaction and calls func(session, now).
    # True: func(app, sessionmaker, now) manages its own transactions (e.g. one per message).
    own_transactions: bool = False
    # Unused: a lock now lives as long as its heartbeat (JOB_STALE_SECONDS). Kept so that the domains'
    # job lists need not change at once.
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
        "Send pending email and SMS from the outbox", own_transactions=True),
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


def jobs_of(app: Flask | None = None) -> list[Job]:
    """The schedule: ``JOBS``, every domain's jobs, and the jobs of the app's ``JOB_MODULES``."""
    _collect_domain_jobs()
    extra = [job for module in (app.config.get("JOB_MODULES") or [] if app else [])
             for job in importlib.import_module(module).JOBS]
    return JOBS + [job for job in extra if not any(j.name == job.name for j in JOBS)]


def find(name: str, app: Flask | None = None) -> Job:
    if app is None and has_app_context():
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    for job in jobs_of(app):
        if job.name == name:
            return job
    raise KeyError(name)


@dataclass(frozen=True)
class Process:
    """A lock's holder: host name and PID, and the scope in which that PID names this process."""

    host: str
    pid: int
    scope: str

    @property
    def label(self) -> str:
        return f"{self.host}:{self.pid}"


def this_process() -> Process:
    return Process(socket.gethostname(), os.getpid(), pid_scope())


def pid_scope() -> str:
    """Host name, boot id and PID namespace: a PID means one process only within one of these (a container
    has its own namespace, a reboot starts over), so only there may a holder's PID be looked up."""
    parts = [socket.gethostname()]
    for read in (lambda: Path("/proc/sys/kernel/random/boot_id").read_text().strip(),
                 lambda: os.readlink("/proc/self/ns/pid")):
        try:
            parts.append(read())
        except OSError:
            parts.append("")
    return "|".join(parts)[:200]


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (a zombie — killed, not yet reaped — does not count)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


_running: dict[str, Heartbeat] = {}  # the runs in progress in this process, by token

# Where a long job's progress lines go while it runs (``progress``): set by ``run_job``.
_progress: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar("kuulo_job_progress",
                                                                                          default=None)


def progress(text: str) -> None:
    """A long job says how far it got (``jobs run-once`` prints it; otherwise it is logged). Cheap: call it
    every batch, not every row. Never put personal data in ``text``."""
    report = _progress.get()
    if report is not None:
        report(text)
    else:
        log.info("%s", text)


def running(name: str) -> Heartbeat | None:
    """The heartbeat of this process's run of job ``name``, while it runs."""
    return next((beat for beat in list(_running.values()) if beat.name == name), None)


def _holder_alive(lock: JobLock) -> bool:
    if lock.pid == os.getpid():  # our own PID: a run of ours, or a dead predecessor whose PID we reuse
        return lock.token in _running
    return pid_alive(lock.pid or 0)


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else "?"


@dataclass(frozen=True)
class Claim:
    """The outcome of trying to take a job's lock, with the lock's previous (or current) holder."""

    acquired: bool
    token: str  # the new run's, when acquired
    state: str  # what the lock was: free | stale | dead | alive (not taken) | forced
    holder: str = ""
    since: datetime | None = None
    heartbeat_at: datetime | None = None

    def describe(self) -> str:
        held = f"{self.holder} (since {_when(self.since)}, last heartbeat {_when(self.heartbeat_at)})"
        if self.state == "alive":
            return (f"held by {held}, which is alive; wait for it to finish, or take the lock with "
                    "`flask --app app jobs run-once --force`")
        if self.state == "forced":
            return f"--force: took the lock from {held}" if self.holder else "--force: the lock was free"
        if self.state == "dead":
            return f"took over the lock of {held}: that process is gone"
        if self.state == "stale":
            return f"took over the lock of {held}: its heartbeat stopped"
        return "the lock was free"


def _state(lock: JobLock, me: Process, now: datetime, force: bool) -> str:
    if force:
        return "forced"
    if lock.locked_until is None:
        return "free"
    if lock.locked_until < now:
        return "stale"
    if lock.pid and lock.pid_scope == me.scope and not _holder_alive(lock):
        return "dead"
    return "alive"


def _claim_of(lock: JobLock, acquired: bool, token: str, state: str) -> Claim:
    return Claim(acquired, token, state, lock.holder, lock.acquired_at, lock.heartbeat_at)


def acquire(sm: sessionmaker[Session], name: str, me: Process, now: datetime, stale: timedelta, *,
            force: bool = False) -> Claim:
    """Take job ``name``'s lock for ``me`` when it is free, its holder is dead, or ``force``. The UPDATE
    compares the token seen, so of two schedulers that try at once one wins, the other is told who holds it."""
    token = uuid.uuid4().hex
    with sm.begin() as session:
        if session.get(JobLock, name) is None:
            try:
                with session.begin_nested():
                    session.execute(insert(JobLock).values(name=name, holder="", locked_until=None))
            except IntegrityError:
                pass
        read = select(JobLock).where(JobLock.name == name).execution_options(populate_existing=True)
        lock = session.scalars(read).one()
        state = _state(lock, me, now, force)
        if state == "alive":
            return _claim_of(lock, False, "", state)
        claim = _claim_of(lock, True, token, state)
        same = [JobLock.name == name]
        if not force:
            same.append(JobLock.token.is_(None) if lock.token is None else JobLock.token == lock.token)
            if state in ("free", "stale"):  # and no heartbeat came in between
                same.append(JobLock.locked_until.is_(None) | (JobLock.locked_until < now))
        taken = session.execute(update(JobLock).where(*same).values(
            holder=me.label, pid=me.pid, pid_scope=me.scope, token=token, acquired_at=now, heartbeat_at=now,
            locked_until=now + stale))
        if taken.rowcount == 1:
            return claim
        return _claim_of(session.scalars(read).one(), False, "", "alive")


def renew(sm: sessionmaker[Session], name: str, token: str, now: datetime, stale: timedelta) -> bool:
    """One heartbeat: extend the lock of run ``token``. False when the lock is no longer the run's."""
    with sm.begin() as session:
        result = session.execute(update(JobLock).where(JobLock.name == name, JobLock.token == token)
                                 .values(heartbeat_at=now, locked_until=now + stale))
        return result.rowcount == 1


def release(sm: sessionmaker[Session], name: str, token: str) -> None:
    with sm.begin() as session:
        session.execute(update(JobLock).where(JobLock.name == name, JobLock.token == token).values(
            holder="", locked_until=None, token=None, pid=None, pid_scope=None, acquired_at=None,
            heartbeat_at=None))


class Heartbeat:
    """Renews a run's lock every ``interval`` seconds from a daemon thread (each beat a transaction on a
    connection of its own), from ``start()`` until ``stop()``; it stops by itself when the lock was taken."""

    def __init__(self, sm: sessionmaker[Session], name: str, token: str, interval: float, stale: timedelta,
                 wall_clock: Callable[[], datetime]) -> None:
        self.sm, self.name, self.token, self.interval, self.stale = sm, name, token, interval, stale
        self.wall_clock = wall_clock
        self.beats = 0  # heartbeats written
        self.lost = False  # the lock was taken from this run (--force)
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"kuulo-heartbeat:{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        # A beat stuck in the database does no harm after release: it names a token that no longer holds.
        self._thread.join(timeout=self.interval + 5)

    def alive(self) -> bool:
        return self._thread.is_alive()

    def wait_for_beats(self, count: int, timeout: float) -> bool:
        """Until ``count`` heartbeats were written (or the lock was lost); False after ``timeout`` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: self.beats >= count or self.lost, timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                ours = renew(self.sm, self.name, self.token, self.wall_clock(), self.stale)
            except Exception:  # the database away for a moment: the next beat tries again
                log.exception("heartbeat of job %s failed", self.name)
                continue
            with self._changed:
                self.beats += 1 if ours else 0
                self.lost = not ours
                self._changed.notify_all()
            if not ours:
                log.error("job %s lost its lock to another run (--force); this run goes on to its end", self.name)
                return


def lock_settings(config: Any) -> tuple[float, timedelta]:
    """(heartbeat interval in seconds, staleness) from JOB_HEARTBEAT_SECONDS and JOB_STALE_SECONDS."""
    interval, stale = float(config["JOB_HEARTBEAT_SECONDS"]), float(config["JOB_STALE_SECONDS"])
    if not 0 < 2 * interval <= stale:
        raise ValueError("KUULO_JOB_STALE_SECONDS must be at least twice KUULO_JOB_HEARTBEAT_SECONDS (> 0), "
                         "or a live job would look dead between two heartbeats")
    return interval, timedelta(seconds=stale)


def _wall_clock(app: Flask) -> datetime:
    with app.app_context():
        return clock.now()


def run_job(app: Flask, name: str, now: datetime | None = None, *, force: bool = False,
            report: Callable[[str], None] | None = None,
            on_progress: Callable[[str], None] | None = None) -> JobRun:
    """Run job ``name`` under its lock, with a heartbeat; a skipped run's summary says who holds the lock.
    ``report`` hears of a lock taken over (default: the log); ``on_progress`` the job's ``progress`` lines
    (default: the log)."""
    job = find(name, app)
    sm = db.get_sessionmaker(app)
    interval, stale = lock_settings(app.config)
    with app.app_context():
        now = now or clock.now()
        me = this_process()
        started = clock.now()
        claim = acquire(sm, name, me, started, stale, force=force)
        if not claim.acquired:
            return _log_run(sm, name, me.label, now, started, "skipped", claim.describe())
        if claim.state != "free":
            (report or log.warning)(f"{name}: {claim.describe()}")
        heartbeat = _running[claim.token] = Heartbeat(sm, name, claim.token, interval, stale,
                                                      lambda: _wall_clock(app))
        heartbeat.start()
        progress_token = _progress.set(on_progress)
        try:
            if job.own_transactions:
                result = job.func(app, sm, now)
            else:
                with sm.begin() as session:
                    result = job.func(session, now)
        except Exception as exc:
            _log_run(sm, name, me.label, now, started, "error", f"{exc.__class__.__name__}: {exc}")
            raise
        finally:
            _progress.reset(progress_token)
            heartbeat.stop()
            _running.pop(claim.token, None)
            release(sm, name, claim.token)
        return _log_run(sm, name, me.label, now, started, "ok", str(result if result is not None else ""))


def _log_run(sm: sessionmaker[Session], name: str, holder: str, now: datetime, started: datetime, status: str,
             summary: str) -> JobRun:
    with sm.begin() as session:
        run = JobRun(name=name, holder=holder, now=now, started_at=started, finished_at=clock.now(),
                     status=status, summary=summary[:1000])
        session.add(run)
    return run


def last_runs(session: Session) -> list[JobRun]:
    return list(session.scalars(select(JobRun).order_by(JobRun.id.desc()).limit(50)))


_WEEKDAYS = {"mon": _l("Monday"), "tue": _l("Tuesday"), "wed": _l("Wednesday"), "thu": _l("Thursday"),
             "fri": _l("Friday"), "sat": _l("Saturday"), "sun": _l("Sunday")}


def describe_trigger(trigger: dict[str, Any]) -> str:
    """A job's schedule in words, in the current language ("Every 1 minutes", "Every day at 02:30")."""
    fields = {k: v for k, v in trigger.items() if k != "trigger"}
    if trigger.get("trigger") == "interval":
        for unit, text in (("seconds", _("Every %(n)s seconds")), ("minutes", _("Every %(n)s minutes")),
                           ("hours", _("Every %(n)s hours")), ("days", _("Every %(n)s days"))):
            if unit in fields:
                return text % {"n": fields[unit]}
    if trigger.get("trigger") == "cron" and set(fields) <= {"hour", "minute", "day_of_week"}:
        hour, minute = fields.get("hour", "*"), fields.get("minute", 0)
        if str(hour).isdigit() and str(minute).isdigit():
            at = f"{int(hour):02d}:{int(minute):02d}"
            day = fields.get("day_of_week")
            if day is None:
                return _("Every day at %(time)s", time=at)
            if str(day) in _WEEKDAYS:
                return _("Every %(day)s at %(time)s", day=str(_WEEKDAYS[str(day)]), time=at)
        if hour == "*" and str(minute).isdigit() and "day_of_week" not in fields:
            return _("Every hour at minute %(minute)s", minute=minute)
    described = ", ".join(f"{k}={v}" for k, v in fields.items())
    return f"{trigger.get('trigger', '?')}: {described}"


@dataclass
class JobStatus:
    """One job on the jobs page: its schedule, its last runs (newest first) and its lock."""

    job: Job
    schedule: str
    runs: list[JobRun]
    lock: JobLock | None
    running: bool  # the lock is held and its heartbeat is fresh

    @property
    def duration_seconds(self) -> float | None:
        run = self.runs[0] if self.runs else None
        if run is None or run.finished_at is None:
            return None
        return (run.finished_at - run.started_at).total_seconds()


def job_statuses(session: Session, app: Flask, now: datetime, runs_per_job: int = 5) -> list[JobStatus]:
    """Every job of the schedule with its last ``runs_per_job`` runs and whether a run holds its lock now."""
    jobs = jobs_of(app)
    locks = {lock.name: lock for lock in session.scalars(select(JobLock))}
    ranked = (select(JobRun.id, func.row_number().over(partition_by=JobRun.name, order_by=JobRun.id.desc())
                     .label("n")).where(JobRun.name.in_([j.name for j in jobs])).subquery())
    recent = session.scalars(select(JobRun).join(ranked, ranked.c.id == JobRun.id)
                             .where(ranked.c.n <= runs_per_job).order_by(JobRun.id.desc()))
    by_job: dict[str, list[JobRun]] = {}
    for run in recent:
        by_job.setdefault(run.name, []).append(run)
    out = []
    for job in jobs:
        lock = locks.get(job.name)
        held = lock is not None and lock.locked_until is not None and lock.locked_until >= now
        out.append(JobStatus(job, describe_trigger(job.trigger), by_job.get(job.name, []), lock, held))
    return out


def duration_of(run: JobRun) -> float | None:
    return None if run.finished_at is None else (run.finished_at - run.started_at).total_seconds()


jobs_cli = AppGroup("jobs", help="Scheduled jobs.")


@jobs_cli.command("list")
def list_command() -> None:
    """List every scheduled job with its trigger."""
    for job in jobs_of(current_app._get_current_object()):  # type: ignore[attr-defined]
        click.echo(f"{job.name:32} {job.trigger}  # {job.comment}")


@jobs_cli.command("run-once")
@click.argument("name")
@click.option("--now", "now_text", default="", help="ISO datetime to run as (default: the clock)")
@click.option("--force", is_flag=True,
              help="Take the job's lock whatever its state. Its holder may still be running: check it first.")
def run_once_command(name: str, now_text: str, force: bool) -> None:
    """Run job NAME once, now.

    Exit status: 0 done; 75 skipped, because a live process holds the job's lock (named on stderr);
    1 the job failed.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        find(name, app)
    except KeyError:
        raise click.UsageError(f"no job {name!r}; see `flask --app app jobs list`") from None
    now = datetime.fromisoformat(now_text) if now_text else None
    run = run_job(app, name, now, force=force, report=lambda text: click.echo(text, err=True),
                  on_progress=lambda text: click.echo(f"{name}: {text}", err=True))
    if run.status == "skipped":
        click.echo(f"{name}: skipped: {run.summary}", err=True)
        raise click.exceptions.Exit(EXIT_SKIPPED)
    click.echo(f"{name}: {run.status} {run.summary}")


def _add_jobs(scheduler: Any, app: Flask) -> int:
    jobs = jobs_of(app)
    for job in jobs:
        scheduler.add_job(run_job, args=[app, job.name], id=job.name, name=job.comment, coalesce=True,
                          max_instances=1, misfire_grace_time=300, **job.trigger)
    return len(jobs)


def in_process_wanted(config: Any, command: str | None, reloader_parent: bool) -> bool:
    """Whether this process runs the scheduler in a thread: SCHEDULER_IN_PROCESS when set; else only the
    development server (``flask run``, in the process that serves, not the reloader's watcher), never in
    production or under TESTING."""
    from app.config import is_production

    setting = config.get("SCHEDULER_IN_PROCESS")
    if setting is not None:
        return bool(setting) and not reloader_parent
    return (command == "run" and not reloader_parent and not is_production(config)
            and not config.get("TESTING"))


_in_process: dict[int, Any] = {}  # the background scheduler of each app started here, by id(app)


def start_in_process(app: Flask) -> Any:
    """Start the schedule in a daemon thread of this (web) process when ``in_process_wanted``: the same jobs
    and the same database locks as ``jobs run``, so a separate scheduler service may run besides it."""
    from flask.cli import run_command
    from flask.helpers import get_debug_flag
    from werkzeug.serving import is_running_from_reloader

    ctx = click.get_current_context(silent=True)
    command = "run" if ctx is not None and ctx.command is run_command else None  # not `jobs run`
    reload = ctx.params.get("reload") if ctx is not None and command == "run" else None
    reloader_parent = bool(command == "run" and (get_debug_flag() if reload is None else reload)
                           and not is_running_from_reloader())
    if id(app) in _in_process or not in_process_wanted(app.config, command, reloader_parent):
        return None
    from apscheduler.schedulers.background import BackgroundScheduler

    lock_settings(app.config)
    scheduler = BackgroundScheduler(timezone=app.config["SCHEDULER_TIMEZONE"], daemon=True)
    count = _add_jobs(scheduler, app)
    scheduler.start()
    _in_process[id(app)] = scheduler
    click.echo(f" * Scheduler runs in this process ({count} jobs; KUULO_SCHEDULER_IN_PROCESS=false turns it off)")
    return scheduler


@jobs_cli.command("run")
def run_command() -> None:
    """Run the scheduler in this process until stopped (Ctrl+C)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    lock_settings(app.config)  # refuse bad settings at start, not at the first run
    scheduler = BlockingScheduler(timezone=app.config["SCHEDULER_TIMEZONE"])
    count = _add_jobs(scheduler, app)
    click.echo(f"scheduler started with {count} jobs; Ctrl+C stops it")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
