"""The snapshot in an S3-compatible bucket (moto on loopback): written there, and read back with the
database down."""
from __future__ import annotations

import json
import uuid

import boto3
import pytest
from moto.server import ThreadedMotoServer

from app import create_app, db, scheduler
from tests.status.helpers import maintenance

REGION, KEY_ID, SECRET = "eu-north-1", "testing-key", "testing-secret"


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture()
def bucket(s3_endpoint):
    name = f"kuulo-status-{uuid.uuid4().hex[:8]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION, aws_access_key_id=KEY_ID,
                          aws_secret_access_key=SECRET)
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return client, name


@pytest.fixture()
def app_config(app_config, s3_endpoint, bucket):
    return {**app_config, "MEDIA_BACKEND": "s3", "S3_ENDPOINT_URL": s3_endpoint, "S3_BUCKET": bucket[1],
            "S3_REGION": REGION, "S3_ACCESS_KEY_ID": KEY_ID, "S3_SECRET_ACCESS_KEY": SECRET}


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
