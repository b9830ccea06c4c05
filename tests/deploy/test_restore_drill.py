"""The backup and restore procedure of docs/deploy.md, as a drill on PostgreSQL: the demo data is dumped with
`pg_dump -Fc`, restored with `pg_restore` into a new database, and Kuulo starts on it (the identity key check
passes with the backed-up key, and refuses another) with every row there and the demo logins working."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, make_url, select

from app import create_app, db
from app.demo import DEMO_PASSWORD, load_demo
from app.models import metadata
from app.platform.identity_key import IdentityKeyMismatch
from tests.conftest import FIXED_NOW, empty_database_url

pytestmark = pytest.mark.postgres
KEY = "drill-identity-key-0123456789abcdefghijklmnopqrstuvwxyz"


def postgres_binary(name: str) -> str | None:
    """The newest server version's binary (pg_dump must not be older than the server), else PATH's."""
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                      key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return versions[-1] if versions else shutil.which(name)


@pytest.fixture()
def tools() -> dict[str, str]:
    if not os.environ.get("KUULO_TEST_DATABASE_URL", "").startswith("postgresql"):
        pytest.skip("the restore drill needs PostgreSQL (KUULO_TEST_DATABASE_URL)")
    found = {name: postgres_binary(name) for name in ("pg_dump", "pg_restore")}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)}")
    return found  # type: ignore[return-value]


def libpq_url(sqlalchemy_url: str) -> str:
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


def row_counts(app) -> dict[str, int]:
    with db.get_sessionmaker(app).begin() as s:
        return {t.name: s.scalar(select(func.count()).select_from(t)) for t in metadata.sorted_tables}


def settings(url: str, tmp_path: Path, key: str = KEY) -> dict:
    return {"DATABASE_URL": url, "TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "drill",
            "IDENTITY_HASH_KEY": key, "IDENTITY_KEY_CHECK": True, "MEDIA_ROOT": str(tmp_path / "media"),
            "BASE_URL": "http://kuulo.test", "FAKE_NOW": FIXED_NOW.isoformat(), "SMTP_PORT": 1}


def test_a_dump_restored_into_a_new_database_starts_with_all_its_data(tools, tmp_path):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    source_url = empty_database_url(tmp_path, f"kuulo_drill_source_{worker}")
    source = create_app(settings(source_url, tmp_path))
    db.create_schema(source)  # stores the key's fingerprint
    with source.app_context():  # as `flask --app app demo` runs it
        load_demo(source, FIXED_NOW)
    before = row_counts(source)
    db.engine(source).dispose()
    assert before["identity_key_fingerprint"] == 1
    assert min(before["patrons"], before["staff_users"], before["circ_loans"], before["lending_loans"]) > 0

    dump = tmp_path / "kuulo.dump"
    subprocess.run([tools["pg_dump"], "--format=custom", "--no-owner", f"--file={dump}",
                    libpq_url(source_url)], check=True, capture_output=True, timeout=300)
    restored_url = empty_database_url(tmp_path, f"kuulo_drill_restored_{worker}")
    subprocess.run([tools["pg_restore"], "--no-owner", "--exit-on-error", f"--dbname={libpq_url(restored_url)}",
                    str(dump)], check=True, capture_output=True, timeout=300)

    restored = create_app(settings(restored_url, tmp_path))  # the identity key check passes
    try:
        assert row_counts(restored) == before
        client = restored.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        login = client.post("/staff/login", data={"email": "admin@demo.kuulo.test", "password": DEMO_PASSWORD})
        assert login.status_code == 302
        client.post("/logout")
        assert client.post("/login", data={"card_number": "2000000001", "secret": "1234"}).status_code == 302
    finally:
        db.engine(restored).dispose()

    # Why the key is backed up with the database: the restore without it does not start.
    with pytest.raises(IdentityKeyMismatch):
        create_app(settings(restored_url, tmp_path, key="a-new-key-because-the-old-one-was-lost-000000000"))
