"""The patron record at the desk: contact data and the name (only with an identity-check note [001]),
notice channels, category and home branch; resending the set-PIN link; blocking the card with a reason;
the hearing and then the premises ban of at most 30 days [001]; revalidating the membership [001];
closing the account (refused while loans or debts are open — nothing is deleted).

Every function takes the caller's session (flushes, never commits), ``now`` and ``actor``; every change
is audited by what changed, never with the values (no personal data in the audit details).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import audit
from app.accounts.models import Patron
from app.circulation.desk.record_models import PremisesHearing
from app.circulation.models import ACTIVE_HOLD_STATES, Ban, Branch, Hold, Loan, PatronCirculation
from app.circulation.money import Money
from app.circulation.service_common import balance_of, borrower, local_today, policy_of
from app.circulation.service_desk import is_supervisor, update_contact_at_desk
from app.circulation.service_fees import PREMISES_BAN_MAX_DAYS, record_premises_ban
from app.circulation.service_holds import cancel_hold
from app.errors import DomainError

PIN_LINK_SLOT_SECONDS = 600  # one set-PIN email per patron per 10 minutes (a double click sends one)


def _supervisor(actor: Any) -> None:
    if not is_supervisor(actor):
        raise DomainError("forbidden", 403, required_roles=["circulation-supervisor"])


# -- reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordView:
    patron: Patron
    circ: PatronCirculation
    categories: list[str]
    branches: list[Branch]
    block: Ban | None  # the card block in force
    hearings: list[PremisesHearing]  # not yet followed by a ban, newest first
    premises_bans: list[Ban]  # newest first
    open_loans: int
    owed: Money


def card_block(session: Session, patron_id: int) -> Ban | None:
    """The block in force on the patron's card (borrowing stops at the desk until it is lifted)."""
    return session.scalar(select(Ban).where(Ban.patron_id == patron_id, Ban.kind == "block",
                                            Ban.lifted_at.is_(None)).order_by(Ban.id.desc()).limit(1))


def record_view(session: Session, patron_id: int) -> RecordView:
    patron, circ, library = borrower(session, patron_id)
    policy = policy_of(library)
    branches = list(session.scalars(select(Branch).where(Branch.library_id == library.id).order_by(Branch.name)))
    hearings = list(session.scalars(select(PremisesHearing).where(PremisesHearing.patron_id == patron_id,
                                                                  PremisesHearing.ban_id.is_(None))
                                    .order_by(PremisesHearing.held_on.desc(), PremisesHearing.id.desc())))
    bans = list(session.scalars(select(Ban).where(Ban.patron_id == patron_id, Ban.kind == "premises")
                                .order_by(Ban.id.desc())))
    return RecordView(patron, circ, sorted(policy.categories), branches, card_block(session, patron_id), hearings,
                      bans, _open_loans(session, patron_id), balance_of(session, patron_id, policy.currency))


def _open_loans(session: Session, patron_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Loan).where(Loan.patron_id == patron_id,
                                                                           Loan.status == "open")) or 0)


# -- contact data, name, category, home branch ------------------------------------------------------


def update_record(session: Session, patron_id: int, *, name: str, identity_check: str, email: str, phone: str,
                  postal_address: str, notice_channels: list[str], receipts_by_email: bool, category: str,
                  home_branch_id: int, now: datetime, actor: Any) -> list[str]:
    """Save the record's fields; returns the names of those that changed (audited by name, not value).

    Refusals (DomainError, 422): ``identity-check-required`` (a new name without the note of the identity
    check [001]), ``unknown-category``, ``unknown-branch``, ``channel-without-contact``.
    """
    patron, circ, library = borrower(session, patron_id)
    policy = policy_of(library)
    name = " ".join(name.split())
    renamed = bool(name) and name != patron.name
    if renamed and not identity_check.strip():
        raise DomainError("identity-check-required", 422, field="identity_check")
    if category not in policy.categories:
        raise DomainError("unknown-category", 422, field="category")
    branch = session.get(Branch, home_branch_id)
    if branch is None or branch.library_id != library.id:
        raise DomainError("unknown-branch", 422, field="home_branch")
    postal_address = postal_address.replace("\r\n", "\n")  # as browsers send a textarea's lines
    changed = update_contact_at_desk(session, patron_id, email=email, phone=phone, postal_address=postal_address,
                                     notice_channels=notice_channels, receipts_by_email=receipts_by_email, now=now,
                                     actor=actor)
    if renamed:
        patron.name = name[:200]
        changed.append("name")
        audit.record(session, actor=actor, action="circulation.patron_renamed", now=now, record_type="patron",
                     record_id=patron_id, identity_check=identity_check.strip()[:200])
    if category != circ.category:
        audit.record(session, actor=actor, action="circulation.category_changed", now=now, record_type="patron",
                     record_id=patron_id, old=circ.category, new=category)
        circ.category = category
        changed.append("category")
    if branch.id != circ.home_branch_id:
        circ.home_branch_id = branch.id
        changed.append("home_branch")
        audit.record(session, actor=actor, action="circulation.home_branch_changed", now=now, record_type="patron",
                     record_id=patron_id, branch=branch.name)
    session.flush()
    return changed


