"""Database plumbing: engine, sessionmaker, declarative Base, one session per request.

The caller owns the transaction (architecture rule 2): views and API routes commit once at
the end of a request; jobs and CLI commands use ``with sessionmaker.begin()``. Services only
flush.
"""
from __future__ import annotations

import select
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import cache, wraps
from typing import Any, TypeVar

from flask import Flask, current_app, g
from sqlalchemy import DateTime, MetaData, String, Table, create_engine, event, exc, type_coerce
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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


def raw(column: Any) -> Any:
    """``column`` as the driver returns it, skipping result processing (a hot path's cache key);
    turn it into a datetime with ``utc_from_raw``."""
    return type_coerce(column, String)


def utc_from_raw(value: str | datetime | None) -> datetime | None:
    """A ``raw`` UTCDateTime value (SQLite: text; PostgreSQL: a naive datetime) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)


class Prepared:
    """A SELECT run straight on a pooled DBAPI connection, for the hottest read (a reader app's poll):
    compiled once per dialect, parameters converted by their columns' own bind processors, rows
    returned as the driver gives them (dates as text on SQLite) and no transaction around the one
    statement. Everything else goes through the session."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}

    def _compile(self, dialect: Any) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
        compiled = self.statement.compile(dialect=dialect)
        processors = {name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                      for name, bind in compiled.binds.items()}
        order = tuple(compiled.positiontup) if compiled.positional else None
        prepared = (str(compiled), order, {name: p for name, p in processors.items() if p is not None})
        self._compiled[dialect.name] = prepared
        return prepared

    def all(self, bind: Engine, **params: Any) -> list[tuple[Any, ...]]:
        sql, order, processors = self._compiled.get(bind.dialect.name) or self._compile(bind.dialect)
        for name, process in processors.items():
            if name in params:
                params[name] = process(params[name])
        args: Any = tuple(params[name] for name in order) if order is not None else params
        connection = bind.raw_connection()
        # PostgreSQL: autocommit for the one statement saves the driver's BEGIN and the pool's ROLLBACK
        # (two round trips). SQLite connections are in autocommit mode already (see _configure_sqlite).
        driver = connection.driver_connection if bind.dialect.name == "postgresql" else None
        try:
            if driver is not None:
                driver.autocommit = True
            cursor = connection.cursor()
            cursor.execute(sql, args)
            rows = cursor.fetchall()
            cursor.close()
        finally:
            if driver is not None and not driver.closed:
                driver.autocommit = False
            connection.close()  # back to the pool
        return rows


@cache
def _insert_ignoring(dialect: str, table: Table, index_elements: tuple[str, ...] | None,
                     returning: tuple[str, ...]) -> Any:
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(table).on_conflict_do_nothing(index_elements=list(index_elements) if index_elements else None)
    return stmt.returning(*(table.c[name] for name in returning)) if returning else stmt


def insert_ignoring_conflicts(session: Session, table: Table, *, index_elements: tuple[str, ...] | None = None,
                              returning: tuple[str, ...] = ()) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING [RETURNING …]`` for ``table`` (a Core table: no ORM bookkeeping),
    built once per dialect and shape so repeated calls skip statement construction. Execute it with a dict
    of values: nothing is returned when a unique key (``index_elements``, or any) already holds the row."""
    return _insert_ignoring(session.get_bind().dialect.name, table, index_elements, returning)


def date_from_raw(value: str | date | None) -> date | None:
    """A raw Date value (SQLite: text; PostgreSQL: a date) as a date."""
    return date.fromisoformat(value) if isinstance(value, str) else value


READ_ONLY_OPTION = "kuulo_read_only"
F = TypeVar("F", bound=Callable[..., Any])


def make_engine(url: str, echo: bool = False, pool_size: int = 20, ping_after_seconds: float = 5) -> Engine:
    # hide_parameters: an error's message (and the log of a failed request) never carries the bound values —
    # names, addresses, identity-code hashes. The SQL with its placeholders is kept.
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(url, echo=echo, hide_parameters=True,
                               connect_args={"check_same_thread": False, "timeout": 30},
                               **({} if memory else {"pool_size": pool_size, "max_overflow": pool_size}))
        _configure_sqlite(engine)
        return engine
    # connect_timeout: a database host that hangs must not hold /status before it falls back to the snapshot.
    # LIFO: under light load the same few connections serve, the rest age out of use (and get pinged).
    engine = create_engine(url, echo=echo, hide_parameters=True, pool_size=pool_size, max_overflow=pool_size,
                           pool_use_lifo=True, connect_args={"connect_timeout": 5})
    _ping_when_needed(engine, ping_after_seconds)
    return engine


IDLE_SINCE = "kuulo_idle_since"


def _ping_when_needed(engine: Engine, after_seconds: float) -> None:
    """Pre-ping a pooled connection on checkout only when it may be dead: it sat unused for ``after_seconds``
    (0: always), or the server has written to it while it sat in the pool.

    A connection that went back to the pool a moment ago is as alive as it was then; pinging it anyway
    (``pool_pre_ping``) cost a round trip on every checkout — two per registration. A server that stops or
    restarts says goodbye on every connection (PostgreSQL's "terminating connection" and the end of the
    stream), so an idle connection with something to read is pinged even when it was used a moment ago:
    one poll(2) call, no round trip, and the first request after a short restart gets a fresh connection
    instead of an error. A dead one is replaced before use. A restart while connections are busy fails those
    statements, as it would anyway (503, see ``unreachable``), and SQLAlchemy's disconnect handling then
    recycles the whole pool.
    """

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(IDLE_SINCE, None)
        if since is None:
            return  # a new connection
        if time.monotonic() - since < after_seconds and not _server_wrote(dbapi_connection):
            return  # in use a moment ago, and the server has not hung up since
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as err:
            raise exc.DisconnectionError() from err  # the pool replaces it and checks out again


def _server_wrote(dbapi_connection: Any) -> bool:
    """Whether an idle connection's socket has something to read (or hung up): nothing is expected on an
    idle connection but a goodbye — or, rarely, a notice, which the ping then reads."""
    try:
        fd = dbapi_connection.fileno()
    except Exception:  # closed: let the ping find out
        return True
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])


# SQLite result codes that mean the database cannot be used right now, not that a statement was wrong:
# BUSY, LOCKED (a writer held the lock past the busy timeout), IOERR, FULL (disk), CANTOPEN (file or volume gone).
_SQLITE_UNAVAILABLE = {5, 6, 10, 13, 14}
# PostgreSQL SQLSTATE classes: 08 connection exception, 53 insufficient resources (too many connections,
# disk full), 57P shutting down or starting up (admin_shutdown, crash_shutdown, cannot_connect_now).
_POSTGRES_UNAVAILABLE = ("08", "53", "57P")


def error_classes(app: Flask) -> tuple[type[BaseException], ...]:
    """The exceptions a database failure can surface as: SQLAlchemy's, and the driver's own (a raw pooled
    connection, as ``Prepared`` uses, raises those unwrapped)."""
    return exc.SQLAlchemyError, engine(app).dialect.loaded_dbapi.Error


def unreachable(error: BaseException) -> bool:
    """Whether ``error`` says that the database cannot be reached or used right now — stopped, restarting,
    out of connections, its file gone — rather than that a statement or its data was wrong."""
    if isinstance(error, exc.TimeoutError | exc.DisconnectionError):
        return True  # no pooled connection came free in time, or none could be made
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return True
        error = error.orig
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        return isinstance(error, sqlite3.OperationalError) and code is not None and code & 0xFF in _SQLITE_UNAVAILABLE
    kinds = {cls.__name__ for cls in type(error).__mro__}  # DB-API names, whatever the driver
    if "InterfaceError" in kinds:
        return True  # psycopg: "the connection is closed"
    if "OperationalError" not in kinds:
        return False
    sqlstate = getattr(error, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(_POSTGRES_UNAVAILABLE)  # None: the client lost or never had it


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
        # "database is locked" half way through a transaction. Read-only sessions (see
        # ``read_only``) begin DEFERRED: under WAL they read a snapshot without taking the lock, so
        # polling readers neither wait for each other nor for writers.
        if conn.get_execution_options().get(READ_ONLY_OPTION):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"], bool(app.config.get("DATABASE_ECHO")),
                         int(app.config.get("DATABASE_POOL_SIZE", 20)),
                         float(app.config.get("DATABASE_PING_AFTER_SECONDS", 5)))
    app.extensions["kuulo.engine"] = engine
    app.extensions["kuulo.sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)
    app.extensions["kuulo.read_sessionmaker"] = sessionmaker(
        bind=engine.execution_options(**{READ_ONLY_OPTION: True}), expire_on_commit=False,
        info={"read_only": True})
    app.teardown_appcontext(_close_session)


def engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions["kuulo.engine"]


def get_sessionmaker(app: Flask | None = None) -> sessionmaker[Session]:
    return (app or current_app).extensions["kuulo.sessionmaker"]


def session() -> Session:
    """The request's session (created on first use, closed — rolled back if not committed — at teardown).

    In a view marked ``read_only`` it is a read-only session: small writes the request still needs go
    through ``after_reads``."""
    if "db_session" not in g:
        factory = "kuulo.read_sessionmaker" if g.get("db_read_only") else "kuulo.sessionmaker"
        g.db_session = current_app.extensions[factory]()
    return g.db_session


def read_only(view: F) -> F:
    """Mark a view that only reads (reader apps' polling): its session does not take SQLite's write
    lock, so many polls run side by side. The view must not write through the session; a write it
    needs anyway (a token's last-used time) goes through ``after_reads``."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        g.db_read_only = True
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def after_reads(session: Session, write: Callable[[Session], None]) -> None:
    """Run ``write`` in ``session`` now, or — for a read-only session — in its own short transaction
    once the request's reads are over (when the session closes), so it never upgrades a read snapshot
    to a write, which SQLite refuses when another writer committed in between. Only for bookkeeping
    that may be lost: after the answer a failure is logged, not reported."""
    if not session.info.get("read_only"):
        write(session)
        return
    session.info.setdefault("after_reads", []).append(write)


def _close_session(exc: BaseException | None) -> None:
    s = g.pop("db_session", None)
    if s is None:
        return
    writes = s.info.pop("after_reads", [])
    s.close()
    if writes and exc is None:
        try:
            with get_sessionmaker().begin() as writer:
                for write in writes:
                    write(writer)
        except Exception:  # bookkeeping only (a token's last use): the answer has been given already
            current_app.logger.warning("could not record a read-only request's writes", exc_info=True)


def create_schema(app: Flask) -> None:
    """Create every table through Alembic (so the revision is recorded), for demo and tests."""
    from app.migrate import upgrade

    upgrade(app)
