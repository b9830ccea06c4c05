"""Migrations and models agree, and upgrade works on an empty database."""
from __future__ import annotations

import os
import re

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from app import create_app, db
from app.accounts.service import allocate_card_number
from app.migrate import alembic_config, upgrade
from app.models import metadata
from tests.conftest import empty_database_url


def test_upgrade_on_an_empty_database_creates_every_table(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"})
    db.create_schema(app)
    tables = set(inspect(db.engine(app)).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


def not_full_text_index(name, type_, parent_names):
    """The full-text search structures are made by migrations, not models: SQLite's FTS5 tables (``*_fts``)
    with their shadow tables, and PostgreSQL's GIN expression indexes (``ix_*_fts_<configuration>``)."""
    if type_ == "table":
        return not (name and re.search(r"_fts(_|$)", name))
    if type_ == "index":
        return not (name and re.search(r"_fts_[a-z]+$", name))
    return True


def test_models_and_migrations_agree(database_url):
    engine = create_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True,
                                                                       "include_name": not_full_text_index}),
                                metadata)
    engine.dispose()
    assert diff == [], f"models differ from migrations; run `flask --app app db revision -m ...`: {diff}"


@pytest.fixture()
def scratch_url(tmp_path):
    """An empty database of the suite's kind (on PostgreSQL one per test worker, emptied on every use)."""
    return empty_database_url(tmp_path, f"kuulo_scratch_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")


def test_card_numbers_continue_across_the_sequence_migration_both_ways(scratch_url):
    """0060 moves PostgreSQL's card numbers from the counter row to a sequence, without reusing one."""
    app = create_app({"DATABASE_URL": scratch_url})
    upgrade(app, "0050_cdclub")
    with db.engine(app).begin() as conn:
        conn.execute(text("INSERT INTO counters (name, value) VALUES ('card_number', 2000000041)"))
    upgrade(app, "heads")
    with db.get_sessionmaker(app).begin() as s:
        assert allocate_card_number(s) == "2000000042"
    command.downgrade(alembic_config(app), "0050_cdclub")  # the counter row holds the last number given
    with db.engine(app).begin() as conn:
        assert conn.execute(text("SELECT value FROM counters WHERE name = 'card_number'")).scalar() == 2000000042
    db.engine(app).dispose()
