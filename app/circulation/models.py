"""Tables owned by circulation: libraries with their preset, branches and calendars, items, patrons'
circulation data, loans, holds, the fee ledger, notices sent, referrals, bans and payments.

Money is always two columns: integer minor units (``*_minor``) and a currency code, never a float
or text. Every datetime is ``UTCDateTime`` (aware UTC); dates that the rules define in a branch's
local time (due day, book-drop return day, last pickup day) are stored as local dates.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime

LOAN_STATES = ("open", "returned", "lost")
# "in_repair": away for repair and coming back; not lent (checkout needs "available") nor given to a hold, but
# holds on its record may wait for it (unlike lost, damaged and withdrawn copies).
ITEM_STATES = ("available", "on_loan", "in_transit", "on_hold_shelf", "lost", "damaged", "withdrawn", "in_repair")
HOLD_STATES = ("waiting", "in_transit", "ready", "collected", "expired", "cancelled", "suspended")
ACTIVE_HOLD_STATES = ("waiting", "in_transit", "ready")
PAYMENT_STATES = ("pending", "paid", "failed")


class CircLibrary(Base):
    """A library or consortium running one policy preset (Lumme, OUTI, Tampere, the Czech library)."""

    __tablename__ = "circ_libraries"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    preset: Mapped[str] = mapped_column(String(40))  # app/circulation/presets/<preset>.toml
    # The member library in accounts whose librarians work here (optional).
    accounts_library_id: Mapped[int | None] = mapped_column(ForeignKey("libraries.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Branch(Base):
    __tablename__ = "circ_branches"
    __table_args__ = (UniqueConstraint("library_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("circ_libraries.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(60))


class CalendarVersionRow(Base):
    """One version of a branch's opening rules, in force from ``valid_from``. Never updated."""

    __tablename__ = "circ_calendar_versions"
    __table_args__ = (UniqueConstraint("branch_id", "valid_from"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("circ_branches.id"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    weekly: Mapped[dict[str, str]] = mapped_column(JSON)  # {"mon": "10:00-19:00", ...}; missing = closed
    closed_dates: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO dates
    exceptional_hours: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # ISO date → hours
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(300), default="")


class Item(Base):
    __tablename__ = "circ_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    barcode: Mapped[str] = mapped_column(String(40), unique=True)
    # Copies of one title share the record key (ISBN or catalogue id); holds are placed on it.
    record_key: Mapped[str] = mapped_column(String(80), index=True)
    title: Mapped[str] = mapped_column(String(300))
    library_id: Mapped[int] = mapped_column(ForeignKey("circ_libraries.id"), index=True)
    material_type: Mapped[str] = mapped_column(String(40))
    age_rating: Mapped[int | None] = mapped_column(Integer)  # film/game age limit (K16 = 16) [001]
    is_childrens_material: Mapped[bool] = mapped_column(Boolean, default=False)
    holdable: Mapped[bool] = mapped_column(Boolean, default=True)  # this copy; the policy may also refuse
    transportable: Mapped[bool] = mapped_column(Boolean, default=True)
    replacement_price_minor: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    home_branch_id: Mapped[int] = mapped_column(ForeignKey("circ_branches.id"))
    current_branch_id: Mapped[int] = mapped_column(ForeignKey("circ_branches.id"))
    status: Mapped[str] = mapped_column(String(20), default="available")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PatronCirculation(Base):
    """A patron's circulation data, 1:1 with accounts' Patron."""

    __tablename__ = "circ_patrons"
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("circ_libraries.id"), index=True)
    category: Mapped[str] = mapped_column(String(40))
    # The guardian of an under-15 or the responsible adult of an institution [001].
    responsible_patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id"), index=True)
    home_branch_id: Mapped[int] = mapped_column(ForeignKey("circ_branches.id"))
    card_expires_on: Mapped[date | None] = mapped_column(Date)
    membership_validated_at: Mapped[datetime] = mapped_column(UTCDateTime)  # revalidated every 10 y [001]
    # Channels the patron wants notices by, in order of preference: ["email", "sms", "letter"].
    notice_channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    postal_address: Mapped[str] = mapped_column(String(500), default="")
    advance_notice_days: Mapped[int | None] = mapped_column(Integer)  # None = no choice made
    notices_opted_out: Mapped[bool] = mapped_column(Boolean, default=False)  # [004]
    receipts_by_email: Mapped[bool] = mapped_column(Boolean, default=False)  # [001]
    hold_nickname: Mapped[str | None] = mapped_column(String(40))  # pickup-shelf identifier [001]
    # Kept in step with the ledger by every fee change and the nightly job (for lists and reports).
    billing_banned: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    in_collection: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Loan(Base):
    __tablename__ = "circ_loans"
    __table_args__ = (
        Index("ix_circ_loans_status_due_at", "status", "due_at"),
        # next_notice_on is deliberately not indexed: the nightly job reads it in one pass a day, and
        # an index would make each of its many schedule updates a non-HOT update on PostgreSQL.
        Index("ix_circ_loans_patron_id_status", "patron_id", "status"),
        # One open loan per item, whatever the application does (two desks, two requests).
        Index("uq_circ_loans_open_item", "item_id", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
        CheckConstraint("status IN ('open', 'returned', 'lost')", name="status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("circ_items.id"), index=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id"))
    library_id: Mapped[int] = mapped_column(ForeignKey("circ_libraries.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("circ_branches.id"))  # checkout branch: its calendar
    channel: Mapped[str] = mapped_column(String(20))  # desk | self_service | web | reader_app
    checked_out_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_day: Mapped[int] = mapped_column(Integer)  # local due date as date.toordinal(): SQL day arithmetic
    renewals: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="open")
    # The fine rule in force at checkout (a later preset change does not re-fine old loans).
    fine_model: Mapped[str] = mapped_column(String(20))
    fine_amount_minor: Mapped[int] = mapped_column(Integer, default=0)
    fine_cap_minor: Mapped[int | None] = mapped_column(Integer)
    grace_days: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    accrued_fine_minor: Mapped[int] = mapped_column(Integer, default=0)  # visible, not yet owed [003]
    next_notice_on: Mapped[date | None] = mapped_column(Date)  # when the nightly job looks again
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_on: Mapped[date | None] = mapped_column(Date)  # local date recorded (book drop) [001]
    return_branch_id: Mapped[int | None] = mapped_column(ForeignKey("circ_branches.id"))
    return_method: Mapped[str | None] = mapped_column(String(20))  # desk | book_drop | self_service


class Hold(Base):
    __tablename__ = "circ_holds"
    __table_args__ = (
        Index("ix_circ_holds_record_key_state", "record_key", "state"),
        Index("ix_circ_holds_patron_id_state", "patron_id", "state"),
        Index("ix_circ_holds_state_pickup_expires_at", "state", "pickup_expires_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id"))
    library_id: Mapped[int] = mapped_column(ForeignKey("circ_libraries.id"))
    record_key: Mapped[str] = mapped_column(String(80))
    pickup_branch_id: Mapped[int] = mapped_column(ForeignKey("circ_branches.id"))
    state: Mapped[str] = mapped_column(String(12), default="waiting")
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("circ_items.id"), index=True)  # assigned copy
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_pickup_day: Mapped[date | None] = mapped_column(Date)
    pickup_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hold_identifier: Mapped[str | None] = mapped_column(String(40))  # number or nickname [001]
    # A "suspended" hold (Koha's suspend) keeps its place in the queue but is not filled; it waits again from
    # this day (None: until the patron resumes it). Resumed by the nightly job.
    suspended_until: Mapped[date | None] = mapped_column(Date)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(10))  # patron | library
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # collected, expired or cancelled


class FeeEntry(Base):
    """The fee ledger: debits (positive) and credits (negative), append-only.

    A patron's balance is the sum of ``amount_minor``; a debit's outstanding part is its amount
    plus the credits that name it in ``applies_to_id``. ``dedup_key`` makes every charge that
    must happen once (a notice fee, a fine period, an expired hold) impossible to book twice.
    """

    __tablename__ = "circ_fee_entries"
    __table_args__ = (
        CheckConstraint("(entry = 'debit' AND amount_minor > 0) OR (entry = 'credit' AND amount_minor < 0)",
                        name="sign"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id"), index=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("circ_libraries.id"))
    entry: Mapped[str] = mapped_column(String(6))  # debit | credit
    kind: Mapped[str] = mapped_column(String(30))  # policy.FEE_KINDS, or payment | waiver | lost_item_returned
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(300), default="")
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("circ_loans.id"), index=True)
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("circ_holds.id"))
    notice_step: Mapped[str | None] = mapped_column(String(40))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("circ_payments.id"))
    applies_to_id: Mapped[int | None] = mapped_column(ForeignKey("circ_fee_entries.id"), index=True)
    dedup_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(300), default="")


