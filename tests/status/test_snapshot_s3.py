"""The snapshot in an S3-compatible bucket (moto on loopback): written there, and read back with the
database down."""
from __future__ import annotations

import json

import pytest

from app import create_app, db, scheduler
from tests.conftest import s3_settings
from tests.status.helpers import maintenance


@pytest.fixture()
def app_config(app_config, s3_endpoint, bucket):
    return {**app_config, **s3_settings(s3_endpoint, bucket[1])}


def test_the_snapshot_lives_in_the_bucket_and_answers_when_the_database_is_down(app, app_config, sm, now, bucket):
    client, name = bucket
    mid = maintenance(app, sm, now)
    scheduler.run_job(app, "status-render-snapshot", now)
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=name)["Contents"]}
    assert {"status-snapshot/manifest.json", "status-snapshot/status/index.html",
            "status-snapshot/en/api/v2/summary.json", f"status-snapshot/sv/status/maintenance/{mid}.html"} <= keys
    page = client.get_object(Bucket=name, Key="status-snapshot/status/index.html")
    assert page["ContentType"] == "text/html; charset=utf-8"
    down = create_app(dict(app_config, DATABASE_URL="postgresql+psycopg://x@127.0.0.1:9/x"))
    try:
        resp = down.test_client().get("/api/v2/summary.json")
        assert resp.status_code == 200 and json.loads(resp.data)["scheduled_maintenances"][0]["id"] == f"m{mid}"
        assert "snapshot" in resp.json
    finally:
        db.engine(down).dispose()
