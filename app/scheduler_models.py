"""Tables for the scheduler: job locks (leases kept alive by a heartbeat) and a log of runs."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class JobLock(Base):
    """One row per job name. A run holds its job while its heartbeat keeps ``locked_until`` ahead of the
    clock (works on SQLite and PostgreSQL); every column but ``name`` and ``holder`` is NULL when free."""

    __tablename__ = "job_locks"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120), default="")  # "host:pid" of the holder, for people
    # The last heartbeat + JOB_STALE_SECONDS: past it the holder counts as dead.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The holding run's random id: heartbeats, release and take-overs compare it.
    token: Mapped[str | None] = mapped_column(String(32))
    pid: Mapped[int | None] = mapped_column(Integer)
    # Host, boot and PID namespace in which ``pid`` names the holder: only there can its death be seen.
    pid_scope: Mapped[str | None] = mapped_column(String(200))
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


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
