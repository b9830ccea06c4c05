"""Database plumbing: engine, sessionmaker, declarative Base, one session per request.

The caller owns the transaction (architecture rule 2): views and API routes commit once at
the end of a request; jobs and CLI commands use ``with sessionmaker.begin()``. Services only
flush.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes stored as UTC on every backend.

    SQLite drops the offset of ``DateTime(timezone=True)``; storing naive UTC and attaching
    UTC on the way out gives the same aware values on SQLite and PostgreSQL.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def make_engine(url: str, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})
        _configure_sqlite(engine)
        return engine
    # connect_timeout: a database host that hangs must not hold /status before it falls back to the snapshot.
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20,
                         connect_args={"connect_timeout": 5})


def _configure_sqlite(engine: Engine) -> None:
    """Foreign keys on, and let SQLAlchemy emit BEGIN itself so SAVEPOINTs work (SQLAlchemy's SQLite docs)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: two writers queue instead of failing with
        # "database is locked" half way through a transaction.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"], bool(app.config.get("DATABASE_ECHO")))
    app.extensions["kuulo.engine"] = engine
    app.extensions["kuulo.sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions["kuulo.engine"]


def get_sessionmaker(app: Flask | None = None) -> sessionmaker[Session]:
    return (app or current_app).extensions["kuulo.sessionmaker"]


def session() -> Session:
    """The request's session (created on first use, closed — rolled back if not committed — at teardown)."""
    if "db_session" not in g:
        g.db_session = get_sessionmaker()()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    s = g.pop("db_session", None)
    if s is not None:
        s.close()


def create_schema(app: Flask) -> None:
    """Create every table through Alembic (so the revision is recorded), for demo and tests."""
    from app.migrate import upgrade

    upgrade(app)
