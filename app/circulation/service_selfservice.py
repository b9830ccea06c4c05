"""Self-service: SIP2 terminal accounts, branches' self-service hours, patrons' self-service standing, and
the self-service library door [001] — whose rules are its own: a fine does not lock anyone out, but a
missing consent, the wrong hour or a premises ban does. Every door decision is audited with its reason."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.accounts import service as accounts
from app.accounts import throttle
from app.accounts.models import Patron
from app.circulation.decisions import age_on
from app.circulation.models import Branch, CircLibrary, PatronCirculation
from app.circulation.service_common import (
    branch_calendar,
    find_branch,
    local_today,
    policy_of,
    premises_ban_until,
)
from app.circulation.sip2.models import SelfServiceBranch, SelfServicePatron, SipTerminal
from app.errors import DomainError

TERMINAL_CHARSETS = ("utf-8", "cp850")
TERMINAL_LANGUAGES = ("fi", "sv", "en")
MIN_TERMINAL_PASSWORD = 10
DEFAULT_MINIMUM_AGE = 15  # [001]: younger ones use the self-service library with a guardian's consent
# Door answers, in the order they are checked (the first that applies is the reason).
DOOR_REASONS = ("closed_for_maintenance", "no_self_service", "invalid_card_or_pin", "locked", "other_library",
                "card_blocked", "premises_ban", "terms_not_accepted", "guardian_consent_missing", "not_activated",
                "closed_today", "outside_self_service_hours", "permitted")


# -- terminals ---------------------------------------------------------------------------------


def add_terminal(session: Session, *, name: str, password: str, branch: str, now: datetime, actor: Any,
                 language: str = "fi", charset: str = "utf-8") -> SipTerminal:
    """A new terminal account bound to ``branch`` ("library/branch" or a unique branch code)."""
    name = name.strip()
    if not name or len(name) > 80 or "|" in name:
        raise DomainError("invalid-terminal-name", 422, field="name")
    if len(password) < MIN_TERMINAL_PASSWORD:
        raise DomainError("password-too-short", 422, field="password", minimum=MIN_TERMINAL_PASSWORD)
    if language not in TERMINAL_LANGUAGES or charset not in TERMINAL_CHARSETS:
        raise DomainError("invalid-terminal-settings", 422, field="charset" if language in TERMINAL_LANGUAGES
                          else "language")
    if session.scalar(select(SipTerminal.id).where(SipTerminal.name == name)) is not None:
        raise DomainError("terminal-exists", 409, name=name)
    where = find_branch(session, branch)
    terminal = SipTerminal(name=name, password_hash=accounts.hash_secret(password), branch_id=where.id,
                           language=language, charset=charset, enabled=True, created_at=now)
    session.add(terminal)
    session.flush()
    audit.record(session, actor=actor, action="selfservice.terminal_added", now=now, record_type="sip_terminal",
                 record_id=terminal.id, name=name, branch=where.code)
    return terminal


def find_terminal(session: Session, key: int | str) -> SipTerminal:
    """The terminal with this id (int) or name (str); 404 otherwise."""
    terminal = session.get(SipTerminal, key) if isinstance(key, int) else \
        session.scalar(select(SipTerminal).where(SipTerminal.name == key))
    if terminal is None:
        raise DomainError("not-found", 404, what="terminal")
    return terminal


def set_terminal_enabled(session: Session, key: int | str, enabled: bool, *, now: datetime,
                         actor: Any) -> SipTerminal:
    """Disable a terminal (its logins and door checks are refused; an open SIP2 session is answered no more,
    see ``terminal_active``) or enable it again."""
    terminal = find_terminal(session, key)
    if terminal.enabled != enabled:
        terminal.enabled = enabled
        audit.record(session, actor=actor, action="selfservice.terminal_" + ("enabled" if enabled else "disabled"),
                     now=now, record_type="sip_terminal", record_id=terminal.id, name=terminal.name)
    return terminal


def reset_terminal_password(session: Session, key: int | str, password: str, *, now: datetime,
                            actor: Any) -> SipTerminal:
    """A new password for the terminal (the old one stops working at once; a lockout is lifted)."""
    if len(password) < MIN_TERMINAL_PASSWORD or len(password) > 200:
        raise DomainError("password-too-short", 422, field="password", minimum=MIN_TERMINAL_PASSWORD)
    terminal = find_terminal(session, key)
    terminal.password_hash = accounts.hash_secret(password)
    throttle.clear(session, "terminal:" + terminal.name)
    audit.record(session, actor=actor, action="selfservice.terminal_password", now=now, record_type="sip_terminal",
                 record_id=terminal.id, name=terminal.name)
    return terminal


def terminal_active(session: Session, terminal_id: int) -> bool:
    """Whether a logged-in terminal may still work (an admin may have disabled it meanwhile)."""
    return bool(session.scalar(select(SipTerminal.enabled).where(SipTerminal.id == terminal_id)))


def list_terminals(session: Session) -> list[tuple[SipTerminal, Branch]]:
    rows = session.execute(select(SipTerminal, Branch).join(Branch, Branch.id == SipTerminal.branch_id)
                           .order_by(SipTerminal.name))
    return [(terminal, branch) for terminal, branch in rows]


def authenticate_terminal(session: Session, name: str, password: str, now: datetime,
                          policy: throttle.ThrottlePolicy) -> SipTerminal | None:
    """The enabled terminal with this name and password, or None. Wrong passwords are throttled per terminal
    as staff logins are; a name that is no terminal costs the same time and leaves no row behind."""
    key = name if name and len(name) <= 80 and "\0" not in name else None
    terminal = session.scalar(select(SipTerminal).where(SipTerminal.name == key)) if key else None
    subject = "terminal:" + (key or "")
    if terminal is not None and throttle.locked_until(session, subject, now) is not None:
        return None
    if accounts.verify_secret(terminal.password_hash if terminal else None, password or "") and terminal is not None:
        throttle.clear(session, subject)
        if not terminal.enabled:
            return None
        terminal.last_login_at = now
        return terminal
    if terminal is not None:
        throttle.register_failure(session, subject, now, policy, subject)
    return None


# -- settings: branches' hours, patrons' standing ----------------------------------------------------


def set_branch_self_service(session: Session, *, branch: str, opens: str, closes: str, enabled: bool = True,
                            requires_activation: bool = False, minimum_age: int = DEFAULT_MINIMUM_AGE,
                            now: datetime, actor: Any) -> SelfServiceBranch:
    """Open ``branch`` to self-service from ``opens`` to ``closes`` (HH:MM, the branch's local time)."""
    try:
        start, end = time.fromisoformat(opens), time.fromisoformat(closes)
    except ValueError:
        raise DomainError("invalid-hours", 422, field="opens") from None
    if start >= end or not 0 <= minimum_age <= 120:
        raise DomainError("invalid-hours", 422, field="closes")
    where = find_branch(session, branch)
    row = session.get(SelfServiceBranch, where.id) or SelfServiceBranch(branch_id=where.id)
    row.enabled, row.opens, row.closes = enabled, start.strftime("%H:%M"), end.strftime("%H:%M")
    row.requires_activation, row.minimum_age = requires_activation, minimum_age
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="selfservice.branch_hours", now=now, record_type="circ_branch",
                 record_id=where.id, opens=row.opens, closes=row.closes, enabled=enabled,
                 requires_activation=requires_activation)
    return row


