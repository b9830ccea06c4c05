"""Setting circulation up: libraries with their preset, branches, calendar versions (immutable
history), items, and patrons' circulation data and notice choices."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import audit
from app.accounts.models import Patron
from app.circulation.calendar import BranchCalendar, CalendarVersion
from app.circulation.models import Branch, CalendarVersionRow, CircLibrary, Item, PatronCirculation
from app.circulation.money import Money
from app.circulation.presets import available_presets
from app.circulation.service_common import (
    actor_text,
    branch_calendar,
    find_branch,
    library_by_code,
    local_today,
    policy_of,
)
from app.circulation.service_notices import reschedule_patron_notices
from app.errors import DomainError

PATRON_NOTICE_CHANNELS = ("email", "sms", "letter")


def create_library(session: Session, *, code: str, name: str, preset: str, now: datetime,
                   accounts_library_id: int | None = None) -> CircLibrary:
    """A library or consortium running ``preset``; returns the existing one for a known code."""
    if preset not in available_presets():
        raise DomainError("unknown-preset", 422, preset=preset, available=available_presets())
    existing = session.scalar(select(CircLibrary).where(CircLibrary.code == code))
    if existing is not None:
        return existing
    library = CircLibrary(code=code, name=name, preset=preset, accounts_library_id=accounts_library_id,
                          created_at=now)
    session.add(library)
    session.flush()
    return library


def add_branch(session: Session, *, library_code: str, code: str, name: str, timezone: str | None = None) -> Branch:
    """A branch of the library (returns the existing one); the timezone defaults to the preset's."""
    library = library_by_code(session, library_code)
    existing = session.scalar(select(Branch).where(Branch.library_id == library.id, Branch.code == code))
    if existing is not None:
        return existing
    branch = Branch(library_id=library.id, code=code, name=name, timezone=timezone or policy_of(library).timezone)
    session.add(branch)
    session.flush()
    return branch


def add_calendar_version(session: Session, *, branch_id: int, valid_from: date, weekly: Mapping[str, str],
                         now: datetime, actor: Any, closed_dates: Iterable[date] = (),
                         exceptional_hours: Mapping[date, str] | None = None) -> CalendarVersionRow:
    """Append a calendar version. History is immutable: after the first version, a new one starts
    tomorrow or later and after every existing one, so due dates already given stay true."""
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise DomainError("not-found", 404, what="branch")
    closed = sorted(set(closed_dates))
    try:
        version = CalendarVersion.from_text(valid_from, weekly, closed, exceptional_hours or {})
        has_versions = session.scalar(select(func.count()).select_from(CalendarVersionRow)
                                      .where(CalendarVersionRow.branch_id == branch_id))
        if has_versions:
            branch_calendar(session, branch).with_version(version, today=local_today(branch.timezone, now))
        else:
            BranchCalendar(branch.code, branch.timezone, (version,))
    except ValueError as error:
        raise DomainError("calendar-invalid", 422, detail=str(error)) from None
    row = CalendarVersionRow(branch_id=branch_id, valid_from=valid_from, weekly=dict(weekly),
                             closed_dates=[day.isoformat() for day in closed],
                             exceptional_hours={day.isoformat(): hours for day, hours in (exceptional_hours or {}).items()},
                             created_at=now, created_by=actor_text(actor))
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="circulation.calendar_version", now=now, record_type="circ_branch",
                 record_id=branch_id, valid_from=valid_from.isoformat())
    return row


def add_item(session: Session, *, library_code: str, barcode: str, title: str, material_type: str,
             home_branch: str, replacement_price: Money, now: datetime, record_key: str | None = None,
             age_rating: int | None = None, is_childrens_material: bool = False, holdable: bool = True,
             transportable: bool = True) -> Item:
    """A copy on the shelf of its home branch (returns the existing item for a known barcode)."""
    existing = session.scalar(select(Item).where(Item.barcode == barcode))
    if existing is not None:
        return existing
    library = library_by_code(session, library_code)
    policy = policy_of(library)
    if material_type not in policy.material_types:
        raise DomainError("unknown-material-type", 422, material_type=material_type)
    if replacement_price.currency != policy.currency:
        raise DomainError("invalid-amount", 422, currency=policy.currency)
    branch = find_branch(session, home_branch, library.id)
    item = Item(barcode=barcode, record_key=record_key or barcode, title=title, library_id=library.id,
                material_type=material_type, age_rating=age_rating, is_childrens_material=is_childrens_material,
                holdable=holdable, transportable=transportable, replacement_price_minor=replacement_price.minor,
                currency=replacement_price.currency, home_branch_id=branch.id, current_branch_id=branch.id,
                status="available", created_at=now)
    session.add(item)
    session.flush()
    return item


