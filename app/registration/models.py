"""Tables owned by registration: the facts of each remote registration, and API idempotency keys.

The national identity code itself is never stored: only a keyed hash (HMAC, server secret
IDENTITY_HASH_KEY) for finding a person again, the birth date, and a masked form for display.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Library, Patron, StaffUser
from app.db import Base, UTCDateTime

ELIGIBILITY_BASES = ("visual_impairment", "reading_disability", "physical_disability",
                     "intellectual_disability", "memory_disorder", "other")
FORMATS = ("audiobook", "cd_audiobook", "e_text", "braille", "tactile_picture_book")
LANGUAGES = ("fi", "sv", "en")


class Registration(Base):
    """One patron registered by a librarian of a member library. One row per person, ever."""

    __tablename__ = "registrations"
    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), unique=True)
    # The unique key that makes a second registration of the same person impossible, even at the same instant.
    national_id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    masked_national_id: Mapped[str] = mapped_column(String(11))  # 010594Y***V
    birth_date: Mapped[date] = mapped_column(Date)
    given_names: Mapped[str] = mapped_column(String(100))
    surname: Mapped[str] = mapped_column(String(100))
    street_address: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(100))
    eligibility_basis: Mapped[str] = mapped_column(String(40))
    eligibility_note: Mapped[str] = mapped_column(String(500), default="")
    preferred_formats: Mapped[list[str]] = mapped_column(JSON, default=list)
    guardian_name: Mapped[str] = mapped_column(String(200), default="")
    guardian_contact: Mapped[str] = mapped_column(String(254), default="")
    guardian_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(10), default="form")  # "form" | "api" | "demo"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    patron: Mapped[Patron] = relationship()
    library: Mapped[Library] = relationship()
    registered_by: Mapped[StaffUser | None] = relationship()


class IdempotencyKey(Base):
    """An Idempotency-Key of POST /api/v1/registrations, per staff user, kept at least 24 hours.

    In the database (not in process memory) so that every app instance gives the same answer.
    ``fingerprint`` is an HMAC of the canonical request body, so no request content is readable here.
    """

    __tablename__ = "registration_idempotency_keys"
    __table_args__ = (UniqueConstraint("staff_user_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))  # "processing" | "completed"
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
