"""The identity key's fingerprint: stored at the first upgrade or start, the same key starts, another refuses."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from app import create_app, db
from app.config import PROJECT_ROOT
from app.platform import identity_key
from app.platform.identity_key import IdentityKeyFingerprint, IdentityKeyMismatch
from tests.conftest import empty_database_url

KEY = "first-key-0123456789abcdefghijklmnopqrstuvwxyz"
OTHER_KEY = "second-key-0123456789abcdefghijklmnopqrstuvwxyz"


@pytest.fixture()
def scratch_url(tmp_path: Path) -> str:
    return empty_database_url(tmp_path, f"kuulo_deploy_idkey_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")


def started(url: str, key: str, **settings: Any) -> Any:
    return create_app({"DATABASE_URL": url, "TESTING": True, "IDENTITY_HASH_KEY": key, "IDENTITY_KEY_CHECK": True,
                       **settings})


def stored_rows(app: Any) -> list[Any]:
    with db.get_sessionmaker(app).begin() as s:
        return list(s.execute(select(IdentityKeyFingerprint.fingerprint)).scalars())


def test_first_upgrade_stores_the_fingerprint_then_the_same_key_starts_and_another_refuses(scratch_url):
    first = started(scratch_url, KEY)  # empty database: starts, so that `flask db upgrade` can run
    db.create_schema(first)
    assert stored_rows(first) == [identity_key.fingerprint(KEY)]
    with db.engine(first).connect() as conn:  # neither the key nor a plain hash of it is in the database
        dump = " ".join(str(v) for row in conn.execute(text("SELECT * FROM identity_key_fingerprint")) for v in row)
    assert KEY not in dump and hashlib.sha256(KEY.encode()).hexdigest() not in dump
    db.engine(first).dispose()

    again = started(scratch_url, KEY)
    assert again.test_client().get("/healthz").status_code == 200
    db.engine(again).dispose()

    with pytest.raises(IdentityKeyMismatch) as refused:
        started(scratch_url, OTHER_KEY)
    message = str(refused.value)
    assert "KUULO_IDENTITY_HASH_KEY is not the key this database was set up with" in message
    assert "duplicate registrations" in message and "Restore the original key" in message
    assert "docs/deploy.md" in message and OTHER_KEY not in message and KEY not in message


def test_first_start_against_a_migrated_database_stores_it(scratch_url):
    migrated = create_app({"DATABASE_URL": scratch_url, "TESTING": True})  # check off: upgrade stores nothing
    db.create_schema(migrated)
    assert stored_rows(migrated) == []
    db.engine(migrated).dispose()

    first = started(scratch_url, OTHER_KEY)
    assert stored_rows(first) == [identity_key.fingerprint(OTHER_KEY)]
    db.engine(first).dispose()
    with pytest.raises(IdentityKeyMismatch):
        started(scratch_url, KEY)


def test_cli_commands_store_it_and_refuse_another_key_with_the_message(scratch_url, tmp_path):
    """What an operator sees: `flask --app app db upgrade` stores the fingerprint; any command started with
    another key (the scheduler's `jobs run` starts the same way) exits non-zero and says why."""
    app = started(scratch_url, KEY)
    upgraded = app.test_cli_runner().invoke(args=["db", "upgrade"])
    db.engine(app).dispose()
    assert upgraded.exit_code == 0, upgraded.output
    env = {**os.environ, "KUULO_DATABASE_URL": scratch_url, "KUULO_IDENTITY_KEY_CHECK": "true",
           "KUULO_MEDIA_ROOT": str(tmp_path / "media"), "KUULO_IDENTITY_HASH_KEY": OTHER_KEY}
    other = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "jobs", "list"], env=env,
                           cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert other.returncode != 0
    assert "IdentityKeyMismatch: KUULO_IDENTITY_HASH_KEY is not the key this database was set up with" in other.stderr


def test_a_database_unreachable_at_start_is_checked_on_the_first_request_that_reaches_it(tmp_path):
    """The process starts while the database is down (pages answer 503 meanwhile); once the database is
    back, a wrong key is refused there — every request fails — and the right key serves."""
    good = tmp_path / "good.db"
    setup = started(f"sqlite:///{good}", KEY)
    db.create_schema(setup)
    db.engine(setup).dispose()

    live = tmp_path / "live" / "kuulo.db"
    live.mkdir(parents=True)  # a directory where the file should be: SQLite cannot open it
    wrong = started(f"sqlite:///{live}", OTHER_KEY)  # starts despite the check being on
    right = started(f"sqlite:///{live}", KEY)
    assert wrong.test_client().get("/healthz").status_code == 503

    live.rmdir()
    shutil.copy(good, live)  # the database is back
    wrong.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(IdentityKeyMismatch):
        wrong.test_client().get("/healthz")
    with pytest.raises(IdentityKeyMismatch):
        wrong.test_client().get("/healthz")  # still refused: nothing is served with the wrong key
    assert right.test_client().get("/healthz").status_code == 200
    for app in (wrong, right):
        db.engine(app).dispose()


@pytest.mark.parametrize("settings,expected", [
    ({"ENV_NAME": "production"}, True),
    ({"ENV_NAME": "production", "TESTING": True}, False),
    ({"ENV_NAME": "development"}, False),
    ({"ENV_NAME": "development", "IDENTITY_KEY_CHECK": True}, True),
    ({"ENV_NAME": "production", "IDENTITY_KEY_CHECK": False}, False),
])
def test_the_check_is_on_in_production_by_default(settings, expected):
    assert identity_key.enabled({"IDENTITY_KEY_CHECK": None, **settings}) is expected
