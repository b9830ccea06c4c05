"""The catalogue's job: keep lending's audiobooks in the catalogue (new, changed and withdrawn books)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.catalogue import service
from app.scheduler import Job


def index_audiobooks(session: Session, now: datetime) -> str:
    counts = service.index_audiobooks(session, now)
    return f"{counts['indexed']} audiobooks indexed, {counts['removed']} removed"


JOBS: list[Job] = [
    Job("catalogue-index-audiobooks", index_audiobooks, {"trigger": "cron", "minute": "*/15"},
        "Catalogue: index lending's audiobooks as e-audiobook records (new, changed and withdrawn books)"),
]
