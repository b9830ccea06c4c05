"""Tables of the desk's back office: where a copy stands on the shelf (copies added at the desk) and the
printed batches of the letters queue (which letters each day's batch holds, so a reprint is the same
batch and nothing is marked twice)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class ItemShelf(Base):
    """The shelf location of a copy added at the desk ("Aikuisten romaanit, K")."""

    __tablename__ = "circ_item_shelves"
    item_id: Mapped[int] = mapped_column(ForeignKey("circ_items.id", ondelete="CASCADE"), primary_key=True)
    shelf_location: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LetterBatch(Base):
    """One printed batch of letters: the letters of one day (local date of their creation) printed together."""

    __tablename__ = "circ_letter_batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    letter_count: Mapped[int] = mapped_column(Integer, default=0)
    printed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    printed_by: Mapped[str] = mapped_column(String(300), default="")


class LetterBatchLetter(Base):
    """A letter (an outbox message on the letter channel) in its batch; a letter is in one batch only."""

    __tablename__ = "circ_letter_batch_letters"
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("circ_letter_batches.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
