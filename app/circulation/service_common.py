"""Shared lookups for the circulation services: policies, branches, calendars, balances, facts.

Everything here reads, except ``add_fee``, which books a charge at most once and which every
charging service uses.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app import audit
from app.accounts.models import Patron
from app.circulation.bulk import insert_once
from app.circulation.calendar import BranchCalendar, CalendarVersion
from app.circulation.decisions import PatronFacts
from app.circulation.models import (
    Ban,
    Branch,
    CalendarVersionRow,
    CircLibrary,
    FeeEntry,
    PatronCirculation,
)
from app.circulation.money import Money
from app.circulation.notices import ContactChannels
from app.circulation.policy import Policy
from app.circulation.presets import load_preset
from app.errors import DomainError


def policy_of(library: CircLibrary) -> Policy:
    return load_preset(library.preset)


def actor_text(actor: Any) -> str:
    return audit.actor_label(actor)


def local_today(timezone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def library_by_code(session: Session, code: str) -> CircLibrary:
    library = session.scalar(select(CircLibrary).where(CircLibrary.code == code))
    if library is None:
        raise DomainError("not-found", 404, what="library", code=code)
    return library


def find_branch(session: Session, ref: str, library_id: int | None = None) -> Branch:
    """A branch by ``"library/branch"``, or by its bare code within ``library_id`` (or everywhere
    when the bare code is unique)."""
    library_code, _, code = ref.rpartition("/")
    query = select(Branch).where(Branch.code == code)
    if library_code:
        query = query.join(CircLibrary, CircLibrary.id == Branch.library_id).where(CircLibrary.code == library_code)
    elif library_id is not None:
        query = query.where(Branch.library_id == library_id)
    branches = list(session.scalars(query.limit(2)))
    if not branches:
        raise DomainError("not-found", 404, what="branch", code=ref)
    if len(branches) > 1:
        raise DomainError("branch-ambiguous", 422, code=ref)
    return branches[0]


def branch_calendar(session: Session, branch: Branch) -> BranchCalendar:
    rows = session.scalars(select(CalendarVersionRow).where(CalendarVersionRow.branch_id == branch.id)
                           .order_by(CalendarVersionRow.valid_from))
    versions = tuple(calendar_version(row) for row in rows)
    if not versions:
        raise DomainError("calendar-missing", 409, branch=branch.code)
    return BranchCalendar(branch.code, branch.timezone, versions)


def calendar_version(row: CalendarVersionRow) -> CalendarVersion:
    return CalendarVersion.from_text(
        valid_from=row.valid_from,
        weekly=row.weekly,
        closed_dates=[date.fromisoformat(day) for day in row.closed_dates or []],
        exceptional_hours={date.fromisoformat(day): hours for day, hours in (row.exceptional_hours or {}).items()},
    )


def borrower(session: Session, patron_id: int) -> tuple[Patron, PatronCirculation, CircLibrary]:
    """The patron, their circulation data and library; 404 when they are not a borrower."""
    row = session.execute(
        select(Patron, PatronCirculation, CircLibrary)
        .join(PatronCirculation, PatronCirculation.patron_id == Patron.id)
        .join(CircLibrary, CircLibrary.id == PatronCirculation.library_id)
        .where(Patron.id == patron_id)
    ).first()
    if row is None:
        raise DomainError("not-found", 404, what="borrower", patron_id=patron_id)
    return row[0], row[1], row[2]


def balance_of(session: Session, patron_id: int, currency: str) -> Money:
    """Unpaid registered fees (debits minus credits); accruing fines are not in it [003]."""
    total = session.scalar(select(func.coalesce(func.sum(FeeEntry.amount_minor), 0))
                           .where(FeeEntry.patron_id == patron_id, FeeEntry.currency == currency))
    return Money(int(total or 0), currency)


def premises_ban_until(session: Session, patron_id: int, today: date) -> date | None:
    """The last day of the premises ban in force today, if any [001]."""
    return session.scalar(select(func.max(Ban.ends_on)).where(
        Ban.patron_id == patron_id, Ban.kind == "premises", Ban.lifted_at.is_(None), Ban.starts_on <= today,
        Ban.ends_on >= today))


def _bans_in_force(session: Session, patron_id: int, today: date) -> tuple[date | None, bool]:
    """The last day of the premises ban in force today, and whether a card block is in force: one statement."""
    rows = session.execute(select(Ban.kind, func.max(Ban.ends_on)).where(
        Ban.patron_id == patron_id, Ban.lifted_at.is_(None),
        or_(Ban.kind == "block", and_(Ban.kind == "premises", Ban.starts_on <= today, Ban.ends_on >= today)))
        .group_by(Ban.kind)).all()
    kinds = dict(rows)
    return kinds.get("premises"), "block" in kinds


def patron_facts(session: Session, patron: Patron, circ: PatronCirculation, policy: Policy,
                 now: datetime) -> PatronFacts:
    today = local_today(policy.timezone, now)
    premises_until, blocked = _bans_in_force(session, patron.id, today)
    return PatronFacts(
        category=circ.category,
        balance=balance_of(session, patron.id, policy.currency),
        birth_date=patron.birth_date,
        card_expires_on=circ.card_expires_on,
        membership_checked_on=local_today(policy.timezone, circ.membership_validated_at),
        premises_ban_until=premises_until,
        in_collection=circ.in_collection,
        card_blocked=blocked,
        account_closed=not patron.active,
    )


def contacts_of(patron: Patron, circ: PatronCirculation) -> ContactChannels:
    """What the patron can receive: the channels they chose that they also have details for."""
    wanted = set(circ.notice_channels or [])
    return ContactChannels(email="email" in wanted and bool(patron.email),
                           sms="sms" in wanted and bool(patron.phone),
                           postal_address="letter" in wanted and bool(circ.postal_address))


def add_fee(session: Session, *, patron_id: int, library_id: int, kind: str, amount: Money, reason: str,
            now: datetime, actor: Any, dedup_key: str | None, loan_id: int | None = None,
            hold_id: int | None = None, notice_step: str | None = None) -> bool:
    """Book a debit once; returns False when ``dedup_key`` was already booked (or nothing to charge)."""
    if not amount.is_positive:
        return False
    if dedup_key is not None and session.scalar(select(FeeEntry.id).where(FeeEntry.dedup_key == dedup_key)):
        return False
    insert_once(session, FeeEntry.__table__, [fee_row(
        patron_id=patron_id, library_id=library_id, kind=kind, amount=amount, reason=reason, now=now,
        actor=actor, dedup_key=dedup_key, loan_id=loan_id, hold_id=hold_id, notice_step=notice_step)],
        ["dedup_key"])
    session.flush()
    return True


def fee_row(*, patron_id: int, library_id: int, kind: str, amount: Money, reason: str, now: datetime, actor: Any,
            dedup_key: str | None, loan_id: int | None = None, hold_id: int | None = None,
            notice_step: str | None = None, payment_id: int | None = None,
            applies_to_id: int | None = None) -> dict[str, Any]:
    """A ledger row as a dict for bulk inserts; credits are negative amounts."""
    return {"patron_id": patron_id, "library_id": library_id, "entry": "debit" if amount.minor > 0 else "credit",
            "kind": kind, "amount_minor": amount.minor, "currency": amount.currency, "reason": reason[:300],
            "loan_id": loan_id, "hold_id": hold_id, "notice_step": notice_step, "payment_id": payment_id,
            "applies_to_id": applies_to_id, "dedup_key": dedup_key, "created_at": now,
            "actor": actor_text(actor)}
