"""Accounts: creating users and patrons, checking passwords and PINs, tokens and one-time links.

Services flush and never commit; every function takes ``now`` and, where someone acts, ``actor``.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import String, bindparam, cast, func, insert, or_, select, text, update
from sqlalchemy.orm import Session, joinedload

from app import audit, db
from app.accounts import cards, credentials, throttle
from app.accounts.models import ROLES, ApiToken, Library, OneTimeLink, Patron, StaffRole, StaffUser
from app.errors import DomainError

_hasher = PasswordHasher()  # argon2id with the library's (slow, memory-hard) defaults
PIN_RE = re.compile(r"^[0-9]{4}$")
PATRON_PASSWORD_RE = re.compile(r"^[A-Za-z0-9ÅÄÖåäö]{5,12}$")
FIRST_CARD_NUMBER = 2000000001


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(hashed: str | None, secret: str) -> bool:
    try:
        if not hashed:
            # Spend the time of a real check, so timing does not tell whether an account exists.
            _hasher.verify(_DUMMY_HASH, secret + "\0")
            return False
        return _hasher.verify(hashed, secret)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = _hasher.hash("kuulo-timing-equaliser")


def token_digest(raw: str) -> str:
    """Tokens are long random strings, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(raw.encode()).hexdigest()


# ----------------------------------------------------------------- validation

def check_pin(pin: str) -> None:
    if not PIN_RE.match(pin or ""):
        raise DomainError("pin-format", 422, field="pin")


def check_patron_password(password: str) -> None:
    if not PATRON_PASSWORD_RE.match(password or ""):
        raise DomainError("password-format", 422, field="password")


def check_staff_password(password: str) -> None:
    if len(password or "") < 10:
        raise DomainError("staff-password-format", 422, field="password")


# ----------------------------------------------------------------- creation

def get_or_create_library(session: Session, code: str, name: str, municipality: str = "") -> Library:
    lib = session.scalar(select(Library).where(Library.code == code))
    if lib is None:
        lib = Library(code=code, name=name, municipality=municipality)
        session.add(lib)
        session.flush()
    return lib


def create_staff_user(session: Session, *, email: str, name: str, password: str, roles: list[str],
                      library: Library | None, now: datetime, actor: Any, language: str = "fi") -> StaffUser:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise DomainError("unknown-role", 422, roles=sorted(unknown))
    check_staff_password(password)
    user = StaffUser(email=email.strip().lower(), name=name, password_hash=hash_secret(password),
                     library=library, created_at=now, language=language,
                     role_rows=[StaffRole(role=r) for r in roles])
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="staff.created", now=now, record_type="staff_user",
                 record_id=user.id, roles=sorted(roles))
    return user


def _next_free_number(session: Session) -> str | None:
    """The next number from the counter, or None when a card already has it (then ask again)."""
    if session.get_bind().dialect.name == "postgresql":
        return session.execute(_NEXT_FREE_FROM_SEQUENCE).scalar_one_or_none()
    value = session.execute(_NEXT_NUMBER).scalar_one_or_none()
    if value is None:  # the very first number; ON CONFLICT: two first allocations at once must not fail
        session.execute(text("INSERT INTO counters (name, value) VALUES ('card_number', :start) "
                             "ON CONFLICT (name) DO NOTHING"), {"start": FIRST_CARD_NUMBER - 1})
        value = session.execute(_NEXT_NUMBER).scalar_one()
    taken = session.scalar(select(Patron.id).where(Patron.card_number == str(value)))
    return None if taken is not None else str(value)


_NEXT_NUMBER = text("UPDATE counters SET value = value + 1 WHERE name = 'card_number' RETURNING value")
# One round trip: the next number, unless a card already has it (nextval advances either way).
_NEXT_FREE_FROM_SEQUENCE = text("SELECT n.value FROM (SELECT nextval('card_numbers')::text AS value) AS n "
                                "WHERE NOT EXISTS (SELECT 1 FROM patrons WHERE patrons.card_number = n.value)")


def allocate_card_number(session: Session) -> str:
    """The next free card number: atomic on SQLite and PostgreSQL, safe across instances.

    PostgreSQL: from the sequence ``card_numbers`` (migration 0060), which never waits for another
    transaction; a number taken by a transaction that then rolls back is simply never used. SQLite: a
    counter row, in the caller's transaction (SQLite serialises writers anyway). Numbers given out
    explicitly (demo cards, cards migrated from an older system) are skipped.
    """
    while True:
        number = _next_free_number(session)
        if number is not None:
            return number


