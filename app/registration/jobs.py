"""Registration housekeeping: expired Idempotency-Keys (kept at least 24 hours) are deleted."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.registration import idempotency
from app.scheduler import Job


def purge_idempotency_keys(session: Session, now: datetime) -> dict[str, int]:
    return {"idempotency keys": idempotency.purge_expired(session, now)}


JOBS = [
    # Deletes API Idempotency-Keys past their expiry; deleting twice deletes nothing more.
    Job("registration-purge-idempotency-keys", purge_idempotency_keys, {"trigger": "cron", "minute": 40},
        "Delete expired Idempotency-Keys of the registration API"),
]
