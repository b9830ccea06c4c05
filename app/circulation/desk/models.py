"""Desk tables: which branch a staff member works at, and notes for the desk on a patron."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class DeskStaffBranch(Base):
    """The branch whose desk a staff member works at (checkouts and returns are made there)."""

    __tablename__ = "circ_desk_staff_branches"
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("circ_branches.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeskNote(Base):
    """A note for the desk on a patron ("prefers large print", "guardian collects holds")."""

    __tablename__ = "circ_desk_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(300), default="")
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    staff_user_id: Mapped[int | None] = mapped_column(Integer)  # who wrote it (no FK: staff may be removed)
from app.circulation.desk.ops_models import ItemShelf, LetterBatch, LetterBatchLetter  # noqa: E402,F401  (desk back office)
