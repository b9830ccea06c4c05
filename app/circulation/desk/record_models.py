"""Tables of the patron record at the desk: the hearing that must precede a premises ban [001].

(A card block is a ``Ban`` row of kind "block"; a premises ban a ``Ban`` of kind "premises".)
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class PremisesHearing(Base):
    """The patron was heard before a premises ban was decided ("Ennen kiellon antamista asiakasta on
    kuultava" [001]). A ban names the hearing it follows; a hearing serves one ban."""

    __tablename__ = "circ_premises_hearings"
    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    heard_by: Mapped[str] = mapped_column(String(200))  # the official who heard the patron
    summary: Mapped[str] = mapped_column(Text, default="")  # what the patron said
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(300), default="")
    ban_id: Mapped[int | None] = mapped_column(ForeignKey("circ_bans.id"))  # the ban decided after it
    staff_user_id: Mapped[int | None] = mapped_column(Integer)
