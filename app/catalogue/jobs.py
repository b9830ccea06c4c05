"""The catalogue's jobs: keep lending's audiobooks in the catalogue (new, changed and withdrawn books), and
email saved searches' alerts (daily and weekly, through the outbox, once per search and period)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from app.catalogue import service
from app.scheduler import Job


def index_audiobooks(session: Session, now: datetime) -> str:
    counts = service.index_audiobooks(session, now)
    return f"{counts['indexed']} audiobooks indexed, {counts['removed']} removed"


def search_alerts(app: Flask, sm: sessionmaker[Session], now: datetime) -> str:
    from app.catalogue import alerts

    counts: dict[str, Any] = alerts.send_alerts(sm, now, app.config.get("SCHEDULER_TIMEZONE", "Europe/Helsinki"))
    return (f"{counts['sent']} alerts queued, {counts['nothing']} searches without new records, "
            f"{counts['done']} already handled")


JOBS: list[Job] = [
    Job("catalogue-index-audiobooks", index_audiobooks, {"trigger": "cron", "minute": "*/15"},
        "Catalogue: index lending's audiobooks as e-audiobook records (new, changed and withdrawn books)"),
    # Daily searches get their alert every morning, weekly ones on the first run of an ISO week.
    Job("catalogue-search-alerts", search_alerts, {"trigger": "cron", "hour": 6, "minute": 30},
        "Catalogue: email saved searches' alerts of new records (daily and weekly, once per period)",
        own_transactions=True),
]
