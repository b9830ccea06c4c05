"""The scheduler: one list of jobs, leases so two schedulers never run a job at once, a run log."""
from __future__ import annotations

from datetime import timedelta

from app import scheduler


def test_every_job_has_a_comment_and_a_unique_name():
    names = [j.name for j in scheduler.JOBS]
    assert len(names) == len(set(names))
    assert all(j.comment for j in scheduler.JOBS)


def test_a_leased_job_is_not_run_by_a_second_scheduler(app, sm, now):
    assert scheduler.acquire(sm, "deliver-outbox", "host-a:1", now, timedelta(minutes=10))
    assert not scheduler.acquire(sm, "deliver-outbox", "host-b:2", now, timedelta(minutes=10))
    run = scheduler.run_job(app, "deliver-outbox", now)
    assert run.status == "skipped"
    # After the lease (a crashed holder) another scheduler may take it.
    assert scheduler.acquire(sm, "deliver-outbox", "host-b:2", now + timedelta(minutes=11), timedelta(minutes=10))


def test_release_lets_the_next_run_proceed(app, sm, now):
    assert scheduler.run_job(app, "purge-expired-credentials", now).status == "ok"
    assert scheduler.run_job(app, "purge-expired-credentials", now).status == "ok"


def test_run_once_cli(app):
    result = app.test_cli_runner().invoke(args=["jobs", "run-once", "purge-expired-credentials"])
    assert result.exit_code == 0 and "ok" in result.output
    result = app.test_cli_runner().invoke(args=["jobs", "run-once", "no-such-job"])
    assert result.exit_code != 0 and "no job" in result.output
