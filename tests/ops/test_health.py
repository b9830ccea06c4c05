"""/healthz (liveness) and /readyz (every check with its state and time; 200 only when the required ones pass),
both open during a maintenance break."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from app import create_app, gate
from app.scheduler_models import JobLock
from tests.conftest import s3_settings
from tests.ops.conftest import add_message, add_run

PRODUCTION = {"ENV_NAME": "production", "SECRET_KEY": "s" * 40, "IDENTITY_HASH_KEY": "i" * 40,
              "PAYTRAIL_SECRET": "p" * 40}


def ready(client: Any) -> tuple[int, dict[str, Any]]:
    resp = client.get("/readyz")
    assert resp.mimetype == "application/json"
    return resp.status_code, resp.json


def test_liveness_answers_ok_with_the_request_id(client):
    resp = client.get("/healthz", headers={"X-Request-ID": "acceptance-1234"})
    assert resp.status_code == 200 and resp.json == {"status": "ok", "database": "ok"}
    assert resp.headers["X-Request-ID"] == "acceptance-1234"


def test_a_healthy_development_site_is_ready_and_says_what_it_checked(client):
    status, body = ready(client)
    assert status == 200 and body["status"] == "ok"
    assert set(body["checks"]) == {"database", "media", "outbox", "scheduler"}
    for check in body["checks"].values():
        assert check["required"] is True and isinstance(check["ms"], float) and 0 <= check["ms"] < 5000
    assert body["checks"]["database"]["state"] == "ok" and body["checks"]["media"]["backend"] == "local"
    outbox = body["checks"]["outbox"]
    assert (outbox["pending"], outbox["retry"], outbox["oldest_pending_age_seconds"]) == (0, 0, None)
    # No scheduler has ever run: unknown, which development accepts.
    assert body["checks"]["scheduler"]["state"] == "unknown" and body["checks"]["scheduler"]["ok"] is True


def test_production_without_any_scheduler_run_is_not_ready(app_config):
    client = create_app({**app_config, **PRODUCTION}).test_client()
    status, body = ready(client)
    assert status == 503 and body["status"] == "fail"
    assert body["checks"]["scheduler"] == {**body["checks"]["scheduler"], "state": "unknown", "ok": False}


def test_the_scheduler_is_fresh_after_a_recent_run_and_stale_after_five_quiet_minutes(app, client, sm, now):
    add_run(sm, "deliver-outbox", now - timedelta(minutes=4), 2.5)  # ended 3m57.5s before now
    status, body = ready(client)
    scheduler = body["checks"]["scheduler"]
    assert status == 200 and scheduler["state"] == "ok" and scheduler["age_seconds"] == 237.5
    app.config["FAKE_NOW"] = (now + timedelta(minutes=2)).isoformat()
    status, body = ready(client)
    assert status == 503 and body["checks"]["scheduler"]["state"] == "stale"
    assert body["checks"]["scheduler"]["last_activity"] == (now - timedelta(seconds=237.5)).isoformat()


def test_a_long_running_jobs_heartbeat_keeps_the_scheduler_fresh(client, sm, now):
    add_run(sm, "nightly", now - timedelta(hours=3), 60)
    with sm.begin() as s:
        s.execute(insert(JobLock).values(name="nightly", holder="host:7", token="t" * 32, pid=7,
                                         acquired_at=now - timedelta(hours=1), heartbeat_at=now - timedelta(seconds=10),
                                         locked_until=now + timedelta(seconds=50)))
    status, body = ready(client)
    assert status == 200 and body["checks"]["scheduler"]["age_seconds"] == 10.0


def test_an_outbox_backlog_over_its_limits_fails_readiness(app_config, sm, now):
    client = create_app({**app_config, "READY_OUTBOX_MAX_PENDING": 2}).test_client()
    add_message(sm, now, "a")
    add_message(sm, now, "b", attempts=2)  # tried, waiting to try again
    add_message(sm, now, "letter", channel="letter")  # waits for staff to print it: not a sender's backlog
    add_message(sm, now, "done", status="sent", age=timedelta(days=3))
    status, body = ready(client)
    assert status == 200 and (body["checks"]["outbox"]["pending"], body["checks"]["outbox"]["retry"]) == (1, 1)
    add_message(sm, now, "c")
    status, body = ready(client)
    assert status == 503 and body["checks"]["outbox"]["state"] == "fail" and body["checks"]["outbox"]["pending"] == 2


def test_an_old_pending_message_fails_readiness(client, sm, now):
    add_message(sm, now, "old", age=timedelta(hours=1, seconds=1))
    status, body = ready(client)
    assert status == 503 and body["checks"]["outbox"]["oldest_pending_age_seconds"] == 3601.0


def test_checks_left_out_of_ready_required_are_reported_but_do_not_fail(app_config, sm, now):
    client = create_app({**app_config, **PRODUCTION, "READY_REQUIRED": ["database", "media"]}).test_client()
    add_message(sm, now, "old", age=timedelta(days=1))
    status, body = ready(client)
    assert status == 200
    assert body["checks"]["outbox"] == {**body["checks"]["outbox"], "state": "fail", "required": False}
    assert body["checks"]["scheduler"]["ok"] is False and body["checks"]["scheduler"]["required"] is False


def test_a_missing_media_directory_fails_readiness(app_config, tmp_path):
    client = create_app({**app_config, "MEDIA_ROOT": str(tmp_path / "not-mounted")}).test_client()
    status, body = ready(client)
    assert status == 503 and body["checks"]["media"] == {**body["checks"]["media"], "state": "fail",
                                                         "error": "directory missing"}


def test_the_s3_bucket_is_checked(app_config, s3_endpoint, bucket):
    _client, name = bucket
    status, body = ready(create_app({**app_config, **s3_settings(s3_endpoint, name)}).test_client())
    assert status == 200 and body["checks"]["media"]["backend"] == "s3"
    status, body = ready(create_app({**app_config, **s3_settings(s3_endpoint, name + "-gone")}).test_client())
    assert status == 503 and body["checks"]["media"]["state"] == "fail" and body["checks"]["media"]["error"]


def test_an_unreachable_database_fails_readiness_quickly_and_skips_what_needs_it(app_config):
    client = create_app({**app_config, "DATABASE_URL": "postgresql+psycopg://kuulo@127.0.0.1:9/kuulo"}).test_client()
    status, body = ready(client)
    assert status == 503 and body["checks"]["database"]["state"] == "fail"
    assert body["checks"]["database"]["error"] == "OperationalError" and body["checks"]["database"]["ms"] < 5000
    assert body["checks"]["outbox"]["state"] == body["checks"]["scheduler"]["state"] == "skipped"
    assert body["checks"]["media"]["state"] == "ok"


class EverythingClosed:
    def closure(self, component: str, now: Any, language: str) -> gate.Closure:
        return gate.Closure(component, None, "http://kuulo.test/status/m/1", "Maintenance break")


@pytest.fixture()
def break_everywhere() -> Any:
    gate.set_provider(EverythingClosed())
    yield
    gate.set_provider(None)


def test_health_readiness_and_metrics_stay_open_during_a_maintenance_break(client, break_everywhere):
    assert client.get("/login").status_code == 503  # the break is on
    assert client.get("/healthz").status_code == 200
    assert ready(client)[0] == 200
    assert client.get("/metrics").status_code == 200  # loopback, development