def create_patron(session: Session, *, name: str, now: datetime, actor: Any, email: str = "", phone: str = "",
                  language: str = "fi", kind: str = "person", home_library: Library | None = None,
                  pin: str | None = None, password: str | None = None,
                  card_number: str | None = None, national_id_hash: str | None = None,
                  birth_date: date | None = None) -> Patron:
    if pin is not None:
        check_pin(pin)
    if password is not None:
        check_patron_password(password)
    patron = Patron(card_number=card_number or allocate_card_number(session), kind=kind, name=name,
                    email=email, phone=phone, language=language, home_library=home_library,
                    pin_hash=hash_secret(pin) if pin else None,
                    password_hash=hash_secret(password) if password else None, created_at=now,
                    national_id_hash=national_id_hash, birth_date=birth_date)
    session.add(patron)
    session.flush()
    audit.record(session, actor=actor, action="patron.created", now=now, record_type="patron",
                 record_id=patron.id, kind=kind)
    return patron


def insert_patron(session: Session, *, name: str, now: datetime, email: str, phone: str, language: str,
                  kind: str, home_library_id: int | None, national_id_hash: str,
                  birth_date: date | None) -> tuple[int, str] | None:
    """Insert a patron with a new card number, unless one with ``national_id_hash`` exists: (id, card number).

    None when the hash is taken — also by a concurrent transaction: the database's unique key decides, with
    ``INSERT … ON CONFLICT DO NOTHING`` (PostgreSQL waits for the other transaction, then does nothing),
    so a race needs no savepoint. A card number given out elsewhere meanwhile just takes the next number.
    The caller records the audit event (registration writes it with its own in one statement).
    """
    values = {"kind": kind, "name": name, "email": email, "phone": phone, "language": language,
              "home_library_id": home_library_id, "national_id_hash": national_id_hash, "birth_date": birth_date,
              "pin_hash": None, "password_hash": None, "active": True, "created_at": now}
    statement = db.insert_ignoring_conflicts(session, Patron.__table__, returning=("id", "card_number"))
    from_sequence = session.get_bind().dialect.name == "postgresql"
    if from_sequence:  # the card number is drawn in the INSERT itself: one round trip
        statement = _numbered_from_sequence(statement)
    while True:
        row = session.execute(statement, values if from_sequence else
                              {**values, "card_number": allocate_card_number(session)}).first()
        if row is not None:
            return row.id, row.card_number
        if session.scalar(_PATRON_WITH_HASH, {"hash": national_id_hash}) is not None:
            return None
        # else the number was on a card already (given out explicitly): draw the next one


@cache
def _numbered_from_sequence(statement: Any) -> Any:
    return statement.values(card_number=cast(func.nextval("card_numbers"), String))


_PATRON_WITH_HASH = select(Patron.__table__.c.id).where(Patron.__table__.c.national_id_hash == bindparam("hash"))


# ----------------------------------------------------------------- authentication

@dataclass(frozen=True)
class AuthResult:
    user: StaffUser | Patron | None
    reason: str | None = None  # None | "invalid" | "locked"
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.user is not None


def _throttled_check(session: Session, subject: str, now: datetime, policy: throttle.ThrottlePolicy,
                     user: StaffUser | Patron | None, hashes: list[str | None], secret: str) -> AuthResult:
    """Check ``secret`` against ``hashes``: one per kind of secret accepted, None where the account has none
    or there is no account. Each is checked (a missing one against a dummy hash of the same hasher), so a
    wrong secret costs the same time whether the account exists or not. Only an existing account counts
    failures and locks: any other string leaves no throttle row behind."""
    until = throttle.locked_until(session, subject, now) if user is not None else None
    if until is not None:
        return AuthResult(None, "locked", until)
    if any(verify_secret(h, secret) for h in hashes) and user is not None and user.active:
        throttle.clear(session, subject)
        return AuthResult(user)
    if user is None:
        return AuthResult(None, "invalid")
    until = throttle.register_failure(session, subject, now, policy, subject)
    return AuthResult(None, "locked" if until else "invalid", until)


