"""The benchmark data set (benchmarks/dataset.py): a tiny national-shaped build the app can use as it is.

Builds 1/25,000 of the national data set into an empty database of the suite's kind (SQLite file, or a
PostgreSQL database of its own with KUULO_TEST_DATABASE_URL), then opens it with the app: a generated
patron signs in with the PIN, the reader-app loans list shows the patron's active e-loan, a reviewer sees
the open institution applications, and registration finds a generated person by the identity code.
"""
from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text

from app import create_app, db
from app.accounts import service as accounts
from app.accounts.identity import identity_hash
from app.accounts.throttle import ThrottlePolicy
from benchmarks import dataset
from tests.conftest import _worker, empty_database_url

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # the data set's present
FACTOR = 4e-5  # 40 patrons, 120 e-loans (12 active), 200 outbox messages, 2 institution applications …
EXPECTED = {  # table → the size names it holds
    "patrons": ("patrons",), "registrations": ("patrons",), "circ_patrons": ("patrons",),
    "lending_audiobooks": ("audiobooks",), "lending_tracks": ("audiobooks",), "lending_loans": ("eloans",),
    "circ_loans": ("loans_returned", "loans_open"), "circ_holds": ("holds",), "circ_fee_entries": ("fees",),
    "outbox_messages": ("outbox",), "institution_applications": ("applications",), "cdclub_clubs": ("clubs",),
    "cdclub_members": ("club_members",),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: Any) -> Any:
    name = "kuulo_dataset_" + re.sub(r"[^a-z0-9]", "", _worker().lower())
    url = empty_database_url(tmp_path_factory.mktemp("dataset"), name)
    report = dataset.build(url, scale="national", factor=FACTOR, seed=7, now=NOW)
    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False,
                      "FAKE_NOW": (NOW + timedelta(hours=1)).isoformat(), "BASE_URL": "http://kuulo.test"})
    yield url, report, app
    db.engine(app).dispose()


def test_every_table_has_the_rows_asked_for(built: Any) -> None:
    _url, report, app = built
    sizes = dataset.sizes_for("national", FACTOR)
    assert (sizes["patrons"], sizes["eloans"], sizes["eloans_active"], sizes["applications"]) == (40, 120, 12, 2)
    with db.engine(app).connect() as conn:
        for table, names in EXPECTED.items():
            expected = sum(sizes[n] for n in names)
            if table == "patrons":  # plus one institution patron per approved application
                expected += conn.scalar(text("SELECT count(*) FROM institution_accounts"))
            assert conn.scalar(text(f"SELECT count(*) FROM {table}")) == expected, table
        active = conn.scalar(text("SELECT count(*) FROM lending_loans WHERE ended_at IS NULL"))
        open_loans = conn.scalar(text("SELECT count(*) FROM circ_loans WHERE status = 'open'"))
        sent = conn.scalar(text("SELECT count(*) FROM outbox_messages WHERE status = 'sent'"))
    assert (active, open_loans) == (sizes["eloans_active"], sizes["loans_open"])
    assert sent > sizes["outbox"] * 0.9  # mostly sent
    written: dict[str, int] = {}
    for table, rows, _seconds in report:
        written[table] = written.get(table, 0) + rows
    assert written["lending_loans"] == 120 and written["outbox_messages"] == 200


