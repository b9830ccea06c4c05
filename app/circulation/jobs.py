"""Circulation's scheduled work (joins app.scheduler's one schedule)."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from app.scheduler import Job, progress


def circulation_nightly(app: Flask, sm: sessionmaker[Session], now: datetime) -> str:
    from app.circulation.service_nightly import DEFAULT_BATCH_SIZE, run_nightly

    batch_size = int(app.config.get("CIRCULATION_NIGHTLY_BATCH_SIZE", DEFAULT_BATCH_SIZE))
    workers = int(app.config.get("CIRCULATION_NIGHTLY_WORKERS", 0)) or None
    return str(run_nightly(sm, now, batch_size=batch_size, workers=workers,
                           after_batch=lambda n: progress(f"notice batch {n} committed")))


JOBS: list[Job] = [
    # Expires uncollected holds (fee), accrues fines, sends due-date and overdue notices with their
    # fees, opens invoices and collection referrals, recomputes billing bans. One transaction per
    # batch; unique keys per loan × step make a second run or a run after a crash charge nothing twice.
    Job("circulation-nightly", circulation_nightly, {"trigger": "cron", "hour": 2, "minute": 30},
        "Circulation: holds expiry, fines, notices, invoices, billing bans", own_transactions=True,
        lease=timedelta(hours=2)),
]
