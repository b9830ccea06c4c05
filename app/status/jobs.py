"""Scheduled work of the status page; every job is safe to run twice (states are computed from the
clock, timeline entries and messages carry unique keys)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy.orm import Session, sessionmaker

from app.scheduler import Job


def move_maintenances(app: Flask, sm: sessionmaker[Session], now: datetime) -> str:
    """Write down starts and ends the clock has reached; tell people a window is over; renew the copy."""
    from app.status import service, snapshot

    with sm.begin() as session:
        moved = service.move_maintenances(session, now)
    if moved:
        snapshot.publish(app)
    return f"{moved} moved"


def send_notices(session: Session, now: datetime) -> str:
    from app.status import notices

    days = float(current_app.config.get("STATUS_NOTICE_DAYS", 21))
    return f"{notices.send_advance_notices(session, now, days)} messages"


def render_snapshot(app: Flask, sm: sessionmaker[Session], now: datetime) -> Any:
    from app.status import snapshot

    return f"{snapshot.publish(app)} files"


JOBS: list[Job] = [
    # Starts and ends planned windows in the record (readers already compute them from the clock).
    Job("status-move-maintenance", move_maintenances, {"trigger": "interval", "minutes": 1},
        "Move maintenance windows to in progress / completed at their start and end", own_transactions=True,
        lease=timedelta(minutes=5)),
    # Advance notices STATUS_NOTICE_DAYS ahead to every patron with email, and reminders the day before.
    Job("status-send-notices", send_notices, {"trigger": "interval", "minutes": 15},
        "Send advance notices and day-before reminders of maintenance breaks"),
    # Static copies of /status, /api/v2/*.json and the feeds in the media store, for when the database is down.
    Job("status-render-snapshot", render_snapshot, {"trigger": "interval", "minutes": 5},
        "Render the status page, JSON and feeds to static files in the media store", own_transactions=True,
        lease=timedelta(minutes=5)),
]
