"""KUULO_SCHEDULER_IN_PROCESS: the development server runs the schedule in a thread; production and tests not."""
from __future__ import annotations

import pytest

from app import scheduler


@pytest.mark.parametrize(("config", "command", "reloader_parent", "wanted"), [
    ({"ENV_NAME": "development"}, "run", False, True),  # `flask run` in development
    ({"ENV_NAME": "development"}, "run", True, False),  # the reloader's watcher process: not twice
    ({"ENV_NAME": "development"}, None, False, False),  # gunicorn, other commands
    ({"ENV_NAME": "production"}, "run", False, False),
    ({"ENV_NAME": "development", "TESTING": True}, "run", False, False),
    ({"ENV_NAME": "development", "SCHEDULER_IN_PROCESS": False}, "run", False, False),
    ({"ENV_NAME": "production", "SCHEDULER_IN_PROCESS": True}, None, False, True),  # asked for explicitly
])
def test_when_the_scheduler_runs_in_the_web_process(config, command, reloader_parent, wanted):
    assert scheduler.in_process_wanted(config, command, reloader_parent) is wanted


def test_started_in_process_it_schedules_every_job_with_the_shared_locks(app):
    app.config["SCHEDULER_IN_PROCESS"] = True
    background = scheduler.start_in_process(app)
    try:
        assert background is not None and background.running
        assert {job.id for job in background.get_jobs()} == {job.name for job in scheduler.jobs_of(app)}
        assert all(job.func is scheduler.run_job for job in background.get_jobs())
        assert scheduler.start_in_process(app) is None  # once per app
    finally:
        background.shutdown(wait=False)
        scheduler._in_process.pop(id(app), None)
