"""Tables owned by institutions: applications, their messages and documents, and approved accounts.

Identity codes of responsible persons are never stored in clear: a keyed hash (for lookups) and a
masked form (for display) only (app/accounts/identity.py).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Patron, StaffUser
from app.db import Base, UTCDateTime

INSTITUTION_TYPES = ("school", "daycare", "care_home", "library", "other")
# submitted → in_review (claimed) → needs_information (clock paused) → approved | rejected
STATES = ("submitted", "in_review", "needs_information", "approved", "rejected")
OPEN_STATES = ("submitted", "in_review", "needs_information")
DECIDED_STATES = ("approved", "rejected")


class InstitutionApplication(Base):
    __tablename__ = "institution_applications"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default="submitted", index=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    business_id: Mapped[str] = mapped_column(String(9), index=True)  # Y-tunnus as 1234567-8
    street_address: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(5), default="fi")  # for the emails to the applicant
    rp_given_names: Mapped[str] = mapped_column(String(100))
    rp_surname: Mapped[str] = mapped_column(String(100))
    rp_national_id_hash: Mapped[str] = mapped_column(String(64), index=True)
    rp_national_id_masked: Mapped[str] = mapped_column(String(11))
    rp_birth_date: Mapped[date] = mapped_column(Date)
    rp_email: Mapped[str] = mapped_column(String(254))
    rp_phone: Mapped[str] = mapped_column(String(40), default="")
    consent_text_version: Mapped[str] = mapped_column(String(20))
    consent_given_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # While waiting for the applicant the clock stops: the pause start, and the business days paused so far.
    information_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_business_days: Mapped[int] = mapped_column(Integer, default=0)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    processing_business_days: Mapped[int | None] = mapped_column(Integer)  # set at the decision
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id"))  # the account made on approval

    claimed_by: Mapped[StaffUser | None] = relationship(foreign_keys=[claimed_by_id])
    decided_by: Mapped[StaffUser | None] = relationship(foreign_keys=[decided_by_id])
    patron: Mapped[Patron | None] = relationship()
    messages: Mapped[list[ApplicationMessage]] = relationship(
        back_populates="application", order_by="ApplicationMessage.id", cascade="all, delete-orphan")
    links: Mapped[list[ApplicantLink]] = relationship(back_populates="application", cascade="all, delete-orphan")
    documents: Mapped[list[ApplicationDocument]] = relationship(
        back_populates="application", order_by="ApplicationDocument.id", cascade="all, delete-orphan")

    @property
    def reference(self) -> str:
        """The number the applicant and the reviewers talk about."""
        return f"L-{self.id:06d}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def claim_is_live(self, now: datetime) -> bool:
        return (self.state == "in_review" and self.claimed_by_id is not None
                and self.claim_expires_at is not None and self.claim_expires_at >= now)


class ApplicantLink(Base):
    """A private link for the applicant to follow the application and answer questions.

    Each email carries a fresh random token (only its SHA-256 is kept), and every link given
    to the applicant keeps working, so an older email still leads to the application.
    """

    __tablename__ = "institution_applicant_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("institution_applications.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    application: Mapped[InstitutionApplication] = relationship(back_populates="links")


class ApplicationMessage(Base):
    """An information request from a reviewer, or the applicant's answer."""

    __tablename__ = "institution_application_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("institution_applications.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "request" | "answer"
    text: Mapped[str] = mapped_column(Text)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    application: Mapped[InstitutionApplication] = relationship(back_populates="messages")
    staff_user: Mapped[StaffUser | None] = relationship()


class ApplicationDocument(Base):
    """A signed consent (or another document) uploaded by the applicant, kept in the media store."""

    __tablename__ = "institution_application_documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("institution_applications.id", ondelete="CASCADE"), index=True)
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    application: Mapped[InstitutionApplication] = relationship(back_populates="documents")


class InstitutionAccount(Base):
    """An approved institution: its patron account and the link to its adult responsible person.

    Several institutions may share a business ID (a municipality's schools all carry the city's
    Y-tunnus), so the business ID is indexed, not unique: a reviewer sees such duplicates and decides.
    """

    __tablename__ = "institution_accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("institution_applications.id"), unique=True)
    business_id: Mapped[str] = mapped_column(String(9), index=True)
    type: Mapped[str] = mapped_column(String(20))
    street_address: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(100))
    rp_name: Mapped[str] = mapped_column(String(200))
    rp_national_id_hash: Mapped[str] = mapped_column(String(64), index=True)
    rp_national_id_masked: Mapped[str] = mapped_column(String(11))
    rp_birth_date: Mapped[date] = mapped_column(Date)
    rp_email: Mapped[str] = mapped_column(String(254))
    rp_phone: Mapped[str] = mapped_column(String(40), default="")
    # The responsible person's own patron account, when they have one (bans are checked on it).
    responsible_patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    patron: Mapped[Patron] = relationship(foreign_keys=[patron_id])
    responsible_patron: Mapped[Patron | None] = relationship(foreign_keys=[responsible_patron_id])


REPLY_KINDS = ("question", "rejection")


class ReviewReply(Base):
    """A canned reply reviewers pick when asking the applicant something or rejecting: its text in each
    language (the applicant's is sent). Admins keep them; a retired one is hidden, never deleted."""

    __tablename__ = "institution_review_replies"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "question" | "rejection"
    title: Mapped[str] = mapped_column(String(120))  # what reviewers see in the list
    text_fi: Mapped[str] = mapped_column(Text)
    text_sv: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def text_in(self, language: str) -> str:
        """The text in ``language``, or the Finnish one when that language's is empty."""
        return getattr(self, f"text_{language}", "") or self.text_fi
