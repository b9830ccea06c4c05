"""Lending's scheduled jobs (joined into the one schedule in app/scheduler.py). Both are safe to run twice."""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from app.lending import service
from app.scheduler import Job


def expire_loans(session: Session, now: datetime) -> str:
    return f"{service.expire_loans(session, now)} loans ended"


def forget_old_loans(session: Session, now: datetime) -> str:
    days = int(current_app.config.get("LENDING_LOAN_HISTORY_DAYS", 90))
    return f"{service.purge_loan_history(session, now, days)} ended loans forgotten"


def forget_player_sessions(session: Session, now: datetime) -> str:
    from app.lending.dodp import service as dodp

    return f"{dodp.purge_sessions(session, now)} DAISY Online sessions forgotten"


JOBS: list[Job] = [
    # Loans already read as ended once `until` passes; this records it (ended_at, frees the active slot).
    Job("lending-expire-loans", expire_loans, {"trigger": "interval", "minutes": 10},
        "Record the end of e-loans whose loan period is over"),
    # Privacy: what a patron listened to is kept only as long as it is useful (LENDING_LOAN_HISTORY_DAYS).
    Job("lending-forget-old-loans", forget_old_loans, {"trigger": "cron", "hour": 3, "minute": 40},
        "Delete e-loans that ended more than LENDING_LOAN_HISTORY_DAYS ago"),
    # DAISY players' sessions (app/lending/dodp): ended or expired ones are dropped a day later.
    Job("dodp-forget-sessions", forget_player_sessions, {"trigger": "cron", "hour": 3, "minute": 50},
        "Delete DAISY Online player sessions that ended or expired more than a day ago"),
]