def _lookup_key(value: str | None, max_length: int) -> str | None:
    """A typed card number or email as it can be looked up; None when no account can have it: a NUL
    byte (PostgreSQL refuses it in text) or longer than the column."""
    return value if value and "\0" not in value and len(value) <= max_length else None


_CARD_LENGTH, _EMAIL_LENGTH = Patron.__table__.c.card_number.type.length, StaffUser.__table__.c.email.type.length


def authenticate_staff(session: Session, email: str, password: str, now: datetime,
                       policy: throttle.ThrottlePolicy) -> AuthResult:
    email = (email or "").strip().lower()
    key = _lookup_key(email, _EMAIL_LENGTH)
    user = session.scalar(select(StaffUser).where(StaffUser.email == key)) if key else None
    return _throttled_check(session, "staff:" + email, now, policy, user,
                            [user.password_hash if user else None], password or "")


def authenticate_patron(session: Session, card_number: str, secret: str, now: datetime,
                        policy: throttle.ThrottlePolicy, allow: tuple[str, ...] = ("pin", "password")) -> AuthResult:
    """Card number with PIN or password (``allow`` picks which). Throttled per card."""
    card = (card_number or "").strip().replace(" ", "")
    key = _lookup_key(card, _CARD_LENGTH)
    # Any active card of the account opens it; a lost or replaced card answers as an unknown one does.
    patron = cards.account_of_card(session, key) if key else None
    hashes = [getattr(patron, kind + "_hash", None) for kind in ("pin", "password") if kind in allow]
    return _throttled_check(session, "card:" + card, now, policy, patron, hashes, secret or "")


def change_staff_password(session: Session, user: StaffUser, current: str, new: str, *, now: datetime) -> None:
    if not verify_secret(user.password_hash, current):
        raise DomainError("wrong-current-password", 422, field="current_password")
    check_staff_password(new)
    user.password_hash = hash_secret(new)
    audit.record(session, actor=user, action="staff.password_changed", now=now, record_type="staff_user",
                 record_id=user.id)


def set_patron_secret(session: Session, patron: Patron, *, pin: str | None = None, password: str | None = None,
                      now: datetime, actor: Any) -> None:
    if pin is not None:
        check_pin(pin)
        patron.pin_hash = hash_secret(pin)
    if password is not None:
        check_patron_password(password)
        patron.password_hash = hash_secret(password)
    throttle.clear(session, "card:" + patron.card_number)
    credentials.changed(session, patron.id, now)  # other domains end sessions the old secret opened
    audit.record(session, actor=actor, action="patron.credentials_changed", now=now, record_type="patron",
                 record_id=patron.id, pin=pin is not None, password=password is not None)


def change_patron_secret(session: Session, patron: Patron, current: str, *, now: datetime,
                         pin: str | None = None, password: str | None = None) -> None:
    if not (verify_secret(patron.pin_hash, current) or verify_secret(patron.password_hash, current)):
        raise DomainError("wrong-current-secret", 422, field="current")
    set_patron_secret(session, patron, pin=pin, password=password, now=now, actor=patron)


# ----------------------------------------------------------------- tokens

def issue_token(session: Session, *, now: datetime, days: int, patron: Patron | None = None,
                staff: StaffUser | None = None, name: str = "") -> tuple[str, ApiToken]:
    raw = secrets.token_urlsafe(32)
    tok = ApiToken(token_hash=token_digest(raw), patron_id=patron.id if patron else None,
                   staff_user_id=staff.id if staff else None, name=name[:100], created_at=now,
                   expires_at=now + timedelta(days=days))
    session.add(tok)
    session.flush()
    audit.record(session, actor=patron or staff, action="token.issued", now=now, record_type="api_token",
                 record_id=tok.id, name=tok.name)
    return raw, tok


def token_from_bearer(session: Session, raw: str, now: datetime) -> ApiToken | None:
    """The live token for a raw bearer value, or None (unknown, expired or revoked)."""
    if not raw:
        return None
    tok = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(raw)))
    if tok is None or tok.revoked_at is not None or tok.expires_at <= now:
        return None
    note_token_use(session, tok.id, tok.last_used_at, now)
    return tok


def _by_live_token(owner: Any, token_owner_id: Any, *options: Any) -> Any:
    """SELECT owner, token id, token's last use — for a live token of an active owner (one query)."""
    return (select(owner, ApiToken.id, ApiToken.last_used_at).join(ApiToken, token_owner_id == owner.id)
            .options(*options)
            .where(ApiToken.token_hash == bindparam("digest"), ApiToken.revoked_at.is_(None),
                   ApiToken.expires_at > bindparam("now", type_=ApiToken.__table__.c.expires_at.type),
                   owner.active.is_(True)))


