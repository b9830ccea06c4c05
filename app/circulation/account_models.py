"""My account's own tables: copies kept in closed stacks, and the patrons' stack retrieval requests [003].

A copy in closed stacks is not on the open shelves: the patron asks for it from the record page ("Place
item retrieval request" [003]), the staff fetch it (being processed) and put it out for her (ready for
pickup, with the place and the last day). Imported from ``app/circulation/models.py`` for the metadata.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime

STACK_REQUEST_STATES = ("requested", "processing", "ready", "cancelled", "collected")
OPEN_STACK_REQUEST_STATES = ("requested", "processing", "ready")


class ClosedStackCopy(Base):
    """A copy kept in the closed stacks, and where (the staff's shelf mark, e.g. "Linna stacks B 2")."""

    __tablename__ = "circ_closed_stack_copies"
    item_id: Mapped[int] = mapped_column(ForeignKey("circ_items.id", ondelete="CASCADE"), primary_key=True)
    location: Mapped[str] = mapped_column(String(200))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StackRequest(Base):
    """A patron's request to fetch a copy from the closed stacks: requested (with the date) → processing →
    ready for pickup (place and last day); the patron may cancel it while it is only requested [003]."""

    __tablename__ = "circ_stack_requests"
    __table_args__ = (Index("ix_circ_stack_requests_library_state", "library_id", "state"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), index=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("circ_libraries.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("circ_items.id"))
    record_key: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(12), default="requested")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pickup_place: Mapped[str] = mapped_column(String(200), default="")
    last_pickup_day: Mapped[date | None] = mapped_column(Date)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(10))  # patron | library
