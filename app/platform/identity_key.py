"""The identity key's fingerprint: a process refuses to start with another KUULO_IDENTITY_HASH_KEY than the
one the database's identity-code hashes were made with.

Registrations and institution applications find a person again by HMAC-SHA256(IDENTITY_HASH_KEY, code)
(``app/accounts/identity.py``). With another key every new hash differs from the stored ones, and duplicates
pass unnoticed — nothing fails, so nobody would notice. The database therefore keeps one row: the
fingerprint HMAC-SHA256(key, LABEL), written by the first process that finds the table empty (the first
``flask db upgrade``, ``db.create_schema`` or start against a migrated database) and compared once per
process at start (web workers, the scheduler, every CLI command) — never per request.

Why this and not the key, or SHA-256 of the key: the database and its backups are read by more people
and systems than the secrets store, so the key itself must not be there. A plain hash of the key is a
lookup in precomputed tables for a weak or common key, and matches the same hash stored by any other system
that uses the key. The HMAC with a label of Kuulo's own is useful for nothing but this comparison; finding
the key from it means guessing keys one by one, exactly as from any identity hash already in the same
database (HMAC with the same key over a code the reader may know) — so it tells a reader of the database
nothing it could not already try. The defence against guessing is a long random key (docs/deploy.md). The
label has lower-case letters and identity codes are upper-cased before hashing, so the fingerprint can
never equal the hash of a code.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import CheckConstraint, Integer, String, inspect, select
from sqlalchemy.orm import Mapped, mapped_column

from app import clock, db
from app.config import is_production
from app.db import Base, UTCDateTime

LABEL = b"kuulo: fingerprint of the identity hash key, v1"


class IdentityKeyFingerprint(Base):
    """The one row: the fingerprint of the key the identity-code hashes are made with, and when it was stored."""

    __tablename__ = "identity_key_fingerprint"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # hex HMAC-SHA256(key, LABEL)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdentityKeyMismatch(RuntimeError):
    """KUULO_IDENTITY_HASH_KEY is not the key the database was set up with."""


def fingerprint(key: str) -> str:
    return hmac.new(key.encode(), LABEL, hashlib.sha256).hexdigest()


def enabled(config: Mapping[str, Any]) -> bool:
    """IDENTITY_KEY_CHECK, where None (the default) means on in production — except under TESTING, where the
    suite's many apps share one database with different keys and a test turns the check on itself."""
    value = config.get("IDENTITY_KEY_CHECK")
    if value is None:
        return is_production(config) and not config.get("TESTING")
    return bool(value)


def ensure(app: Flask) -> str:
    """Store the fingerprint of the app's key if the database has none, else compare: "stored", "matched" or
    "no schema" (the migrations have not run yet). Raises ``IdentityKeyMismatch`` on another key.

    Two processes starting together on an empty table both insert; the conflict keeps the first row and the
    other compares with it, so two different keys can never both be accepted."""
    expected = fingerprint(str(app.config["IDENTITY_HASH_KEY"]))
    table = IdentityKeyFingerprint.__table__
    with db.get_sessionmaker(app).begin() as session:
        if not inspect(session.connection()).has_table(table.name):
            return "no schema"
        row = session.execute(select(table.c.fingerprint, table.c.stored_at)).first()
        outcome = "matched"
        if row is None:
            stmt = db.insert_ignoring_conflicts(session, table, index_elements=("id",))  # type: ignore[arg-type]
            session.execute(stmt, {"id": 1, "fingerprint": expected, "stored_at": clock.now()})
            row = session.execute(select(table.c.fingerprint, table.c.stored_at)).one()
            outcome = "stored"
    if not hmac.compare_digest(row.fingerprint, expected):
        raise IdentityKeyMismatch(mismatch_message(row.stored_at))
    if outcome == "stored":
        app.logger.info("identity key: fingerprint stored; this database now requires this KUULO_IDENTITY_HASH_KEY")
    return outcome


def mismatch_message(stored_at: datetime) -> str:
    return (f"KUULO_IDENTITY_HASH_KEY is not the key this database was set up with (its fingerprint, stored "
            f"{stored_at:%Y-%m-%d %H:%M} UTC, differs). National identity codes are stored only as hashes made "
            "with that key: with another key, duplicate registrations and institution applications would no "
            "longer be recognised. Restore the original key (from your secrets store, or the copy backed up "
            "with the database) and start again. To change the key deliberately, accepting that every stored "
            "hash stops matching, see docs/deploy.md, 'Changing the identity key'.")


def check(app: Flask) -> None:
    """``ensure`` when the check is on (after migrations: the first upgrade stores the fingerprint)."""
    if enabled(app.config):
        ensure(app)


def init_app(app: Flask) -> None:
    """Check once at start. When the database cannot be reached (it answers 503 meanwhile, see ``app.gate``),
    the process starts anyway and checks on the first request that reaches the database."""
    if not enabled(app.config):
        return
    try:
        ensure(app)
    except db.error_classes(app) as error:
        if not db.unreachable(error):
            raise
        _check_when_reachable(app)


def _check_when_reachable(app: Flask) -> None:
    app.logger.warning("identity key: database unreachable at start; checking on the first request that reaches it")
    pending = [True]  # emptied once the key matched: from then on the hook costs one list test

    @app.before_request
    def _check_identity_key() -> None:
        if not pending:
            return
        try:
            ensure(app)
        except db.error_classes(app) as error:
            if db.unreachable(error):
                return  # still down: the request itself finds out and answers 503
            raise
        pending.clear()  # an IdentityKeyMismatch leaves it pending: every request fails (500) and logs why