# Every request of a reader app or a library system starts with one of these.
_PATRON_BY_TOKEN = _by_live_token(Patron, ApiToken.patron_id)
_STAFF_BY_TOKEN = _by_live_token(StaffUser, ApiToken.staff_user_id, joinedload(StaffUser.role_rows),
                                 joinedload(StaffUser.library))


def patron_from_bearer(session: Session, raw: str, now: datetime) -> Patron | None:
    """The active patron behind a live patron token (``token_from_bearer`` for patrons, in one query)."""
    return _owner_of_token(session, _PATRON_BY_TOKEN, raw, now)


def staff_from_bearer(session: Session, raw: str, now: datetime) -> StaffUser | None:
    """The active staff user behind a live staff token, with roles and library, in one query."""
    return _owner_of_token(session, _STAFF_BY_TOKEN, raw, now)


def _owner_of_token(session: Session, statement: Any, raw: str, now: datetime) -> Any:
    if not raw:
        return None
    row = session.execute(statement, {"digest": token_digest(raw), "now": now}).unique().first()
    if row is None:
        return None
    owner, token_id, last_used_at = row
    note_token_use(session, token_id, last_used_at, now)
    return owner


# Whose live token is this (of an active owner)? Asked only when a route refuses a token.
_TOKEN_OWNER_KIND = (select(ApiToken.patron_id, ApiToken.staff_user_id)
                     .outerjoin(Patron, ApiToken.patron_id == Patron.id)
                     .outerjoin(StaffUser, ApiToken.staff_user_id == StaffUser.id)
                     .where(ApiToken.token_hash == bindparam("digest"), ApiToken.revoked_at.is_(None),
                            ApiToken.expires_at > bindparam("now", type_=ApiToken.__table__.c.expires_at.type),
                            or_(Patron.active.is_(True), StaffUser.active.is_(True))))


def token_kind(session: Session, raw: str, now: datetime) -> str | None:
    """"patron" or "staff": whose live token ``raw`` is; None when it is no live token of an active owner.
    Records no use: the caller is refusing the token."""
    row = session.execute(_TOKEN_OWNER_KIND, {"digest": token_digest(raw), "now": now}).first() if raw else None
    return None if row is None else "patron" if row.patron_id is not None else "staff"


def note_token_use(session: Session, token_id: int, last_used_at: datetime | None, now: datetime) -> None:
    """Record a token's use, at most once an hour: polling reader apps must not turn every GET into a
    write. In a read-only request the write waits until the reads are over (``db.after_reads``)."""
    if not token_use_due(last_used_at, now):
        return
    db.after_reads(session, lambda s: s.execute(update(ApiToken).where(ApiToken.id == token_id)
                                                .values(last_used_at=now)))


def token_use_due(last_used_at: datetime | None, now: datetime) -> bool:
    """Whether a token's use at ``now`` is to be recorded (the last record is over an hour old)."""
    return last_used_at is None or now - last_used_at > timedelta(hours=1)


def patron_tokens(session: Session, patron: Patron) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.patron_id == patron.id)
                                .order_by(ApiToken.created_at.desc())))


def revoke_token(session: Session, token_id: int, *, owner: Patron | StaffUser, now: datetime) -> ApiToken:
    tok = session.get(ApiToken, token_id)
    owns = tok is not None and ((isinstance(owner, Patron) and tok.patron_id == owner.id) or
                                (isinstance(owner, StaffUser) and tok.staff_user_id == owner.id))
    if not owns:
        raise DomainError("not-found", 404)
    if tok.revoked_at is None:
        tok.revoked_at = now
        audit.record(session, actor=owner, action="token.revoked", now=now, record_type="api_token",
                     record_id=tok.id)
    return tok


# ----------------------------------------------------------------- one-time links

def create_one_time_link(session: Session, *, purpose: str, now: datetime, hours: int,
                         patron_id: int | None = None, staff_user_id: int | None = None) -> str:
    """A new one-time link for a patron or a staff user; returns the secret for the URL (only its hash is kept)."""
    raw = secrets.token_urlsafe(32)
    session.execute(_INSERT_LINK, {"token_hash": token_digest(raw), "purpose": purpose, "patron_id": patron_id,
                                   "staff_user_id": staff_user_id, "created_at": now,
                                   "expires_at": now + timedelta(hours=hours), "used_at": None})
    return raw