class NoticeSent(Base):
    """A notice step handled for one loan and due date: sent (outbox key) or unreachable (no channel)."""

    __tablename__ = "circ_notices_sent"
    __table_args__ = (UniqueConstraint("loan_id", "due_date", "step_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("circ_loans.id"))
    due_date: Mapped[date] = mapped_column(Date)
    step_code: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))  # email | sms | letter | registered_letter | none
    recipient: Mapped[str] = mapped_column(String(12))  # patron | guardian
    fee_minor: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    outbox_key: Mapped[str | None] = mapped_column(String(200))
    sent_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Referral(Base):
    """An invoice or a collection referral opened by a notice step [001]."""

    __tablename__ = "circ_referrals"
    __table_args__ = (UniqueConstraint("loan_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id"), index=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("circ_loans.id"))
    kind: Mapped[str] = mapped_column(String(12))  # invoice | collection
    amount_minor: Mapped[int] = mapped_column(Integer)  # the item's replacement price
    currency: Mapped[str] = mapped_column(String(3))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Ban(Base):
    """Billing bans (history kept by recomputation) and premises bans (official decisions, ≤ 30 days) [001]."""

    __tablename__ = "circ_bans"
    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # billing | premises
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    balance_minor: Mapped[int | None] = mapped_column(Integer)  # billing: balance when it started
    currency: Mapped[str | None] = mapped_column(String(3))
    starts_on: Mapped[date | None] = mapped_column(Date)  # premises: first and last day
    ends_on: Mapped[date | None] = mapped_column(Date)
    hearing_held_on: Mapped[date | None] = mapped_column(Date)
    decided_on: Mapped[date | None] = mapped_column(Date)
    decision_maker: Mapped[str] = mapped_column(String(200), default="")
    decision_reference: Mapped[str] = mapped_column(String(100), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(300), default="")


