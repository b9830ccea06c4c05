"""Wrong-PIN/password throttling per account, kept in the database so every app instance sees it.

A 4-digit PIN has 10,000 values: after LOGIN_MAX_FAILURES wrong attempts within the window the
account is locked for LOGIN_LOCKOUT_MINUTES, and while locked even the right PIN is refused. Only
existing accounts have a row (the caller counts no failure for a string that is no card number or
staff email), so the table is no larger than the number of accounts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from app import audit, db
from app.accounts.models import LoginThrottle


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int = 10
    window: timedelta = timedelta(minutes=60)
    lockout: timedelta = timedelta(minutes=30)


def locked_until(session: Session, subject: str, now: datetime) -> datetime | None:
    row = session.scalar(select(LoginThrottle).where(LoginThrottle.subject == subject))
    if row is not None and row.locked_until is not None and row.locked_until > now:
        return row.locked_until
    return None


def register_failure(session: Session, subject: str, now: datetime, policy: ThrottlePolicy,
                     audit_label: str) -> datetime | None:
    """Count one failure of an existing account; returns the lock's end when the account is locked.

    The row is created if need be (ON CONFLICT DO NOTHING: two first failures at once do not collide) and
    read FOR UPDATE, fresh, so concurrent failures count one after another. A failure that finds the account
    locked already — it passed ``locked_until`` before another request set the lock — changes nothing: the
    lock is audited once and its end is never pushed forward.
    """
    session.execute(db.insert_ignoring_conflicts(session, LoginThrottle.__table__),
                    {"subject": subject, "failures": 0, "window_started_at": now, "locked_until": None})
    row = session.scalars(_FOR_UPDATE, {"subject": subject}).one()
    if row.locked_until is not None and row.locked_until > now:
        return row.locked_until
    if now - row.window_started_at > policy.window or row.locked_until is not None:
        row.failures, row.window_started_at, row.locked_until = 0, now, None
    row.failures += 1
    if row.failures >= policy.max_failures:
        row.locked_until = now + policy.lockout
        audit.record(session, actor="system:login-throttle", action="account.locked", now=now,
                     record_type="login", record_id=audit_label, failures=row.failures,
                     locked_until=row.locked_until.isoformat())
    session.flush()
    return row.locked_until


# populate_existing: the row may sit in the session from ``locked_until``, read before another
# transaction counted its failure; the locked read must see that transaction's values.
_FOR_UPDATE = (select(LoginThrottle).where(LoginThrottle.subject == bindparam("subject")).with_for_update()
               .execution_options(populate_existing=True))


def clear(session: Session, subject: str) -> None:
    session.execute(delete(LoginThrottle).where(LoginThrottle.subject == subject))