_INSERT_LINK = insert(OneTimeLink.__table__)


def find_one_time_link(session: Session, raw: str, now: datetime) -> OneTimeLink | None:
    link = session.scalar(select(OneTimeLink).where(OneTimeLink.token_hash == token_digest(raw or "")))
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    return link


def use_one_time_link(session: Session, raw: str, *, now: datetime, pin: str | None = None,
                      password: str | None = None) -> Patron | StaffUser:
    """Set a new PIN/password through a one-time link; the link works once (row lock on PostgreSQL)."""
    link = find_one_time_link(session, raw, now)
    if link is not None:
        link = session.scalar(select(OneTimeLink).where(OneTimeLink.id == link.id).with_for_update())
    if link is None or link.used_at is not None:
        raise DomainError("link-invalid", 410)
    if link.patron_id:
        patron = session.get(Patron, link.patron_id)
        assert patron is not None
        if pin is None and password is None:
            raise DomainError("secret-required", 422, field="pin")
        set_patron_secret(session, patron, pin=pin, password=password, now=now, actor=patron)
        subject: Patron | StaffUser = patron
    else:
        staff = session.get(StaffUser, link.staff_user_id)
        assert staff is not None and password is not None
        check_staff_password(password)
        staff.password_hash = hash_secret(password)
        throttle.clear(session, "staff:" + staff.email)
        audit.record(session, actor=staff, action="staff.password_reset", now=now, record_type="staff_user",
                     record_id=staff.id)
        subject = staff
    link.used_at = now
    return subject


# ----------------------------------------------------------------- reset links by email

def find_reset_subject(session: Session, identifier: str) -> Patron | StaffUser | None:
    ident = (identifier or "").strip()
    if _lookup_key(ident, _EMAIL_LENGTH) is None:
        return None
    if "@" in ident:
        staff = session.scalar(select(StaffUser).where(StaffUser.email == ident.lower()))
        if staff is not None:
            return staff
        return session.scalar(select(Patron).where(Patron.email == ident).order_by(Patron.id).limit(1))
    return session.scalar(select(Patron).where(Patron.card_number == ident.replace(" ", "")))


def request_reset(session: Session, identifier: str, *, now: datetime, base_url: str, hours: int) -> None:
    """Email a one-time reset link (never the secret). Says nothing about whether the account exists.

    One email per account per 10 minutes: the outbox key includes the 10-minute slot, so a double
    submit or a retried request sends one message.
    """
    from app.notify import service as notify

    subject = find_reset_subject(session, identifier)
    if subject is None or not subject.email or not subject.active:
        return
    kind = "staff" if isinstance(subject, StaffUser) else "patron"
    slot = int(now.timestamp() // 600)
    key = f"reset:{kind}:{subject.id}:{slot}"
    from app.notify.models import OutboxMessage

    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
        return
    raw = create_one_time_link(session, purpose="reset", now=now, hours=hours,
                               patron_id=subject.id if kind == "patron" else None,
                               staff_user_id=subject.id if kind == "staff" else None)
    notify.enqueue(session, key=key, channel="email", recipient=subject.email, template="reset_link",
                   language=subject.language, now=now,
                   context={"name": subject.name, "link": f"{base_url}/reset/{raw}", "hours": hours})
    audit.record(session, actor="system:reset", action=f"{kind}.reset_requested", now=now, record_type=kind,
                 record_id=subject.id)


def patron_by_national_id_hash(session: Session, id_hash: str) -> Patron | None:
    return session.scalar(select(Patron).where(Patron.national_id_hash == id_hash))


def set_pin_at_desk(session: Session, card_number: str, pin: str, *, now: datetime, actor: StaffUser) -> Patron:
    """A librarian sets a new PIN for a patron who is present with ID (PINs are never told by phone)."""
    key = _lookup_key((card_number or "").strip(), _CARD_LENGTH)
    patron = session.scalar(select(Patron).where(Patron.card_number == key)) if key else None
    if patron is None:
        raise DomainError("card-not-found", 404, field="card_number")
    set_patron_secret(session, patron, pin=pin, now=now, actor=actor)
    return patron
