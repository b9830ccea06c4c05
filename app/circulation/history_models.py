"""Tables of the patron's loan history (Koha's "privacy" setting): off unless she opts in, deletable by her."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class LoanHistorySetting(Base):
    """The patron's choice; no row means she never opted in (the default: nothing is kept)."""

    __tablename__ = "circ_loan_history_settings"
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoanHistoryEntry(Base):
    """One returned loan, kept only while the patron has opted in; copied, so the loan row may be purged."""

    __tablename__ = "circ_loan_history"
    __table_args__ = (
        Index("ix_circ_loan_history_patron_returned", "patron_id", "returned_at"),
        CheckConstraint("kind IN ('loan', 'audiobook')", name="kind"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), default="loan")  # loan (physical) | audiobook
    title: Mapped[str] = mapped_column(String(300))
    record_key: Mapped[str] = mapped_column(String(80), default="")
    borrowed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime] = mapped_column(UTCDateTime)
