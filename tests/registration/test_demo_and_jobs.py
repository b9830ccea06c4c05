"""Demo registrations load once; the purge job is on the one schedule."""
from __future__ import annotations

from sqlalchemy import func, select

from app import scheduler
from app.registration.models import Registration


def test_demo_registers_two_patrons_once(app, sm):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    assert runner.invoke(args=["demo"]).exit_code == 0
    with sm.begin() as s:
        assert s.scalar(select(func.count()).select_from(Registration)) == 2
        child = s.scalar(select(Registration).where(Registration.guardian_name != ""))
        assert child.masked_national_id == "070915A***6" and child.guardian_consent


def test_the_idempotency_key_purge_is_scheduled():
    job = scheduler.find("registration-purge-idempotency-keys")
    assert job.comment and job.trigger["trigger"] == "cron"