class Payment(Base):
    """A payment at the desk or online. Online: ``pending`` until the provider's signed return or
    callback books it — once, by a conditional UPDATE on the state."""

    __tablename__ = "circ_payments"
    __table_args__ = (UniqueConstraint("provider", "provider_reference"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id"), index=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("circ_libraries.id"))
    method: Mapped[str] = mapped_column(String(10))  # desk | online
    provider: Mapped[str | None] = mapped_column(String(20))  # paytrail
    stamp: Mapped[str] = mapped_column(String(64), unique=True)  # our id for the provider
    provider_reference: Mapped[str | None] = mapped_column(String(100))  # the provider's transaction id
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    fee_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # the debits this payment covers
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    booked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(300), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# The desk's own tables (staff desk branch, desk notes) live in their module; imported here for the metadata.
# My account's tables (closed-stack copies, stack retrieval requests): imported here for the metadata.
from app.circulation.account_models import ClosedStackCopy, StackRequest  # noqa: E402,F401
from app.circulation.desk.models import DeskNote, DeskStaffBranch  # noqa: E402,F401
from app.circulation.desk.record_models import PremisesHearing  # noqa: E402,F401

# The patron's opt-in loan history (Koha's privacy setting): imported here for the metadata.
from app.circulation.history_models import LoanHistoryEntry, LoanHistorySetting  # noqa: E402,F401

# Self-service's tables (SIP2 terminals, self-service hours and standing): imported here for the metadata.
from app.circulation.sip2.models import SelfServiceBranch, SelfServicePatron, SipTerminal  # noqa: E402,F401