def test_a_generated_patron_signs_in_with_the_pin_and_sees_the_active_e_loan(built: Any) -> None:
    _url, _report, app = built
    with app.app_context(), db.get_sessionmaker(app).begin() as s:
        patron_id, card, book_title = s.execute(text(
            "SELECT p.id, p.card_number, b.title FROM lending_loans l JOIN patrons p ON p.id = l.patron_id "
            "JOIN lending_audiobooks b ON b.id = l.audiobook_id WHERE l.ended_at IS NULL ORDER BY l.id")).first()
        now = NOW + timedelta(hours=1)
        assert accounts.authenticate_patron(s, card, dataset.PIN, now, ThrottlePolicy()).user.id == patron_id
    basic = base64.b64encode(f"{card}:{dataset.PIN}".encode()).decode()
    response = app.test_client().get("/api/v1/loans", headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200
    titles = [loan["book"]["title"] for loan in response.get_json()["loans"]]
    assert book_title in titles and len(titles) == len(set(titles))


def test_registration_finds_a_generated_person_by_the_identity_code(built: Any) -> None:
    _url, _report, app = built
    key = app.config["IDENTITY_HASH_KEY"]
    with app.app_context(), db.get_sessionmaker(app).begin() as s:
        found = accounts.patron_by_national_id_hash(s, identity_hash(key, dataset.identity_code(0)))
        assert found is not None and found.id == 1
        # New cards continue after the generated ones instead of colliding with them.
        assert int(accounts.allocate_card_number(s)) > int(s.scalar(select(func.max(text("card_number")))
                                                                    .select_from(text("patrons"))))


def test_a_reviewer_sees_the_open_applications_in_the_queue(built: Any) -> None:
    _url, _report, app = built
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post("/staff/login", data={"email": "reviewer@national.kuulo.test",
                                                  "password": dataset.STAFF_PASSWORD})
    assert response.status_code == 302
    with db.engine(app).connect() as conn:
        open_ids = conn.scalars(text("SELECT id FROM institution_applications WHERE state IN "
                                     "('submitted', 'in_review', 'needs_information')")).all()
        decided = conn.scalar(text("SELECT min(id) FROM institution_applications WHERE state = 'approved'"))
    page = client.get("/staff/institutions/applications")
    assert page.status_code == 200
    for application_id in open_ids:
        assert f"L-{application_id:06d}" in page.get_data(as_text=True)
    assert open_ids and decided is not None
    with db.engine(app).connect() as conn:  # an approved application has its institution and its account
        assert conn.scalar(text("SELECT p.kind FROM institution_accounts a JOIN patrons p ON p.id = a.patron_id "
                                "WHERE a.application_id = :id"), {"id": decided}) == "institution"


def test_the_build_refuses_a_database_that_is_not_empty(built: Any) -> None:
    url, _report, _app = built
    with pytest.raises(SystemExit, match="not empty"):
        dataset.build(url, scale="national", factor=FACTOR, seed=7, now=NOW)


class Collected:
    """Stands in for ``dataset.Writer``: keeps the rows each table would get (no database)."""

    postgresql = False

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = {}

    def write(self, table: Any, columns: Any, rows: Any) -> int:
        salted = [i for i, c in enumerate(columns) if c in ("pin_hash", "password_hash")]  # argon2: random salt
        got = [tuple(v for i, v in enumerate(row) if i not in salted) for row in rows]
        self.rows.setdefault(table.name, []).extend(got)
        return len(got)


def _generated(seed: int, *, everything: bool = True) -> dict[str, list[tuple[Any, ...]]]:
    sizes = dataset.sizes_for("national", FACTOR)
    maker = dataset.Dataset("sqlite://", sizes, seed, NOW)
    branches = [[(10 * n + b, code, "Europe/Prague" if name == "czech" else "Europe/Helsinki")
                 for b, code in enumerate(codes)] for n, (name, (_p, codes, _s, _c)) in
                enumerate(dataset.LIBRARIES.items())]
    setup = dataset.Setup([1, 2, 3, 4], [1, 2, 3, 4], list(dataset.LIBRARIES), branches,
                          {"admin": 1, "reviewer": 2, "librarian": 3})
    out = Collected()
    for step in (maker._patrons, maker._circulation, maker._fees, maker._institutions) if everything else ():
        step(out, setup)  # type: ignore[arg-type]
    for step_without_setup in (maker._lending, maker._outbox, maker._cdclub):
        step_without_setup(out)  # type: ignore[arg-type]
    return out.rows


def test_the_same_seed_gives_the_same_rows() -> None:
    first, again, other = _generated(7), _generated(7), _generated(8, everything=False)
    assert set(first) >= {"patrons", "registrations", "lending_loans", "circ_loans", "circ_fee_entries",
                          "outbox_messages", "institution_applications", "cdclub_members"}
    assert all(first.values())
    assert first == again
    assert first["lending_loans"] != other["lending_loans"] and first["outbox_messages"] != other["outbox_messages"]


def test_generated_identity_codes_and_business_ids_are_valid() -> None:
    from stdnum.fi import ytunnus

    from app.registration.validation import parse_identity_code

    numbers = [0, 1, 29_219, 29_220, 999_999, 1_049_999]
    codes = [dataset.identity_code(n) for n in numbers]
    assert len(set(codes)) == len(codes)
    for n, code in zip(numbers, codes, strict=True):
        assert parse_identity_code(code, NOW.date()).birth_date == dataset.birth_date_of(n)
    for n in (0, 1, 7, 49_999):
        assert ytunnus.is_valid(dataset.business_id(n))


def _schema(url: str) -> list[tuple[Any, ...]]:
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    with db.engine(app).connect() as conn:
        if conn.dialect.name == "postgresql":
            rows = [*conn.execute(text("SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'")),
                    *conn.execute(text("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                                       "FROM pg_constraint WHERE connamespace = 'public'::regnamespace"))]
        else:
            rows = list(conn.execute(text("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")))
    db.engine(app).dispose()
    return sorted(tuple(r) for r in rows)


def test_the_built_database_has_the_schema_the_migrations_make(built: Any, database_url: str) -> None:
    """On PostgreSQL the build drops indexes and keys for the load and puts them back: every one must be back."""
    url, _report, _app = built
    built_schema, migrated = _schema(url), _schema(database_url)
    assert len(migrated) > 100
    assert built_schema == migrated