def set_patron_self_service(session: Session, patron_id: int, *, now: datetime, actor: Any,
                            terms_accepted: bool | None = None, guardian_consent: bool | None = None,
                            activated: bool | None = None) -> SelfServicePatron:
    """Record the patron's acceptance of the self-service terms, a guardian's consent, a desk activation
    (None leaves a value as it is; False withdraws it)."""
    row = session.get(SelfServicePatron, patron_id) or SelfServicePatron(patron_id=patron_id, block_reason="")
    for attribute, wanted in (("terms_accepted_at", terms_accepted), ("guardian_consent_at", guardian_consent),
                              ("activated_at", activated)):
        if wanted is not None:
            setattr(row, attribute, (getattr(row, attribute) or now) if wanted else None)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="selfservice.patron_standing", now=now, record_type="patron",
                 record_id=patron_id, terms=terms_accepted, consent=guardian_consent, activated=activated)
    return row


def block_card(session: Session, patron_id: int, *, now: datetime, actor: Any, reason: str) -> SelfServicePatron:
    """A terminal kept the card or reported it (SIP2 01): self-service refuses the card until the desk clears it."""
    row = session.get(SelfServicePatron, patron_id) or SelfServicePatron(patron_id=patron_id)
    row.card_blocked_at, row.block_reason = row.card_blocked_at or now, reason[:200]
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="selfservice.card_blocked", now=now, record_type="patron",
                 record_id=patron_id)
    return row