def enrol_patron(session: Session, *, patron_id: int, library_code: str, category: str, home_branch: str,
                 now: datetime, actor: Any, card_expires_on: date | None = None,
                 notice_channels: Iterable[str] = ("email",), postal_address: str = "",
                 responsible_patron_id: int | None = None) -> PatronCirculation:
    """Give an accounts patron circulation data in a library (or update it). Membership counts as
    validated now [001]. Child categories need a responsible person [001]."""
    if session.get(Patron, patron_id) is None:
        raise DomainError("not-found", 404, what="patron")
    library = library_by_code(session, library_code)
    policy = policy_of(library)
    if category not in policy.categories:
        raise DomainError("unknown-category", 422, category=category, categories=sorted(policy.categories))
    channels = _channels(notice_channels)
    branch = find_branch(session, home_branch, library.id)
    circ = session.get(PatronCirculation, patron_id)
    if circ is None:
        circ = PatronCirculation(patron_id=patron_id, created_at=now, membership_validated_at=now,
                                 notices_opted_out=False, receipts_by_email=False, billing_banned=False,
                                 in_collection=False)
        session.add(circ)
    circ.library_id, circ.category, circ.home_branch_id = library.id, category, branch.id
    circ.card_expires_on, circ.notice_channels, circ.postal_address = card_expires_on, channels, postal_address
    circ.responsible_patron_id = responsible_patron_id
    session.flush()
    audit.record(session, actor=actor, action="circulation.patron_enrolled", now=now, record_type="patron",
                 record_id=patron_id, library=library.code, category=category)
    return circ


def _channels(channels: Iterable[str]) -> list[str]:
    result = list(dict.fromkeys(channels))
    unknown = set(result) - set(PATRON_NOTICE_CHANNELS)
    if unknown:
        raise DomainError("unknown-channel", 422, channels=sorted(unknown))
    return result


def set_notice_preferences(session: Session, patron_id: int, *, now: datetime, actor: Any,
                           notice_channels: Iterable[str] | None = None, advance_notice_days: int | None = None,
                           clear_advance_notice: bool = False, opted_out: bool | None = None,
                           receipts_by_email: bool | None = None, postal_address: str | None = None,
                           hold_nickname: str | None = None) -> PatronCirculation:
    """The patron's reminder settings [001,003,004]; loans are rescheduled accordingly."""
    circ = session.get(PatronCirculation, patron_id)
    library = session.get(CircLibrary, circ.library_id) if circ else None
    if circ is None or library is None:
        raise DomainError("not-found", 404, what="borrower")
    rule = policy_of(library).advance_notice
    if advance_notice_days is not None:
        if rule is None or not rule.min_days <= advance_notice_days <= rule.max_days:
            raise DomainError("advance-notice-days-invalid", 422,
                              allowed=[rule.min_days, rule.max_days] if rule else [])
        circ.advance_notice_days = advance_notice_days
    if clear_advance_notice:
        circ.advance_notice_days = None
    if notice_channels is not None:
        circ.notice_channels = _channels(notice_channels)
    if opted_out is not None:
        circ.notices_opted_out = opted_out
    if receipts_by_email is not None:
        circ.receipts_by_email = receipts_by_email
    if postal_address is not None:
        circ.postal_address = postal_address
    if hold_nickname is not None:
        circ.hold_nickname = hold_nickname.strip() or None
    session.flush()
    reschedule_patron_notices(session, patron_id, now=now)
    return circ


def revalidate_membership(session: Session, patron_id: int, *, now: datetime, actor: Any,
                          card_expires_on: date | None = None) -> PatronCirculation:
    """The 10-yearly check of the membership [001] (and optionally a new card expiry date)."""
    circ = session.get(PatronCirculation, patron_id)
    if circ is None:
        raise DomainError("not-found", 404, what="borrower")
    circ.membership_validated_at = now
    if card_expires_on is not None:
        circ.card_expires_on = card_expires_on
    audit.record(session, actor=actor, action="circulation.membership_revalidated", now=now, record_type="patron",
                 record_id=patron_id)
    session.flush()
    return circ
