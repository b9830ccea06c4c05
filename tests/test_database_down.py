"""The database down: every route answers 503 (problem+json, or the translated page) with Retry-After and the
status page's link; once it is back, the very first request is answered — also through pooled connections
that a short restart left stale. PostgreSQL: a throwaway cluster stopped and started under the running app;
SQLite: the database file's directory taken away and put back."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app import create_app, db
from tests.conftest import FIXED_NOW
from tests.lending.conftest import MP3_BOOK, Reader, ingest_path, make_reader

# -- the app and what a reader has in it ------------------------------------------------------------

def make_app(url: str, media: Path) -> Any:
    app = create_app({"DATABASE_URL": url, "TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
                      "MEDIA_ROOT": str(media), "BASE_URL": "http://kuulo.test", "FAKE_NOW": FIXED_NOW.isoformat(),
                      "SMTP_PORT": 1,
                      # a 500 is answered, as in production, not raised into the test
                      "PROPAGATE_EXCEPTIONS": False,
                      # no idle ping: a stale connection must be noticed however recently it was used
                      "DATABASE_PING_AFTER_SECONDS": 3600})
    db.create_schema(app)
    return app


@dataclass
class Shelf:
    client: Any
    reader: Reader
    book: int

    def answers(self) -> dict[str, Any]:
        """What a reader app, an OPDS client and a browser ask for, each answered once."""
        book, auth = self.book, self.reader.auth
        return {
            "library page": self.client.get("/library"),
            "book page": self.client.get(f"/library/books/{book}"),
            "cover": self.client.get(f"/library/books/{book}/cover"),
            "opds": self.client.get("/opds"),
            "clubs": self.client.get("/api/v1/clubs"),
            "loans poll": self.client.get("/api/v1/loans", headers=auth),
            "manifest": self.client.get(f"/api/v1/books/{book}/manifest", headers=auth),
            "track": self.client.get(f"/api/v1/books/{book}/tracks/1", headers={**auth, "Range": "bytes=0-9"}),
            "renew": self.client.post(f"/api/v1/books/{book}/renew", headers=auth),
        }


def shelve(app: Any) -> Shelf:
    """A patron's reader app with one audiobook on loan."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    book = ingest_path(app, MP3_BOOK).book_id
    reader = make_reader(client, db.get_sessionmaker(app), FIXED_NOW, "reader@test.kuulo")
    assert reader.post(f"/api/v1/books/{book}/borrow").status_code == 201
    return Shelf(client, reader, book)


def assert_served(shelf: Shelf) -> None:
    """The first request after the database came back, and every one after it, is answered normally."""
    first = shelf.client.get("/api/v1/loans", headers=shelf.reader.auth)  # the hot path: a raw pooled connection
    assert first.status_code == 200, first.text
    assert [loan["book"]["id"] for loan in first.json["loans"]] == [shelf.book]
    expected = {"library page": 200, "book page": 200, "cover": 404, "opds": 200, "clubs": 200, "loans poll": 200,
                "manifest": 200, "track": 206, "renew": 409}  # a fresh loan: "too soon", answered, not 503
    assert {name: resp.status_code for name, resp in shelf.answers().items()} == expected


def assert_unavailable(shelf: Shelf) -> None:
    answers = shelf.answers()
    assert {name: resp.status_code for name, resp in answers.items()} == dict.fromkeys(answers, 503)
    for name, resp in answers.items():
        assert resp.headers["Retry-After"] == "30", name
        assert resp.headers["Link"] == '</status>; rel="status"', name
        if name in ("library page", "book page", "cover"):
            assert resp.mimetype == "text/html", name
            assert "Kuulo cannot reach its database at the moment" in resp.text
            assert 'href="/status"' in resp.text
        else:
            assert resp.mimetype == "application/problem+json", name
            body = resp.json
            assert (body["status"], body["type"]) == (503, "https://kuulo.fi/problems/service-unavailable"), name
            assert body["status_page"] == "http://kuulo.test/status" and "database" in body["detail"]
    finnish = shelf.client.get("/library", headers={"Accept-Language": "fi"})
    assert finnish.status_code == 503 and 'lang="fi"' in finnish.text
    assert "Palvelu ei ole tilapäisesti käytettävissä." in finnish.text  # the friendly page, translated


def assert_logged_in_page_unavailable(shelf: Shelf) -> None:
    """A logged-in patron (whose account cannot be looked up now) gets the same page, not an error of the page."""
    with shelf.client.session_transaction() as cookie:
        cookie["_user_id"], cookie["_fresh"] = f"p:{shelf.reader.patron_id}", True
    resp = shelf.client.get("/library/loans")
    assert resp.status_code == 503 and "Kuulo cannot reach its database at the moment" in resp.text
    with shelf.client.session_transaction() as cookie:
        cookie.clear()


# -- PostgreSQL: a throwaway cluster ------------------------------------------------------------------

def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """initdb + pg_ctl in a temp dir on a free loopback port (as postgres when run as root, as .ci/run does)."""

    def __init__(self, bin_dir: Path, root: Path) -> None:
        self.bin, self.root, self.port = bin_dir, root, _free_port()
        self.run_as: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
            self.run_as = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(root / "data"), "-U", "postgres", "-A", "trust", "--no-sync")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.run_as, str(self.bin / tool), *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.root / "data"), "-o", options, "-l", str(self.root / "log"), "-w",
                  "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", mode, "-w", "-t", "60", "stop")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root without a postgres user to run the server as")
    root = Path(tempfile.mkdtemp(prefix="kuulo-dbdown-"))
    made = Cluster(bin_dir, root)
    made.start()
    try:
        yield made
    finally:
        subprocess.run([*made.run_as, str(bin_dir / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def test_postgresql_stopped_every_route_is_503_and_a_restart_costs_no_request(cluster, tmp_path):
    app = make_app(cluster.url, tmp_path / "media")
    try:
        shelf = shelve(app)
        assert_served(shelf)

        cluster.stop()  # a short restart, nothing asked in between: every pooled connection is stale
        cluster.start()
        assert_served(shelf)

        cluster.stop()
        assert_unavailable(shelf)
        assert_logged_in_page_unavailable(shelf)
        cluster.start()
        assert_served(shelf)
    finally:
        db.engine(app).dispose()


# -- SQLite: the database file cannot be opened ---------------------------------------------------------

def test_sqlite_file_unreachable_every_route_is_503_and_served_again_when_it_is_back(tmp_path):
    folder = tmp_path / "volume"
    app = make_app(f"sqlite:///{folder / 'kuulo.db'}", tmp_path / "media")
    try:
        shelf = shelve(app)
        assert_served(shelf)

        db.engine(app).dispose()  # the volume goes away: open files are closed, the path leads nowhere
        folder.rename(tmp_path / "unmounted")
        assert_unavailable(shelf)
        assert_logged_in_page_unavailable(shelf)

        (tmp_path / "unmounted").rename(folder)
        assert_served(shelf)
    finally:
        db.engine(app).dispose()