def unblock_card(session: Session, patron_id: int, *, now: datetime, actor: Any) -> None:
    row = session.get(SelfServicePatron, patron_id)
    if row is not None and row.card_blocked_at is not None:
        row.card_blocked_at, row.block_reason = None, ""
        audit.record(session, actor=actor, action="selfservice.card_unblocked", now=now, record_type="patron",
                     record_id=patron_id)


def card_blocked(session: Session, patron_id: int) -> bool:
    row = session.get(SelfServicePatron, patron_id)
    return row is not None and row.card_blocked_at is not None


# -- the door ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DoorDecision:
    permitted: bool
    reason: str  # one of DOOR_REASONS
    open_until: datetime | None = None  # today's end of self-service hours, when permitted


def _self_service_window(session: Session, row: SelfServiceBranch, branch: Branch,
                         now: datetime) -> tuple[datetime, datetime] | None:
    """Today's self-service hours of the branch, following its calendar: None on a closed day of the calendar
    (a public holiday, a closure); on a day with exceptional hours the building closes no later than the
    exceptional closing time (Christmas Eve's early closing ends self-service too). A branch without a
    calendar has its plain self-service hours."""
    zone = ZoneInfo(branch.timezone)
    today = local_today(branch.timezone, now)
    opens = datetime.combine(today, time.fromisoformat(row.opens), tzinfo=zone)
    closes = datetime.combine(today, time.fromisoformat(row.closes), tzinfo=zone)
    try:
        version = branch_calendar(session, branch).version_on(today)
    except (DomainError, ValueError):
        return opens, closes
    if today in version.closed_dates:
        return None
    exceptional = version.exceptional_hours.get(today)
    if exceptional is not None:
        closes = min(closes, datetime.combine(today, exceptional.closes, tzinfo=zone))
    return opens, closes


def _under_age(patron: Patron, circ: PatronCirculation, minimum_age: int, today: date, child: bool) -> bool:
    if patron.birth_date is not None:
        return age_on(patron.birth_date, today) < minimum_age
    return child  # no birth date on file: the child categories are under-15s [001]


def door_check(session: Session, *, card: str, pin: str, branch: str, now: datetime, actor: Any,
               throttle_policy: throttle.ThrottlePolicy, closed: bool = False,
               library_id: int | None = None) -> DoorDecision:
    """May this card + PIN open the self-service door of ``branch`` now? ``closed``: the status page closed
    self-service for a break. The reasons are checked in DOOR_REASONS order; the decision is audited
    (without the card number: the patron's id, or nothing for a card that is no account)."""
    patron_id: int | None = None
    where: Branch | None = None
    decision = DoorDecision(False, "closed_for_maintenance")
    if not closed:
        where, decision = _door_rules(session, card=card, pin=pin, branch=branch, now=now,
                                      throttle_policy=throttle_policy, library_id=library_id)
        patron_id = session.scalar(select(Patron.id).where(Patron.card_number == card)) \
            if decision.reason not in ("invalid_card_or_pin", "no_self_service") else None
    audit.record(session, actor=actor, action="selfservice.door", now=now, record_type="patron",
                 record_id=patron_id or "", branch=where.code if where else branch[:40], reason=decision.reason,
                 permitted=decision.permitted)
    return decision


