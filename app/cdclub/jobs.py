"""The CD club jobs. Both manage their own small transactions and are safe to run again at any time.

They keep running during maintenance windows: the gate closes web routes, never the scheduler [002].
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from app.cdclub import production, settings
from app.scheduler import Job


def open_production_runs(app: Flask, sm: sessionmaker[Session], now: datetime) -> str:
    return production.open_due_runs(sm, now, settings.from_config(app.config))


def deliver_runs(app: Flask, sm: sessionmaker[Session], now: datetime) -> str:
    return production.deliver_due_runs(sm, now, settings.from_config(app.config))


JOBS: list[Job] = [
    # Hourly: on a period's production start, freeze each club's member list and open the run.
    Job("cdclub-open-production-runs", open_production_runs, {"trigger": "cron", "minute": 5},
        "CD clubs: open the production runs whose production start has come (freeze the member lists)",
        own_transactions=True, lease=timedelta(minutes=50)),
    # Hourly: on a period's delivery date, lend online titles onto members' shelves and mark runs shipped.
    Job("cdclub-deliver-runs", deliver_runs, {"trigger": "cron", "minute": 35},
        "CD clubs: on the delivery date, lend online club titles and mark runs shipped",
        own_transactions=True, lease=timedelta(minutes=50)),
]
