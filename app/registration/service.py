"""Remote registration of patrons by librarians: register (duplicates answered), look up, export.

Services flush and never commit (the view or API route owns the transaction). The identity code
is only ever held in memory: the database keeps its keyed hash, the birth date and a masked form.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, insert, or_, select
from sqlalchemy.orm import Session

from app import audit
from app.accounts import service as accounts
from app.accounts.identity import identity_hash
from app.accounts.models import Library, Patron, StaffUser
from app.notify import service as notify
from app.registration.models import Registration
from app.registration.validation import (
    FieldError,
    IdentityCode,
    RegistrationInput,
    RegistrationInvalid,
    parse_identity_code,
    validate_registration,
)

FINNISH_TIME = ZoneInfo("Europe/Helsinki")  # identity codes carry Finnish birth dates


@dataclass(frozen=True)
class RegistrationSettings:
    identity_key: str  # app.config["IDENTITY_HASH_KEY"]
    base_url: str
    link_hours: int  # lifetime of the one-time set-PIN link in the credentials email


@dataclass(frozen=True)
class Registered:
    """What librarians and library systems are told about a registered patron, new or found."""

    patron_id: int
    name: str
    card_number: str
    email: str
    birth_date: date | None
    masked_national_id: str | None  # None: a patron not registered through Kuulo's registration
    registered_at: datetime
    library_name: str
    registered_by_id: int | None


@dataclass(frozen=True)
class PatronRecord:
    """A patron as librarians see them: the account and, when registered here, the registration facts."""

    patron: Patron
    registration: Registration | None

    @property
    def registered_at(self) -> datetime:
        return self.registration.created_at if self.registration else self.patron.created_at

    @property
    def library_name(self) -> str:
        library = self.registration.library if self.registration else self.patron.home_library
        return library.name if library else ""

    @property
    def facts(self) -> Registered:
        p, r = self.patron, self.registration
        return Registered(p.id, p.name, p.card_number, p.email, p.birth_date, r.masked_national_id if r else None,
                          self.registered_at, self.library_name, r.registered_by_id if r else None)


@dataclass(frozen=True)
class RegistrationOutcome:
    created: bool
    registered: Registered
    by_same_staff: bool = False  # an answered duplicate that this librarian registered (double click)


class NoLibrary(Exception):
    """The staff user belongs to no member library, so there is no registering library."""


def local_date(now: datetime) -> date:
    return now.astimezone(FINNISH_TIME).date()


def _identity_or_none(raw: Any, today: date) -> IdentityCode | None:
    try:
        return parse_identity_code(raw, today)
    except FieldError:  # the full validation below reports it, next to the field
        return None


# Registration's hot path is Core statements built once: the ORM's unit of work cost more than the SQL.
_P, _R = Patron.__table__, Registration.__table__
_REG_LIBRARY, _HOME_LIBRARY = Library.__table__.alias("registering_library"), Library.__table__.alias("home_library")
_REGISTERED = (select(_P.c.id, _P.c.name, _P.c.card_number, _P.c.email, _P.c.birth_date, _R.c.masked_national_id,
                      func.coalesce(_R.c.created_at, _P.c.created_at),
                      func.coalesce(_REG_LIBRARY.c.name, _HOME_LIBRARY.c.name, ""), _R.c.registered_by_id)
               .select_from(_P.outerjoin(_R, _R.c.patron_id == _P.c.id)
                            .outerjoin(_REG_LIBRARY, _REG_LIBRARY.c.id == _R.c.library_id)
                            .outerjoin(_HOME_LIBRARY, _HOME_LIBRARY.c.id == _P.c.home_library_id)))
_REGISTERED_BY_HASH = _REGISTERED.where(_P.c.national_id_hash == bindparam("id_hash"))
_REGISTERED_BY_CARD = _REGISTERED.where(_P.c.card_number == bindparam("card"), _P.c.kind == "person")
_INSERT_REGISTRATION = insert(_R)


def registered(session: Session, id_hash: str) -> Registered | None:
    """The facts of the patron with this identity-code hash, or None."""
    row = session.execute(_REGISTERED_BY_HASH, {"id_hash": id_hash}).first()
    return Registered(*row) if row is not None else None


def register_patron(session: Session, raw: Mapping[str, Any], *, staff: StaffUser, now: datetime,
                    settings: RegistrationSettings, channel: str = "form") -> RegistrationOutcome:
    """Register the person, or answer with the patron already registered under the same identity code.

    An identity code already registered is an answer even when other fields are off. The unique key on
    the code's hash decides races: the patron insert does nothing when the hash is taken (after waiting
    for a concurrent transaction that holds it), and the winner is read and answered.
    Raises RegistrationInvalid (field → codes) or NoLibrary.
    """
    if staff.library is None:
        raise NoLibrary()
    today = local_date(now)
    identity = _identity_or_none(raw.get("national_id"), today)
    if identity is not None:
        existing = registered(session, identity_hash(settings.identity_key, identity.value))
        if existing is not None:
            return _answer_existing(session, existing, staff, now)
    data = validate_registration(raw, today)
    id_hash = identity_hash(settings.identity_key, data.identity.value)
    made = _insert(session, data, id_hash, staff=staff, now=now, channel=channel)
    if made is None:  # registered by a concurrent request a moment ago
        existing = registered(session, id_hash)
        assert existing is not None  # the hash was taken by a committed patron
        return _answer_existing(session, existing, staff, now)
    _send_credentials(session, made, data.language, settings, now)
    return RegistrationOutcome(True, made)


def _insert(session: Session, data: RegistrationInput, id_hash: str, *, staff: StaffUser, now: datetime,
            channel: str) -> Registered | None:
    library = staff.library
    assert library is not None
    ids = accounts.insert_patron(session, name=data.full_name, now=now, email=data.email, phone=data.phone,
                                 language=data.language, kind="person", home_library_id=library.id,
                                 national_id_hash=id_hash, birth_date=data.identity.birth_date)
    if ids is None:
        return None
    patron_id, card_number = ids
    session.execute(_INSERT_REGISTRATION, {
        "patron_id": patron_id, "national_id_hash": id_hash, "masked_national_id": data.identity.masked,
        "birth_date": data.identity.birth_date, "given_names": data.given_names, "surname": data.surname,
        "street_address": data.street_address, "postal_code": data.postal_code, "city": data.city,
        "eligibility_basis": data.eligibility_basis, "eligibility_note": data.eligibility_note,
        "preferred_formats": list(data.preferred_formats), "guardian_name": data.guardian_name,
        "guardian_contact": data.guardian_contact, "guardian_consent": data.guardian_consent,
        "library_id": library.id, "registered_by_id": staff.id, "channel": channel, "created_at": now})
    audit.write(session,
                audit.event(actor=staff, action="patron.created", now=now, record_type="patron", record_id=patron_id,
                            kind="person"),
                audit.event(actor=staff, action="registration.created", now=now, record_type="patron",
                            record_id=patron_id, library=library.code, channel=channel,
                            under_guardian=data.under_guardian))
    return Registered(patron_id, data.full_name, card_number, data.email, data.identity.birth_date,
                      data.identity.masked, now, library.name, staff.id)


def _answer_existing(session: Session, found: Registered, staff: StaffUser, now: datetime) -> RegistrationOutcome:
    audit.write(session, audit.event(actor=staff, action="registration.duplicate_answered", now=now,
                                     record_type="patron", record_id=found.patron_id))
    return RegistrationOutcome(False, found, by_same_staff=found.registered_by_id == staff.id)


def credentials_key(patron_id: int) -> str:
    return f"registration-credentials:patron:{patron_id}"


def _send_credentials(session: Session, patron: Registered, language: str, settings: RegistrationSettings,
                      now: datetime) -> None:
    """The card number and a one-time link to set a PIN — never a PIN — once per patron (outbox key)."""
    raw = accounts.create_one_time_link(session, purpose="set_credentials", now=now, hours=settings.link_hours,
                                        patron_id=patron.patron_id)
    notify.enqueue(session, key=credentials_key(patron.patron_id), channel="email", recipient=patron.email,
                   template="registration_credentials", language=language, now=now,
                   context={"name": patron.name, "card_number": patron.card_number,
                            "link": f"{settings.base_url}/reset/{raw}",
                            "days": max(1, settings.link_hours // 24)})


# ----------------------------------------------------------------- lookups for librarians

def find_by_identity_code(session: Session, raw_code: str, *, staff: StaffUser, now: datetime,
                          settings: RegistrationSettings) -> Registered | None:
    """Raises RegistrationInvalid for a malformed code. Every lookup is audited (found or not)."""
    try:
        identity = parse_identity_code(raw_code, local_date(now))
    except FieldError as err:
        raise RegistrationInvalid({"national_id": [err.code]}) from err
    found = registered(session, identity_hash(settings.identity_key, identity.value))
    _audit_lookup(session, staff, now, "identity_code", found)
    return found


def find_by_card_number(session: Session, card_number: str, *, staff: StaffUser, now: datetime) -> Registered | None:
    row = session.execute(_REGISTERED_BY_CARD, {"card": "".join((card_number or "").split())}).first()
    found = Registered(*row) if row is not None else None
    _audit_lookup(session, staff, now, "card_number", found)
    return found


def _audit_lookup(session: Session, staff: StaffUser, now: datetime, method: str, found: Registered | None) -> None:
    audit.record(session, actor=staff, action="registration.looked_up", now=now, record_type="patron",
                 record_id=found.patron_id if found else "", method=method, found=found is not None)


def registration_of(session: Session, patron_id: int) -> Registration | None:
    return session.scalar(select(Registration).where(Registration.patron_id == patron_id))


def patron_record(session: Session, patron_id: int, *, staff: StaffUser, now: datetime) -> PatronRecord | None:
    patron = session.get(Patron, patron_id)
    if patron is None or patron.kind != "person":
        return None
    audit.record(session, actor=staff, action="registration.viewed", now=now, record_type="patron",
                 record_id=patron.id)
    return PatronRecord(patron, registration_of(session, patron.id))


# ----------------------------------------------------------------- right of access

def patron_data(session: Session, patron: Patron, *, now: datetime) -> dict[str, Any]:
    """Everything Kuulo's accounts and registration hold about a patron, as JSON-ready data (GDPR art. 15)."""
    from app.notify.models import OutboxMessage

    registration = registration_of(session, patron.id)
    messages = session.scalars(select(OutboxMessage).where(or_(
        OutboxMessage.key.like(f"%:patron:{patron.id}"), OutboxMessage.key.like(f"%:patron:{patron.id}:%")))
        .order_by(OutboxMessage.created_at)).all()
    events = audit.events(session, record_type="patron", record_id=str(patron.id), limit=1000)
    audit.record(session, actor=patron, action="registration.data_exported", now=now, record_type="patron",
                 record_id=patron.id)
    return {
        "exported_at": now.isoformat(),
        "account": {"card_number": patron.card_number, "name": patron.name, "email": patron.email,
                    "phone": patron.phone, "language": patron.language, "kind": patron.kind,
                    "birth_date": patron.birth_date.isoformat() if patron.birth_date else None,
                    "home_library": patron.home_library.name if patron.home_library else None,
                    "created_at": patron.created_at.isoformat(), "active": patron.active,
                    "pin_set": patron.pin_hash is not None, "password_set": patron.password_hash is not None},
        "registration": registration_json(registration) if registration else None,
        "devices": [{"name": t.name, "created_at": t.created_at.isoformat(),
                     "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                     "revoked": t.revoked_at is not None} for t in accounts.patron_tokens(session, patron)],
        "messages": [{"created_at": m.created_at.isoformat(), "channel": m.channel, "subject": m.subject,
                      "status": m.status} for m in messages],
        "events": [{"at": e.at.isoformat(), "action": e.action, "by": e.actor.split(":")[0]} for e in events],
    }


def registration_json(registration: Registration) -> dict[str, Any]:
    return {"national_id": registration.masked_national_id, "birth_date": registration.birth_date.isoformat(),
            "given_names": registration.given_names, "surname": registration.surname,
            "street_address": registration.street_address, "postal_code": registration.postal_code,
            "city": registration.city, "eligibility_basis": registration.eligibility_basis,
            "eligibility_note": registration.eligibility_note,
            "preferred_formats": list(registration.preferred_formats or []),
            "guardian": ({"name": registration.guardian_name, "contact": registration.guardian_contact,
                          "consent": registration.guardian_consent} if registration.guardian_name else None),
            "registered_at": registration.created_at.isoformat(),
            "registered_by_library": registration.library.name, "channel": registration.channel}