def _door_rules(session: Session, *, card: str, pin: str, branch: str, now: datetime,
                throttle_policy: throttle.ThrottlePolicy, library_id: int | None) -> tuple[Branch | None, DoorDecision]:
    try:
        where = find_branch(session, branch, library_id)
    except DomainError:
        return None, DoorDecision(False, "no_self_service")
    settings = session.get(SelfServiceBranch, where.id)
    if settings is None or not settings.enabled:
        return where, DoorDecision(False, "no_self_service")
    auth = accounts.authenticate_patron(session, card, pin, now, throttle_policy, allow=("pin",))
    if not auth.ok:
        return where, DoorDecision(False, "locked" if auth.reason == "locked" else "invalid_card_or_pin")
    patron = auth.user
    assert isinstance(patron, Patron)
    circ = session.get(PatronCirculation, patron.id)
    if circ is None or circ.library_id != where.library_id:
        return where, DoorDecision(False, "other_library")
    standing = session.get(SelfServicePatron, patron.id)
    library = session.get(CircLibrary, where.library_id)
    assert library is not None
    policy = policy_of(library)
    today = local_today(where.timezone, now)
    if standing is not None and standing.card_blocked_at is not None:
        return where, DoorDecision(False, "card_blocked")
    if premises_ban_until(session, patron.id, today) is not None:
        return where, DoorDecision(False, "premises_ban")
    if standing is None or standing.terms_accepted_at is None:
        return where, DoorDecision(False, "terms_not_accepted")
    if (_under_age(patron, circ, settings.minimum_age, today, policy.is_child_category(circ.category))
            and standing.guardian_consent_at is None):
        return where, DoorDecision(False, "guardian_consent_missing")
    if settings.requires_activation and standing.activated_at is None:
        return where, DoorDecision(False, "not_activated")
    window = _self_service_window(session, settings, where, now)
    if window is None:
        return where, DoorDecision(False, "closed_today")
    opens, closes = window
    if not opens <= now < closes:
        return where, DoorDecision(False, "outside_self_service_hours")
    return where, DoorDecision(True, "permitted", closes)


@dataclass(frozen=True)
class Standing:
    """A patron's self-service standing as the desk and My account show it."""

    terms_accepted_at: datetime | None
    guardian_consent_at: datetime | None
    activated_at: datetime | None
    card_blocked_at: datetime | None
    needs_consent: bool  # under the youngest door age of her library's self-service branches
    has_pin: bool
    pin_locked_until: datetime | None
    branches: list[tuple[Branch, SelfServiceBranch]]  # her library's self-service branches
    log: list[audit.AuditEvent]


def standing(session: Session, patron_id: int, *, now: datetime, log_size: int = 10) -> Standing:
    patron = session.get(Patron, patron_id)
    if patron is None:
        raise DomainError("not-found", 404, what="patron")
    row = session.get(SelfServicePatron, patron_id)
    circ = session.get(PatronCirculation, patron_id)
    branches: list[tuple[Branch, SelfServiceBranch]] = []
    needs_consent = False
    if circ is not None:
        branches = [(b, ss) for b, ss in session.execute(
            select(Branch, SelfServiceBranch).join(SelfServiceBranch, SelfServiceBranch.branch_id == Branch.id)
            .where(Branch.library_id == circ.library_id, SelfServiceBranch.enabled.is_(True)).order_by(Branch.name))]
        library = session.get(CircLibrary, circ.library_id)
        if library is not None and branches:
            policy = policy_of(library)
            today = local_today(policy.timezone, now)
            needs_consent = _under_age(patron, circ, max(ss.minimum_age for _b, ss in branches), today,
                                       policy.is_child_category(circ.category))
    return Standing(
        terms_accepted_at=row.terms_accepted_at if row else None,
        guardian_consent_at=row.guardian_consent_at if row else None,
        activated_at=row.activated_at if row else None, card_blocked_at=row.card_blocked_at if row else None,
        needs_consent=needs_consent, has_pin=bool(patron.pin_hash),
        pin_locked_until=throttle.locked_until(session, "card:" + patron.card_number, now),
        branches=branches, log=door_log(session, patron_id, log_size))


def door_log(session: Session, patron_id: int, limit: int = 10) -> list[audit.AuditEvent]:
    """The patron's last door decisions (for the desk and My account)."""
    return audit.events(session, record_type="patron", record_id=str(patron_id), action="selfservice.door",
                        limit=limit)


__all__ = ["DOOR_REASONS", "DoorDecision", "Standing", "standing", "add_terminal", "authenticate_terminal", "block_card", "card_blocked",
           "door_check", "door_log", "find_terminal", "list_terminals", "reset_terminal_password", "set_branch_self_service",
           "set_patron_self_service", "set_terminal_enabled", "terminal_active", "unblock_card"]
