"""Tables owned by accounts: member libraries, staff users and roles, patrons, tokens, throttles."""
from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime

ROLES = ("librarian", "reviewer", "producer", "status_editor", "admin", "circulation", "circulation-supervisor")
PATRON_KINDS = ("person", "institution")


class Library(Base):
    """A member library (or consortium member) whose librarians use Kuulo."""

    __tablename__ = "libraries"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    municipality: Mapped[str] = mapped_column(String(100), default="")


class StaffUser(UserMixin, Base):
    is_staff = True

    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    library_id: Mapped[int | None] = mapped_column(ForeignKey("libraries.id"))
    language: Mapped[str] = mapped_column(String(5), default="fi")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # TOTP second factor (app/accounts/totp.py): the secret, encrypted; set at enrolment, in use once a code
    # was verified (``totp_enabled_at``); the last accepted time step, so a code works only once.
    totp_secret: Mapped[str | None] = mapped_column(String(300))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    library: Mapped[Library | None] = relationship()
    role_rows: Mapped[list[StaffRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def roles(self) -> set[str]:
        return {r.role for r in self.role_rows}

    def get_id(self) -> str:
        return f"s:{self.id}"


class StaffRole(Base):
    __tablename__ = "staff_roles"
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(30), primary_key=True)


class Patron(UserMixin, Base):
    """A borrower account: a person or an institution, identified by its library card number."""

    __tablename__ = "patrons"
    id: Mapped[int] = mapped_column(primary_key=True)
    card_number: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="person")
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    language: Mapped[str] = mapped_column(String(5), default="fi")
    home_library_id: Mapped[int | None] = mapped_column(ForeignKey("libraries.id"))
    # Keyed hash of the national identity code (app/accounts/identity.py): one patron per person.
    national_id_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    birth_date: Mapped[date | None] = mapped_column(Date)
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    home_library: Mapped[Library | None] = relationship()

    is_staff = False

    def get_id(self) -> str:
        return f"p:{self.id}"


class ApiToken(Base):
    """Bearer tokens: reader-app device tokens (patron) and API tokens (staff). Only a hash is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), index=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OneTimeLink(Base):
    """A one-time link to set or reset a password/PIN. Only a hash of the secret is stored."""

    __tablename__ = "one_time_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(30))  # "reset" | "set_credentials"
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"))
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginThrottle(Base):
    """Failed login attempts per subject (card number or staff email), shared by all app instances."""

    __tablename__ = "login_throttles"
    __table_args__ = (UniqueConstraint("subject"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(300))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Counter(Base):
    """Named counters (card numbers …) incremented atomically in the database."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


# Library cards (several per account, lost cards) live in their module; imported here for the metadata.
from app.accounts.cards import LibraryCard  # noqa: E402,F401
