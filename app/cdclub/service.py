"""CD clubs: clubs, the computed calendar, memberships. Services flush; the caller commits.

Production runs (titles, freezing, shipping, online delivery) are in ``production.py``.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import audit
from app.accounts.models import Patron
from app.cdclub import calendar
from app.cdclub.models import (
    DELIVERY_FORMATS,
    MAX_BOOKS_PER_PERIOD,
    Club,
    ClubMember,
    ProductionRun,
    RunRecipient,
)
from app.cdclub.settings import ClubSettings
from app.errors import DomainError
from app.notify import service as notify

LANGUAGES = ("fi", "sv", "en")
_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
_FI_POSTAL_CODE = re.compile(r"^\d{5}$")


class ClubInputError(DomainError):
    """Field-level refusals: ``errors`` maps a field name to message codes (translated at the edge)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("validation-error", 422)
        self.errors = errors


@dataclass
class ClubData:
    code: str
    names: dict[str, str]
    descriptions: dict[str, str] = field(default_factory=dict)
    books_per_period: int = 3
    disc_cap: int = 14
    delivery_format: str = "cd"
    active: bool = True


@dataclass
class Address:
    recipient_name: str = ""
    street_address: str = ""
    address_extra: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "FI"

    def normalised(self) -> Address:
        country = (self.country or "FI").strip().upper()
        return Address(self.recipient_name.strip(), self.street_address.strip(), self.address_extra.strip(),
                       self.postal_code.strip().upper(), self.city.strip(), country)

    def is_complete(self) -> bool:
        return bool(self.street_address and self.postal_code and self.city)


# ---- clubs -----------------------------------------------------------------------------------

