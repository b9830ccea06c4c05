"""Tables for the scheduler: job locks (leases) and a log of runs."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class JobLock(Base):
    """One row per job name. A scheduler holds a job by leasing its row (works on SQLite and PostgreSQL)."""

    __tablename__ = "job_locks"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120), default="")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JobRun(Base):
    __tablename__ = "job_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), index=True)
    holder: Mapped[str] = mapped_column(String(120))
    now: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running | ok | error | skipped
    summary: Mapped[str] = mapped_column(String(1000), default="")
