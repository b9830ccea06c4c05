"""A job killed with SIGKILL: `flask jobs run-once` in real processes; the rerun takes over its lock at once."""
from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from app.config import PROJECT_ROOT
from app.scheduler import EXIT_SKIPPED, Job
from app.scheduler_models import JobRun
from tests.conftest import FIXED_NOW

NAME = "test-wait-for-stdin"


def _wait_for_stdin(app: Any, sm: Any, now: datetime) -> str:
    print("waiting", flush=True)  # the lock is held: the test may kill us now
    return f"read {sys.stdin.readline().strip()!r}"  # a closed pipe (the test gone) ends it too


# Tests only: joins the schedule through KUULO_JOB_MODULES / JOB_MODULES, never the production one.
JOBS = [Job(NAME, _wait_for_stdin, {"trigger": "interval", "days": 1},
            "Tests only: wait for a line on stdin", own_transactions=True)]


@pytest.fixture()
def app_config(app_config):
    return {**app_config, "JOB_MODULES": [__name__]}


class RunOnce:
    """`flask --app app jobs run-once NAME` in its own process, on the tests' database and fixed clock."""

    def __init__(self, database_url: str, media_root: str) -> None:
        env = {**os.environ, "KUULO_DATABASE_URL": database_url, "KUULO_FAKE_NOW": FIXED_NOW.isoformat(),
               "KUULO_JOB_MODULES": json.dumps([__name__]), "KUULO_MEDIA_ROOT": media_root}
        self.process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "jobs", "run-once", NAME],
                                        cwd=PROJECT_ROOT, env=env, text=True, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(self.process.stdout, self.lines.put)),
                         threading.Thread(target=self._read, args=(self.process.stderr, self.stderr.append))]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: Any, keep: Any) -> None:
        for line in stream:
            keep(line)
        keep("")  # end of output: the process exited

    def wait_for_line(self, timeout: float = 60) -> str:
        """The next line of stdout; "" when the process ended (or after ``timeout``), see ``errors``."""
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return ""

    @property
    def errors(self) -> str:
        """Its stderr so far (all of it once it exited): why there was no line."""
        if self.process.poll() is not None:
            self._readers[1].join(timeout=10)
        return "".join(self.stderr)

    def finish(self, stdin_line: str, timeout: float = 60) -> tuple[int, str, str]:
        self.process.stdin.write(stdin_line + "\n")
        self.process.stdin.close()
        return self.wait(timeout)

    def wait(self, timeout: float = 60) -> tuple[int, str, str]:
        code = self.process.wait(timeout=timeout)  # reaps it, as the operator's shell does
        for reader in self._readers:
            reader.join(timeout=timeout)
        return code, "".join(self.lines.queue), self.errors

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.wait()


def test_a_job_killed_with_sigkill_runs_again_at_once(app, sm, database_url, tmp_path):
    media = str(tmp_path / "media")
    first = RunOnce(database_url, media)
    second = None
    try:
        assert first.wait_for_line() == "waiting\n", first.errors
        # While it lives, its lock is respected: run-once skips, exits 75 and names it.
        skipped = app.test_cli_runner().invoke(args=["jobs", "run-once", NAME])
        assert skipped.exit_code == EXIT_SKIPPED
        holder = f"{socket.gethostname()}:{first.process.pid} (since {FIXED_NOW.isoformat()}"
        assert f"skipped: held by {holder}" in skipped.stderr

        os.kill(first.process.pid, signal.SIGKILL)
        # Dead but not reaped yet (a zombie, as under a busy supervisor): it counts as gone.
        os.waitid(os.P_PID, first.process.pid, os.WEXITED | os.WNOWAIT)
        # At the same instant (the clock is fixed, so its lease has not run out) the rerun runs.
        second = RunOnce(database_url, media)
        assert second.wait_for_line() == "waiting\n", second.errors
        code, out, err = second.finish("done")
        assert code == 0, err
        assert f"{NAME}: ok read 'done'" in out
        assert f"took over the lock of {holder}" in err and "that process is gone" in err
        assert first.wait()[0] == -signal.SIGKILL
    finally:
        first.stop()
        if second is not None:
            second.stop()
    with sm.begin() as s:
        assert s.scalars(select(JobRun.status).where(JobRun.name == NAME).order_by(JobRun.id)).all() == [
            "skipped", "ok"]