# -- the set-PIN link -------------------------------------------------------------------------------


def resend_pin_link(session: Session, patron_id: int, *, now: datetime, actor: Any, base_url: str,
                    hours: int) -> bool:
    """Email the patron a new one-time link to choose a PIN (never a PIN), through the outbox, in the
    email registration sends. Once per 10 minutes (the outbox key): False when one was just sent.
    Refused as DomainError("no-email", 409) without an email address, ("account-closed", 409)."""
    from app.accounts import service as accounts
    from app.notify import service as notify
    from app.notify.models import OutboxMessage

    patron, _circ, _library = borrower(session, patron_id)
    if not patron.active:
        raise DomainError("account-closed", 409)
    if not patron.email:
        raise DomainError("no-email", 409, field="email")
    key = f"desk-pin-link:patron:{patron_id}:{int(now.timestamp() // PIN_LINK_SLOT_SECONDS)}"
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
        return False
    raw = accounts.create_one_time_link(session, purpose="set_credentials", now=now, hours=hours, patron_id=patron_id)
    notify.enqueue(session, key=key, channel="email", recipient=patron.email, template="registration_credentials",
                   language=patron.language or "fi", now=now,
                   context={"name": patron.name, "card_number": patron.card_number,
                            "link": f"{base_url}/reset/{raw}", "days": max(1, hours // 24)})
    audit.record(session, actor=actor, action="circulation.pin_link_sent", now=now, record_type="patron",
                 record_id=patron_id)
    return True


# -- card block -------------------------------------------------------------------------------------


def block_card(session: Session, patron_id: int, *, reason: str, now: datetime, actor: Any) -> Ban:
    """Block the card with a reason (e.g. reported stolen, misuse): no checkouts at the desk until lifted.
    Refused as ("reason-required", 422) and ("already-blocked", 409)."""
    borrower(session, patron_id)
    if not reason.strip():
        raise DomainError("reason-required", 422, field="reason")
    if card_block(session, patron_id) is not None:
        raise DomainError("already-blocked", 409)
    ban = Ban(patron_id=patron_id, kind="block", started_at=now, reason=reason.strip()[:500],
              created_by=audit.actor_label(actor))
    session.add(ban)
    session.flush()
    audit.record(session, actor=actor, action="circulation.card_blocked", now=now, record_type="patron",
                 record_id=patron_id, reason=reason.strip()[:200])
    return ban


def unblock_card(session: Session, patron_id: int, *, reason: str, now: datetime, actor: Any) -> Ban:
    """Lift the card block, with a reason. Refused as ("reason-required", 422), ("not-blocked", 409)."""
    borrower(session, patron_id)
    if not reason.strip():
        raise DomainError("reason-required", 422, field="reason")
    ban = card_block(session, patron_id)
    if ban is None:
        raise DomainError("not-blocked", 409)
    ban.lifted_at = now
    session.flush()
    audit.record(session, actor=actor, action="circulation.card_unblocked", now=now, record_type="patron",
                 record_id=patron_id, reason=reason.strip()[:200])
    return ban


# -- hearing and premises ban [001] -----------------------------------------------------------------


def record_hearing(session: Session, patron_id: int, *, held_on: date, heard_by: str, summary: str, now: datetime,
                   actor: Any) -> PremisesHearing:
    """Step one of a premises ban: the patron was heard [001]. Refused ("hearing-invalid", 422) for a
    hearing in the future or without the official who heard."""
    _patron, _circ, library = borrower(session, patron_id)
    problems = {}
    if not heard_by.strip():
        problems["heard_by"] = "required"
    if held_on > local_today(policy_of(library).timezone, now):
        problems["held_on"] = "in_the_future"
    if problems:
        raise DomainError("hearing-invalid", 422, fields=problems)
    hearing = PremisesHearing(patron_id=patron_id, held_on=held_on, heard_by=heard_by.strip()[:200],
                              summary=summary.strip()[:4000], recorded_at=now, recorded_by=audit.actor_label(actor),
                              staff_user_id=getattr(actor, "id", None))
    session.add(hearing)
    session.flush()
    audit.record(session, actor=actor, action="circulation.hearing_recorded", now=now, record_type="patron",
                 record_id=patron_id, hearing_id=hearing.id, held_on=held_on.isoformat())
    return hearing


def ban_from_premises(session: Session, patron_id: int, *, hearing_id: int | None, decided_on: date,
                      decision_maker: str, starts_on: date, ends_on: date, reason: str, now: datetime, actor: Any,
                      decision_reference: str = "") -> Ban:
    """Step two: the official decision, at most 30 days, after a recorded hearing of this patron [001]
    that no other ban used. Supervisor only. Refused as ("hearing-required", 422) and
    ("premises-ban-invalid", 422, fields=…) — e.g. ``ends_on: longer_than_30_days``."""
    _supervisor(actor)
    borrower(session, patron_id)
    hearing = session.get(PremisesHearing, hearing_id) if hearing_id is not None else None
    if hearing is None or hearing.patron_id != patron_id or hearing.ban_id is not None:
        raise DomainError("hearing-required", 422, field="hearing")
    ban = record_premises_ban(session, patron_id=patron_id, hearing_held_on=hearing.held_on, decided_on=decided_on,
                              decision_maker=decision_maker, starts_on=starts_on, ends_on=ends_on,
                              reason=reason.strip()[:2000], now=now, actor=actor,
                              decision_reference=decision_reference.strip()[:100])
    hearing.ban_id = ban.id
    session.flush()
    return ban


def lift_ban(session: Session, patron_id: int, ban_id: int, *, reason: str, now: datetime, actor: Any) -> Ban:
    """End a premises ban early (e.g. after rectification was asked for). Supervisor only."""
    from app.circulation.service_fees import lift_premises_ban

    _supervisor(actor)
    ban = session.get(Ban, ban_id)
    if ban is None or ban.patron_id != patron_id or ban.kind != "premises":
        raise DomainError("not-found", 404, what="ban")
    if not reason.strip():
        raise DomainError("reason-required", 422, field="reason")
    return lift_premises_ban(session, ban_id, now=now, actor=actor, reason=reason.strip())


# -- membership and closing -------------------------------------------------------------------------


def revalidate_membership(session: Session, patron_id: int, *, note: str, now: datetime, actor: Any) -> None:
    """The patron's details were checked with them: the membership is valid for another period [001]."""
    _patron, circ, _library = borrower(session, patron_id)
    circ.membership_validated_at = now
    session.flush()
    audit.record(session, actor=actor, action="circulation.membership_revalidated", now=now, record_type="patron",
                 record_id=patron_id, note=note.strip()[:200])


@dataclass(frozen=True)
class Closing:
    closed: bool
    open_loans: int = 0
    owed: Money | None = None
    holds_cancelled: int = 0


def close_account(session: Session, patron_id: int, *, reason: str, now: datetime, actor: Any) -> Closing:
    """Close the account at the patron's request. Refused (closed=False, saying how many loans are open
    and how much is owed) while loans or debts are open, so nothing the library is owed is lost. Waiting
    holds are cancelled; the record, its ledger and history stay (the account can no longer log in)."""
    _supervisor(actor)
    patron, _circ, library = borrower(session, patron_id)
    if not patron.active:
        raise DomainError("account-closed", 409)
    loans = _open_loans(session, patron_id)
    owed = balance_of(session, patron_id, policy_of(library).currency)
    if loans or owed.is_positive:
        return Closing(False, loans, owed)
    cancelled = 0
    holds = list(session.scalars(select(Hold.id).where(Hold.patron_id == patron_id,
                                                       Hold.state.in_((*ACTIVE_HOLD_STATES, "suspended")))))
    for hold_id in holds:
        cancelled += cancel_hold(session, hold_id, by="library", now=now, actor=actor).allowed
    patron.active = False
    session.flush()
    audit.record(session, actor=actor, action="circulation.account_closed", now=now, record_type="patron",
                 record_id=patron_id, reason=reason.strip()[:200], holds_cancelled=cancelled)
    return Closing(True, 0, owed, cancelled)


def reopen_account(session: Session, patron_id: int, *, now: datetime, actor: Any) -> None:
    _supervisor(actor)
    patron, _circ, _library = borrower(session, patron_id)
    if patron.active:
        return
    patron.active = True
    session.flush()
    audit.record(session, actor=actor, action="circulation.account_reopened", now=now, record_type="patron",
                 record_id=patron_id)


__all__ = ["PREMISES_BAN_MAX_DAYS", "RecordView", "Closing", "record_view", "update_record", "resend_pin_link",
           "block_card", "unblock_card", "record_hearing", "ban_from_premises", "lift_ban",
           "revalidate_membership", "close_account", "reopen_account", "card_block"]