def club_errors(session: Session, data: ClubData, club: Club | None = None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not _CODE.match(data.code or ""):
        errors["code"] = ["code-format"]
    elif session.scalar(select(Club.id).where(Club.code == data.code, Club.id != (club.id if club else -1))):
        errors["code"] = ["code-taken"]
    for lang in LANGUAGES:
        if not (data.names.get(lang) or "").strip():
            errors[f"name_{lang}"] = ["required"]
    if not 1 <= data.books_per_period <= MAX_BOOKS_PER_PERIOD:
        errors["books_per_period"] = ["books-per-period-range"]
    if not 1 <= data.disc_cap <= 99:
        errors["disc_cap"] = ["disc-cap-range"]
    if data.delivery_format not in DELIVERY_FORMATS:
        errors["delivery_format"] = ["delivery-format"]
    return errors


def _apply(club: Club, data: ClubData) -> None:
    club.code = data.code
    for lang in LANGUAGES:
        setattr(club, f"name_{lang}", data.names[lang].strip())
        setattr(club, f"description_{lang}", (data.descriptions.get(lang) or "").strip())
    club.books_per_period, club.disc_cap = data.books_per_period, data.disc_cap
    club.delivery_format, club.active = data.delivery_format, data.active


def create_club(session: Session, data: ClubData, *, actor: Any, now: datetime) -> Club:
    errors = club_errors(session, data)
    if errors:
        raise ClubInputError(errors)
    club = Club(created_at=now)
    _apply(club, data)
    session.add(club)
    session.flush()
    audit.record(session, actor=actor, action="cdclub.club.created", now=now, record_type="cdclub_club",
                 record_id=club.id, code=club.code)
    return club


def update_club(session: Session, club: Club, data: ClubData, *, actor: Any, now: datetime) -> Club:
    errors = club_errors(session, data, club)
    if errors:
        raise ClubInputError(errors)
    _apply(club, data)
    session.flush()
    audit.record(session, actor=actor, action="cdclub.club.updated", now=now, record_type="cdclub_club",
                 record_id=club.id, code=club.code)
    return club


def club_data(club: Club) -> ClubData:
    return ClubData(code=club.code, names={lang: club.name(lang) for lang in LANGUAGES},
                    descriptions={lang: getattr(club, f"description_{lang}") for lang in LANGUAGES},
                    books_per_period=club.books_per_period, disc_cap=club.disc_cap,
                    delivery_format=club.delivery_format, active=club.active)


def list_clubs(session: Session, *, active_only: bool = False) -> list[Club]:
    query = select(Club).order_by(Club.name_fi)
    if active_only:
        query = query.where(Club.active.is_(True))
    return list(session.scalars(query))


def get_club(session: Session, club_id: int) -> Club:
    club = session.get(Club, club_id)
    if club is None:
        raise DomainError("not-found", 404)
    return club


def member_counts(session: Session) -> dict[int, int]:
    rows = session.execute(select(ClubMember.club_id, func.count()).where(ClubMember.status == "active")
                           .group_by(ClubMember.club_id))
    return {club_id: count for club_id, count in rows}


# ---- calendar --------------------------------------------------------------------------------

def period_by_key(settings: ClubSettings, key: str) -> calendar.Period:
    return calendar.period_by_key(key, settings.rule, settings.is_business_day)


def upcoming_periods(settings: ClubSettings, today: date, count: int = 3) -> list[calendar.Period]:
    """The next ``count`` periods still to be produced (production start today or later)."""
    return calendar.next_periods(today, count, settings.rule, settings.is_business_day)


def first_period_for(settings: ClubSettings, moment: datetime) -> calendar.Period:
    """The first period of someone joining (or resuming) at ``moment``."""
    return calendar.first_period_for_join(settings.local_date(moment), settings.rule, settings.is_business_day)


# ---- members ---------------------------------------------------------------------------------

def address_errors(address: Address, *, required: bool) -> dict[str, list[str]]:
    """Codes per field; a CD club needs a full postal address, a Finnish one a 5-digit postal code."""
    a = address.normalised()
    errors: dict[str, list[str]] = {}
    if required:
        for name in ("street_address", "postal_code", "city"):
            if not getattr(a, name):
                errors[name] = ["required"]
    if a.postal_code and a.country == "FI" and not _FI_POSTAL_CODE.match(a.postal_code):
        errors.setdefault("postal_code", []).append("postal-code-fi")
    if not re.fullmatch(r"[A-Z]{2}", a.country):
        errors["country"] = ["country-code"]
    for name, limit in (("recipient_name", 200), ("street_address", 200), ("address_extra", 200),
                        ("postal_code", 20), ("city", 100)):
        if len(getattr(a, name)) > limit:
            errors.setdefault(name, []).append("too-long")
    return errors


def membership(session: Session, club: Club, patron: Patron) -> ClubMember | None:
    return session.scalar(select(ClubMember).where(ClubMember.club_id == club.id,
                                                   ClubMember.patron_id == patron.id))


def memberships_of(session: Session, patron: Patron) -> list[ClubMember]:
    return list(session.scalars(select(ClubMember).where(ClubMember.patron_id == patron.id)
                                .order_by(ClubMember.id)))


def members_of(session: Session, club: Club, *, status: str | None = None) -> list[tuple[ClubMember, Patron]]:
    query = (select(ClubMember, Patron).join(Patron, Patron.id == ClubMember.patron_id)
             .where(ClubMember.club_id == club.id).order_by(Patron.name, Patron.id))
    if status:
        query = query.where(ClubMember.status == status)
    return [(m, p) for m, p in session.execute(query)]


def find_patron(session: Session, card_number: str) -> Patron | None:
    return session.scalar(select(Patron).where(Patron.card_number == card_number.strip().replace(" ", "")))


def get_patron(session: Session, patron_id: int) -> Patron:
    patron = session.get(Patron, patron_id)
    if patron is None:
        raise DomainError("not-found", 404)
    return patron


def get_member(session: Session, member_id: int) -> ClubMember:
    member = session.get(ClubMember, member_id)
    if member is None:
        raise DomainError("not-found", 404)
    return member


def last_address(session: Session, patron: Patron) -> Address:
    """The address of the patron's most recent club membership, to prefill a new one."""
    member = session.scalar(select(ClubMember).where(ClubMember.patron_id == patron.id,
                                                     ClubMember.street_address != "")
                            .order_by(ClubMember.created_at.desc(), ClubMember.id.desc()))
    if member is None:
        return Address(recipient_name=patron.name)
    return address_of(member)


def address_of(member: ClubMember | RunRecipient) -> Address:
    return Address(member.recipient_name, member.street_address, member.address_extra, member.postal_code,
                   member.city, member.country)


def _set_address(member: ClubMember, address: Address, patron: Patron) -> None:
    a = address.normalised()
    for name, value in asdict(a).items():
        setattr(member, name, value)
    member.recipient_name = a.recipient_name or patron.name


def _check_address(club: Club, address: Address) -> None:
    errors = address_errors(address, required=club.delivery_format == "cd")
    if errors:
        raise ClubInputError(errors)


def join_club(session: Session, club: Club, patron: Patron, *, address: Address, now: datetime, actor: Any,
              settings: ClubSettings) -> ClubMember:
    """Join (or re-join after leaving); the first period is the first whose production start is after today."""
    if not club.active:
        raise DomainError("club-closed", 409)
    _check_address(club, address)
    member = membership(session, club, patron)
    if member is not None and member.status != "left":
        raise DomainError("already-member", 409, member_id=member.id)
    first = first_period_for(settings, now)
    if member is None:
        member = ClubMember(club_id=club.id, patron_id=patron.id, created_at=now)
        session.add(member)
    member.status, member.joined_at, member.first_period = "active", now, first.key
    member.active_since, member.inactive_since = now, None
    _set_address(member, address, patron)
    session.flush()
    audit.record(session, actor=actor, action="cdclub.member.joined", now=now, record_type="cdclub_member",
                 record_id=member.id, club=club.code, first_period=first.key)
    _notify(session, member, patron, "cdclub_joined", f"cdclub-joined:{member.id}:{now.isoformat()}", now,
            first_delivery=first.delivery, first_period=first.key)
    return member


def pause_membership(session: Session, member: ClubMember, *, now: datetime, actor: Any) -> ClubMember:
    if member.status != "active":
        raise DomainError("not-active", 409)
    member.status, member.inactive_since = "paused", now
    audit.record(session, actor=actor, action="cdclub.member.paused", now=now, record_type="cdclub_member",
                 record_id=member.id)
    session.flush()
    return member


def resume_membership(session: Session, member: ClubMember, *, now: datetime, actor: Any,
                      settings: ClubSettings) -> ClubMember:
    if member.status != "paused":
        raise DomainError("not-paused", 409)
    if member.club.delivery_format == "cd" and not address_of(member).is_complete():
        raise ClubInputError({"street_address": ["required"]})
    member.status, member.active_since, member.inactive_since = "active", now, None
    audit.record(session, actor=actor, action="cdclub.member.resumed", now=now, record_type="cdclub_member",
                 record_id=member.id, next_period=first_period_for(settings, now).key)
    session.flush()
    return member


def leave_club(session: Session, member: ClubMember, *, now: datetime, actor: Any) -> list[ProductionRun]:
    """Leave; returns the runs already frozen with this member in them, which they still receive."""
    if member.status == "left":
        raise DomainError("not-a-member", 409)
    member.status, member.inactive_since = "left", now
    pending = runs_still_coming(session, member)
    audit.record(session, actor=actor, action="cdclub.member.left", now=now, record_type="cdclub_member",
                 record_id=member.id, still_receives=[r.period for r in pending])
    patron = session.get(Patron, member.patron_id)
    if patron is not None:
        _notify(session, member, patron, "cdclub_left", f"cdclub-left:{member.id}:{now.isoformat()}", now,
                still_coming=[r.delivery_date for r in pending])
    session.flush()
    return pending


def change_address(session: Session, member: ClubMember, address: Address, *, now: datetime,
                   actor: Any) -> ClubMember:
    """New address for the runs frozen from now on (frozen runs keep the address they were frozen with)."""
    _check_address(member.club, address)
    patron = session.get(Patron, member.patron_id)
    _set_address(member, address, patron)  # type: ignore[arg-type]
    audit.record(session, actor=actor, action="cdclub.member.address_changed", now=now,
                 record_type="cdclub_member", record_id=member.id)
    session.flush()
    return member


def runs_still_coming(session: Session, member: ClubMember) -> list[ProductionRun]:
    """Frozen, unshipped runs that include this member."""
    return list(session.scalars(select(ProductionRun).join(RunRecipient, RunRecipient.run_id == ProductionRun.id)
                                .where(RunRecipient.member_id == member.id, ProductionRun.state != "shipped")
                                .order_by(ProductionRun.delivery_date)))


@dataclass(frozen=True)
class MemberOutlook:
    """What a member (or staff) sees: the next delivery and the runs still coming after leaving."""

    next_delivery: date | None
    next_period: str | None
    frozen_runs: list[ProductionRun]


def member_outlook(session: Session, member: ClubMember, settings: ClubSettings, now: datetime) -> MemberOutlook:
    frozen = runs_still_coming(session, member)
    if frozen:
        return MemberOutlook(frozen[0].delivery_date, frozen[0].period, frozen)
    if member.status != "active":
        return MemberOutlook(None, None, [])
    upcoming = first_period_for(settings, max(now, member.active_since))
    if member.first_period > upcoming.key:
        upcoming = period_by_key(settings, member.first_period)
    return MemberOutlook(upcoming.delivery, upcoming.key, [])


def _notify(session: Session, member: ClubMember, patron: Patron, template: str, key: str, now: datetime,
            **context: Any) -> None:
    """Email when the patron has an address; otherwise a letter to the club address (CD clubs)."""
    club = member.club or session.get(Club, member.club_id)
    language = patron.language if patron.language in LANGUAGES else "fi"
    ctx = {"name": patron.name, "club_name": club.name(language),
           "delivery_format": club.delivery_format, **context}
    if patron.email:
        notify.enqueue(session, key=key, channel="email", recipient=patron.email, template=template,
                       language=language, context=ctx, now=now)
    elif address_of(member).is_complete():
        from app.cdclub.labels import address_lines

        notify.enqueue(session, key=key, channel="letter", recipient="\n".join(address_lines(member)),
                       template=template, language=language, context=ctx, now=now)
