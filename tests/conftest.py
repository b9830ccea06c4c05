"""Test fixtures: a migrated database per xdist worker (SQLite by default, PostgreSQL with
KUULO_TEST_DATABASE_URL), emptied after each test; the app, a client, an SMTP server on loopback."""
from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text

from app import create_app, db
from app.models import metadata

FIXED_NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

# Property tests check results, not speed (speed is measured in benchmarks/): a loaded 2-core machine must
# not turn a slow example into a failure.
hypothesis_settings.register_profile("kuulo", deadline=None)
hypothesis_settings.load_profile("kuulo")


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _database_url(tmp_root: Path) -> str:
    return empty_database_url(tmp_root, f"kuulo_test_{re.sub(r'[^a-z0-9]', '', _worker().lower())}")


def empty_database_url(tmp_root: Path, name: str) -> str:
    """An empty database of the suite's kind: a SQLite file under ``tmp_root``, or PostgreSQL database
    ``name`` (dropped and created again) on the server of KUULO_TEST_DATABASE_URL."""
    base = os.environ.get("KUULO_TEST_DATABASE_URL", "")
    if not base:
        return f"sqlite:///{tmp_root / f'{name}.db'}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    tmp_root = Path(tempfile.mkdtemp(prefix="kuulo-tests-"))
    url = _database_url(tmp_root)
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    db.create_schema(app)
    db.engine(app).dispose()
    yield url


def empty_all_tables(app: Any) -> None:
    engine = db.engine(app)
    tables = [t.name for t in metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture()
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """Override in a test module to change settings before the app is created."""
    return {"DATABASE_URL": database_url, "TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
            "MEDIA_ROOT": str(tmp_path / "media"), "BASE_URL": "http://kuulo.test",
            "FAKE_NOW": FIXED_NOW.isoformat(), "SMTP_PORT": 1}


@pytest.fixture()
def app(app_config: dict[str, Any]) -> Iterator[Any]:
    application = create_app(app_config)
    yield application
    empty_all_tables(application)
    db.engine(application).dispose()


@pytest.fixture()
def client(app: Any) -> Any:
    """A test client that speaks English unless a test sends its own Accept-Language."""
    c = app.test_client()
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


@pytest.fixture()
def sm(app: Any) -> Any:
    """The app's sessionmaker: ``with sm.begin() as s:`` in tests, as jobs do."""
    return db.get_sessionmaker(app)


@pytest.fixture()
def now() -> datetime:
    return FIXED_NOW


class SmtpSink:
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Any] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                from email import message_from_bytes, policy

                sink.messages.append(message_from_bytes(envelope.content, policy=policy.default))
                return "250 OK"

        import socket

        with socket.socket() as probe:  # aiosmtpd's start-up check cannot use port 0
            probe.bind(("127.0.0.1", 0))
            free_port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=free_port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return int(self.controller.port)


@pytest.fixture()
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


S3_REGION, S3_KEY_ID, S3_SECRET = "eu-north-1", "testing-key", "testing-secret"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible server on loopback (moto). It does not verify presigned signatures or expiry."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture()
def bucket(s3_endpoint: str) -> tuple[Any, str]:
    """A fresh bucket: (boto3 client, bucket name)."""
    import uuid

    import boto3

    name = f"kuulo-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=S3_REGION, aws_access_key_id=S3_KEY_ID,
                          aws_secret_access_key=S3_SECRET)
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": S3_REGION})
    return client, name


def s3_settings(endpoint: str, bucket_name: str) -> dict[str, Any]:
    """Settings that put the media store in the moto bucket (merge into app_config)."""
    return {"MEDIA_BACKEND": "s3", "S3_ENDPOINT_URL": endpoint, "S3_BUCKET": bucket_name, "S3_REGION": S3_REGION,
            "S3_ACCESS_KEY_ID": S3_KEY_ID, "S3_SECRET_ACCESS_KEY": S3_SECRET}


def closed_port() -> int:
    """A loopback port nobody listens on (taken and let go: connecting to it is refused at once)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
