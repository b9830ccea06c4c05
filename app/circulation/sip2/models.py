"""Tables of self-service: SIP2 terminals, branches' self-service hours and patrons' self-service standing."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class SipTerminal(Base):
    """A self-service machine (kiosk, sorter, door controller): an account of its own, bound to a branch."""

    __tablename__ = "sip_terminals"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    branch_id: Mapped[int] = mapped_column(ForeignKey("circ_branches.id"), index=True)
    language: Mapped[str] = mapped_column(String(5), default="fi")  # of the AF screen messages
    charset: Mapped[str] = mapped_column(String(10), default="utf-8")  # utf-8 | cp850
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last successful 93 (admin page)


class SelfServiceBranch(Base):
    """A branch that is open to card + PIN outside staffed hours [001]: its daily self-service hours."""

    __tablename__ = "selfservice_branches"
    branch_id: Mapped[int] = mapped_column(ForeignKey("circ_branches.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    opens: Mapped[str] = mapped_column(String(5))  # "07:00", local time of the branch
    closes: Mapped[str] = mapped_column(String(5))  # "22:00"
    # Suomenniemi's different door [001]: patrons must be activated at the desk first.
    requires_activation: Mapped[bool] = mapped_column(Boolean, default=False)
    minimum_age: Mapped[int] = mapped_column(Integer, default=15)  # younger ones need a guardian's consent


class SelfServicePatron(Base):
    """A patron's self-service standing: terms, a guardian's consent, activation, a blocked card."""

    __tablename__ = "selfservice_patrons"
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), primary_key=True)
    terms_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    guardian_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    card_blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # SIP2 01: card retained/lost
    block_reason: Mapped[str] = mapped_column(String(200), default="")
