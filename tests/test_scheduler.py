"""The scheduler: one list of jobs, locks that a heartbeat keeps alive and a dead holder loses, a run log."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import scheduler
from app.scheduler import Job, Process
from app.scheduler_models import JobRun

STALE = timedelta(seconds=60)
SINCE = "2026-11-23T10:00:00+00:00"  # FIXED_NOW, as the messages show it

started, finish = threading.Event(), threading.Event()


def _wait_to_be_told(app, sm, now):
    started.set()
    return "told" if finish.wait(timeout=30) else "not told"


# Tests only: joins the schedule of this module's apps through JOB_MODULES.
JOBS = [Job("test-wait-to-be-told", _wait_to_be_told, {"trigger": "interval", "days": 1},
            "Tests only: wait until the test says so", own_transactions=True)]


@pytest.fixture()
def app_config(app_config):
    return {**app_config, "JOB_MODULES": [__name__], "JOB_HEARTBEAT_SECONDS": 0.01}


def here(pid: int) -> Process:
    """A process of this host (same boot and PID namespace as the tests)."""
    return Process("this-host", pid, scheduler.pid_scope())


def elsewhere(pid: int) -> Process:
    return Process("other-host", pid, "other-host|another-boot|pid:[1]")


def a_dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait(timeout=30)  # exited and reaped: its PID names no process
    return child.pid


def run_once(app, *args):
    return app.test_cli_runner().invoke(args=["jobs", "run-once", *args])


def test_every_job_has_a_comment_and_a_unique_name(app):
    names = [j.name for j in scheduler.jobs_of(app)]
    assert len(names) == len(set(names))
    assert all(j.comment for j in scheduler.jobs_of(app))


def test_test_jobs_are_not_on_the_production_schedule():
    assert "test-wait-to-be-told" not in [j.name for j in scheduler.jobs_of()]


def test_a_live_holder_on_this_host_is_respected_and_run_once_exits_75_naming_it(app, sm, now):
    parent = here(os.getppid())  # alive while the tests run
    assert scheduler.acquire(sm, "purge-expired-credentials", parent, now, STALE).acquired
    result = run_once(app, "purge-expired-credentials")
    assert result.exit_code == scheduler.EXIT_SKIPPED == 75
    assert f"skipped: held by {parent.label} (since {SINCE}" in result.stderr and "--force" in result.stderr
    with sm.begin() as s:
        assert s.scalars(select(JobRun.status)).all() == ["skipped"]


def test_a_holder_elsewhere_is_respected_until_its_heartbeat_is_a_minute_old(sm, now):
    assert scheduler.acquire(sm, "deliver-outbox", elsewhere(4242), now, STALE).acquired
    refused = scheduler.acquire(sm, "deliver-outbox", here(7), now + timedelta(seconds=59), STALE)
    assert (refused.acquired, refused.state, refused.holder) == (False, "alive", "other-host:4242")
    taken = scheduler.acquire(sm, "deliver-outbox", here(7), now + timedelta(seconds=61), STALE)
    assert (taken.acquired, taken.state) == (True, "stale")
    assert "its heartbeat stopped" in taken.describe()


def test_a_dead_holder_on_this_host_is_taken_over_at_once(app, sm, now):
    dead = here(a_dead_pid())
    assert scheduler.acquire(sm, "purge-expired-credentials", dead, now, STALE).acquired
    result = run_once(app, "purge-expired-credentials")  # same instant: its lease has not run out
    assert result.exit_code == 0 and "purge-expired-credentials: ok" in result.stdout
    assert f"took over the lock of {dead.label} (since {SINCE}" in result.stderr
    assert "that process is gone" in result.stderr


def test_a_lock_of_this_pid_that_no_run_here_holds_is_dead(sm, now):
    """After a restart the scheduler may get its predecessor's PID: the lock is not mistaken for its own."""
    assert scheduler.acquire(sm, "deliver-outbox", here(os.getpid()), now, STALE).acquired
    assert scheduler.acquire(sm, "deliver-outbox", here(os.getpid()), now, STALE).state == "dead"


def test_force_takes_a_live_holders_lock_and_says_so(app, sm, now):
    parent = here(os.getppid())
    held = scheduler.acquire(sm, "purge-expired-credentials", parent, now, STALE)
    result = run_once(app, "--force", "purge-expired-credentials")
    assert result.exit_code == 0 and "purge-expired-credentials: ok" in result.stdout
    assert f"--force: took the lock from {parent.label} (since {SINCE}" in result.stderr
    assert not scheduler.renew(sm, "purge-expired-credentials", held.token, now, STALE)  # its heartbeat learns
    assert "the lock was free" in run_once(app, "--force", "purge-expired-credentials").stderr


def test_the_heartbeat_keeps_a_long_job_from_being_taken_over(app, sm, now):
    started.clear()
    finish.clear()
    runs: list[JobRun] = []
    runner = threading.Thread(target=lambda: runs.append(scheduler.run_job(app, "test-wait-to-be-told")))
    runner.start()
    try:
        assert started.wait(timeout=30)
        heartbeat = scheduler.running("test-wait-to-be-told")
        app.config["FAKE_NOW"] = (now + timedelta(seconds=50)).isoformat()  # the job has run 50 s
        beats = heartbeat.beats
        assert heartbeat.wait_for_beats(beats + 2, timeout=30)  # the second one read the new time
        # The first lease ran out at +60 s; the renewed one holds to +110 s.
        late = scheduler.acquire(sm, "test-wait-to-be-told", elsewhere(1), now + timedelta(seconds=100), STALE)
        assert (late.acquired, late.state) == (False, "alive")
    finally:
        finish.set()
        runner.join(timeout=30)
    assert runs[0].status == "ok" and runs[0].summary == "told"
    assert not heartbeat.alive() and scheduler.running("test-wait-to-be-told") is None
    after = scheduler.acquire(sm, "test-wait-to-be-told", elsewhere(1), now + timedelta(seconds=100), STALE)
    assert (after.acquired, after.state) == (True, "free")  # released at the end


def test_a_heartbeat_slower_than_half_the_staleness_is_refused(app):
    app.config.update(JOB_HEARTBEAT_SECONDS=40, JOB_STALE_SECONDS=60)
    with pytest.raises(ValueError, match="at least twice"):
        scheduler.run_job(app, "purge-expired-credentials")


def test_release_lets_the_next_run_proceed(app, now):
    assert scheduler.run_job(app, "purge-expired-credentials", now).status == "ok"
    assert scheduler.run_job(app, "purge-expired-credentials", now).status == "ok"


def test_run_once_cli(app):
    result = run_once(app, "purge-expired-credentials")
    assert result.exit_code == 0 and "ok" in result.output
    result = run_once(app, "no-such-job")
    assert result.exit_code != 0 and "no job" in result.output
