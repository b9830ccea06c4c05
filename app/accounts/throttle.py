"""Wrong-PIN/password throttling per subject, kept in the database so every app instance sees it.

A 4-digit PIN has 10,000 values: after LOGIN_MAX_FAILURES wrong attempts within the window the
subject is locked for LOGIN_LOCKOUT_MINUTES, and while locked even the right PIN is refused.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app import audit
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
    """Count one failure; returns the lock end when this failure locks the subject."""
    row = session.scalar(select(LoginThrottle).where(LoginThrottle.subject == subject).with_for_update())
    if row is None:
        row = LoginThrottle(subject=subject, failures=0, window_started_at=now)
        session.add(row)
    if now - row.window_started_at > policy.window or (row.locked_until and row.locked_until <= now):
        row.failures, row.window_started_at, row.locked_until = 0, now, None
    row.failures += 1
    session.flush()
    if row.failures >= policy.max_failures:
        row.locked_until = now + policy.lockout
        audit.record(session, actor="system:login-throttle", action="account.locked", now=now,
                     record_type="login", record_id=audit_label, failures=row.failures,
                     locked_until=row.locked_until.isoformat())
        return row.locked_until
    return None


def clear(session: Session, subject: str) -> None:
    session.execute(delete(LoginThrottle).where(LoginThrottle.subject == subject))
