"""Tables owned by the CD clubs: clubs, members, production runs with their titles and recipients.

Books are referred to by the lending catalogue's id with a snapshot of title, author and disc
count: a shipped run's pick list must stay as it was even if the catalogue changes later, so
there is deliberately no foreign key into the lending tables.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime

DELIVERY_FORMATS = ("cd", "online")
MEMBER_STATES = ("active", "paused", "left")
# planned: titles are being picked; in_production: the member list is frozen, CDs are burned;
# shipped: sent by post (CD clubs) or lent onto the members' shelves (online clubs).
RUN_STATES = ("planned", "in_production", "shipped")
MAX_BOOKS_PER_PERIOD = 5


class Club(Base):
    __tablename__ = "cdclub_clubs"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_fi: Mapped[str] = mapped_column(String(200))
    name_sv: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_fi: Mapped[str] = mapped_column(Text, default="")
    description_sv: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    books_per_period: Mapped[int] = mapped_column(Integer, default=3)
    disc_cap: Mapped[int] = mapped_column(Integer, default=14)  # discs per member per period
    delivery_format: Mapped[str] = mapped_column(String(10), default="cd")
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # inactive: no joining, no new runs
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def name(self, language: str) -> str:
        return getattr(self, f"name_{language}", "") or self.name_fi

    def description(self, language: str) -> str:
        return getattr(self, f"description_{language}", "") or self.description_fi


class ClubMember(Base):
    """A patron's membership of one club, with the postal address the CDs go to.

    ``active_since``/``inactive_since`` tell whether the member was active at a run's production
    start even when the freezing job runs a little later.
    """

    __tablename__ = "cdclub_members"
    __table_args__ = (UniqueConstraint("club_id", "patron_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    club_id: Mapped[int] = mapped_column(ForeignKey("cdclub_clubs.id", ondelete="CASCADE"), index=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="active")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_period: Mapped[str] = mapped_column(String(7))  # "YYYY-MM": the first period this member is in
    active_since: Mapped[datetime] = mapped_column(UTCDateTime)
    inactive_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    street_address: Mapped[str] = mapped_column(String(200), default="")
    address_extra: Mapped[str] = mapped_column(String(200), default="")  # c/o, apartment, PO box
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2), default="FI")  # ISO 3166-1 alpha-2
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    club: Mapped[Club] = relationship(lazy="joined")


class ProductionRun(Base):
    __tablename__ = "cdclub_runs"
    __table_args__ = (UniqueConstraint("club_id", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    club_id: Mapped[int] = mapped_column(ForeignKey("cdclub_clubs.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(7))  # "YYYY-MM", the month of delivery
    production_start: Mapped[date] = mapped_column(Date)
    delivery_date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(15), default="planned", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # member list complete
    recipient_count: Mapped[int] = mapped_column(Integer, default=0)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_by: Mapped[str] = mapped_column(String(300), default="")

    club: Mapped[Club] = relationship(lazy="joined")
    titles: Mapped[list[RunTitle]] = relationship(order_by="RunTitle.position, RunTitle.id",
                                                  cascade="all, delete-orphan", lazy="selectin")


class RunTitle(Base):
    __tablename__ = "cdclub_run_titles"
    __table_args__ = (UniqueConstraint("run_id", "book_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("cdclub_runs.id", ondelete="CASCADE"), index=True)
    book_id: Mapped[int] = mapped_column(Integer)  # lending catalogue id (no FK: see module docstring)
    title: Mapped[str] = mapped_column(String(300))
    author: Mapped[str] = mapped_column(String(300), default="")
    duration_seconds: Mapped[int] = mapped_column(Integer, default=0)
    total_bytes: Mapped[int] = mapped_column(Integer, default=0)
    discs: Mapped[int] = mapped_column(Integer, default=1)  # discs per copy
    position: Mapped[int] = mapped_column(Integer, default=0)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    added_by: Mapped[str] = mapped_column(String(300), default="")


class RunRecipient(Base):
    """A member frozen into a run: one mailing label (CD clubs) or one shelf to fill (online clubs).

    The address is copied at freezing time, so later changes reach the next run, not this one.
    """

    __tablename__ = "cdclub_run_recipients"
    __table_args__ = (UniqueConstraint("run_id", "member_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("cdclub_runs.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("cdclub_members.id", ondelete="CASCADE"), index=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), index=True)
    recipient_name: Mapped[str] = mapped_column(String(200))
    street_address: Mapped[str] = mapped_column(String(200), default="")
    address_extra: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2), default="FI")
    frozen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # online: every title lent


class OnlineDelivery(Base):
    """One title put on one member's reader-app shelf: the unique key makes re-runs lend nothing twice."""

    __tablename__ = "cdclub_online_deliveries"
    __table_args__ = (UniqueConstraint("recipient_id", "run_title_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("cdclub_run_recipients.id", ondelete="CASCADE"),
                                              index=True)
    run_title_id: Mapped[int] = mapped_column(ForeignKey("cdclub_run_titles.id", ondelete="CASCADE"))
    loan_id: Mapped[int | None] = mapped_column(Integer)  # the lending loan (None when refused)
    outcome: Mapped[str] = mapped_column(String(60))  # "lent", "already_on_loan" or the refusal reason
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
