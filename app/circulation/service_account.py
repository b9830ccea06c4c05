"""The patron's account summary ("My account" [003]): loans by due date with due-soon and overdue
markers and accruing fines, holds with queue position and last pickup day, fees with what and
why, the balance, ban state and whether online payment is possible."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app import audit
from app.accounts.models import Patron
from app.circulation.decisions import Decision
from app.circulation.models import (
    ACTIVE_HOLD_STATES,
    Branch,
    CircLibrary,
    Hold,
    Item,
    Loan,
    PatronCirculation,
    Payment,
)
from app.circulation.money import Money
from app.circulation.service_common import balance_of, borrower, local_today, policy_of, premises_ban_until
from app.circulation.service_fees import OutstandingDebit, outstanding_debits
from app.circulation.service_holds import queue_position
from app.circulation.service_loans import accrued_fine_of
from app.circulation.service_payments import online_payment_preview
from app.errors import DomainError

DUE_SOON_DAYS = 3  # "due soon" marker this many days before the due date [003]
CANCELLED_HOLDS_VISIBLE_DAYS = 3  # "Cancelled requests remain visible ... for a few days" [003]


@dataclass(frozen=True)
class LoanLine:
    loan_id: int
    barcode: str
    title: str
    material_type: str
    due_at: datetime  # in the checkout branch's time zone
    due_state: str  # overdue | due_soon | on_time — also said in words by every page [003]
    accruing_fine: Money
    renewals: int
    max_renewals: int


@dataclass(frozen=True)
class HoldLine:
    hold_id: int
    record_key: str
    title: str
    state: str
    queue_position: int | None
    pickup_branch: str
    pickup_branch_name: str
    last_pickup_day: date | None
    hold_identifier: str | None
    placed_at: datetime
    cancelled_at: datetime | None
    suspended_until: date | None = None  # state "suspended": waits again from this day (None: until resumed)


@dataclass(frozen=True)
class AccountSummary:
    patron_id: int
    card_number: str
    name: str
    library: str
    preset: str
    category: str
    currency: str
    loans: list[LoanLine]
    holds: list[HoldLine]
    fees: list[OutstandingDebit]
    balance: Money  # registered, unpaid
    accruing: Money  # fines of loans still out: owed only at return or renewal [003]
    billing_banned: bool
    in_collection: bool
    ban_threshold: Money
    ban_comparison: str
    premises_ban_until: date | None
    online_payment: Decision


def patron_account_summary(session: Session, patron_id: int, *, now: datetime, due_soon_days: int = DUE_SOON_DAYS,
                           cancelled_visible_days: int = CANCELLED_HOLDS_VISIBLE_DAYS) -> AccountSummary:
    patron, circ, library = borrower(session, patron_id)
    policy = policy_of(library)
    loans = []
    rows = session.execute(select(Loan, Item, Branch).join(Item, Item.id == Loan.item_id)
                           .join(Branch, Branch.id == Loan.branch_id)
                           .where(Loan.patron_id == patron_id, Loan.status == "open").order_by(Loan.due_at, Loan.id))
    for loan, item, branch in rows:
        due_local = loan.due_at.astimezone(ZoneInfo(branch.timezone))
        today = local_today(branch.timezone, now)
        state = ("overdue" if now > loan.due_at else
                 "due_soon" if due_local.date() - today <= timedelta(days=due_soon_days) else "on_time")
        rules = policy.rules_for(branch.code, circ.category, item.material_type)
        loans.append(LoanLine(loan.id, item.barcode, item.title, item.material_type, due_local, state,
                              accrued_fine_of(session, loan, now), loan.renewals, rules.max_renewals))
    visible_since = now - timedelta(days=cancelled_visible_days)
    holds = []
    hold_rows = session.execute(
        select(Hold, Branch).join(Branch, Branch.id == Hold.pickup_branch_id)
        .where(Hold.patron_id == patron_id, or_(Hold.state.in_((*ACTIVE_HOLD_STATES, "suspended")),
                                                (Hold.state == "cancelled") & (Hold.cancelled_at >= visible_since)))
        .order_by(Hold.placed_at, Hold.id))
    for hold, pickup in hold_rows:
        title = session.scalar(select(Item.title).where(Item.record_key == hold.record_key).limit(1)) or ""
        holds.append(HoldLine(hold.id, hold.record_key, title, hold.state, queue_position(session, hold), pickup.code,
                              pickup.name, hold.last_pickup_day, hold.hold_identifier if hold.state == "ready" else None,
                              hold.placed_at, hold.cancelled_at, hold.suspended_until))
    balance = balance_of(session, patron_id, policy.currency)
    return AccountSummary(
        patron_id=patron.id, card_number=patron.card_number, name=patron.name, library=library.code,
        preset=library.preset, category=circ.category, currency=policy.currency, loans=loans, holds=holds,
        fees=outstanding_debits(session, patron_id), balance=balance,
        accruing=Money.total((line.accruing_fine for line in loans), policy.currency),
        billing_banned=circ.in_collection or policy.billing_ban.bans(balance), in_collection=circ.in_collection,
        ban_threshold=policy.billing_ban.threshold, ban_comparison=policy.billing_ban.comparison,
        premises_ban_until=premises_ban_until(session, patron_id, local_today(policy.timezone, now)),
        online_payment=online_payment_preview(session, patron_id))


# -- the patron's pages: fees with their items, payments, pickup branches, dependants ---------------


@dataclass(frozen=True)
class FeeLine:
    fee_id: int
    kind: str
    reason: str
    item_title: str
    item_barcode: str
    created_at: datetime
    amount: Money
    outstanding: Money


def fee_lines(session: Session, patron_id: int) -> list[FeeLine]:
    """Every unpaid fee with the item it is for (when it is for a loan), oldest first [003]."""
    debits = outstanding_debits(session, patron_id)
    loan_ids = {d.loan_id for d in debits if d.loan_id is not None}
    items = dict(session.execute(select(Loan.id, Item).join(Item, Item.id == Loan.item_id)
                                 .where(Loan.id.in_(loan_ids))).tuples().all()) if loan_ids else {}
    return [FeeLine(d.id, d.kind, d.reason, items[d.loan_id].title if d.loan_id in items else "",
                    items[d.loan_id].barcode if d.loan_id in items else "", d.created_at, d.amount, d.outstanding)
            for d in debits]


@dataclass(frozen=True)
class PaymentLine:
    payment_id: int
    method: str  # desk | online
    status: str  # pending | paid | failed
    amount: Money
    created_at: datetime
    booked_at: datetime | None


def payment_history(session: Session, patron_id: int, *, limit: int = 100) -> list[PaymentLine]:
    """The patron's payments, newest first: at the desk and online (pending ones too)."""
    rows = session.scalars(select(Payment).where(Payment.patron_id == patron_id)
                           .order_by(Payment.created_at.desc(), Payment.id.desc()).limit(limit))
    return [PaymentLine(p.id, p.method, p.status, Money(p.amount_minor, p.currency), p.created_at, p.booked_at)
            for p in rows]


def payment_of_patron(session: Session, patron_id: int, payment_id: int) -> PaymentLine:
    """One of the patron's payments (the receipt page); 404 for another's."""
    payment = session.get(Payment, payment_id)
    if payment is None or payment.patron_id != patron_id:
        raise DomainError("not-found", 404, what="payment")
    return PaymentLine(payment.id, payment.method, payment.status, Money(payment.amount_minor, payment.currency),
                       payment.created_at, payment.booked_at)


def pickup_branches(session: Session, patron_id: int) -> list[tuple[str, str]]:
    """(code, name) of the branches of the patron's library, where holds can be picked up."""
    _patron, circ, _library = borrower(session, patron_id)
    return [(b.code, b.name) for b in session.scalars(select(Branch).where(Branch.library_id == circ.library_id)
                                                      .order_by(Branch.name, Branch.id))]


def change_hold_pickup(session: Session, hold_id: int, *, patron_id: int, branch_code: str, now: datetime,
                       actor: object) -> Decision:
    """Move the patron's waiting hold to another pickup branch of her library [003]. Only while it waits:
    a copy in transit or on the shelf is already going to the old branch (refused as hold_not_waiting)."""
    hold = session.get(Hold, hold_id)
    if hold is None or hold.patron_id != patron_id:
        raise DomainError("not-found", 404, what="hold")
    branch = session.scalar(select(Branch).where(Branch.library_id == hold.library_id, Branch.code == branch_code))
    if branch is None:
        raise DomainError("not-found", 404, what="branch")
    if hold.state != "waiting":
        return Decision.refuse("hold_not_waiting", state=hold.state)
    done = session.execute(update(Hold).where(Hold.id == hold.id, Hold.state == "waiting")
                           .values(pickup_branch_id=branch.id))
    if done.rowcount != 1:
        return Decision.refuse("hold_not_waiting")
    audit.record(session, actor=actor, action="circulation.hold_pickup_changed", now=now, record_type="circ_hold",
                 record_id=hold.id, branch=branch.code)
    session.flush()
    return Decision.allow()


@dataclass(frozen=True)
class Dependant:
    patron_id: int
    name: str
    kind: str  # person (a child) | institution


def dependants(session: Session, patron_id: int) -> list[Dependant]:
    """Those the patron answers for: her under-15 children and the institutions she is responsible for [001]."""
    rows = session.execute(select(Patron.id, Patron.name, Patron.kind)
                           .join(PatronCirculation, PatronCirculation.patron_id == Patron.id)
                           .where(PatronCirculation.responsible_patron_id == patron_id, Patron.active.is_(True))
                           .order_by(Patron.name, Patron.id))
    return [Dependant(pid, name, kind) for pid, name, kind in rows]


def act_for(session: Session, *, patron_id: int, dependant_id: int, now: datetime, actor: object,
            what: str) -> Dependant:
    """The patron switches to acting for a dependant ("acting for Kaisa"): allowed only for those she
    answers for (404 otherwise, as for any record not hers), and audited with what she did."""
    found = next((d for d in dependants(session, patron_id) if d.patron_id == dependant_id), None)
    if found is None:
        raise DomainError("not-found", 404, what="patron")
    audit.record(session, actor=actor, action="circulation.acting_for", now=now, record_type="patron",
                 record_id=dependant_id, what=what)
    session.flush()
    return found


@dataclass(frozen=True)
class Profile:
    name: str
    card_number: str
    email: str
    phone: str
    postal_address: str
    category: str
    library_name: str
    home_branch_name: str
    card_expires_on: date | None
    notice_channels: list[str]
    advance_notice_days: int | None
    advance_notice_range: tuple[int, int] | None  # (min, max) the library allows; None: no advance notice
    receipts_by_email: bool
    hold_nickname: str | None
    language: str


def profile_of(session: Session, patron_id: int) -> Profile:
    """What the library holds about the patron, and her own settings [003,001]."""
    patron, circ, library = borrower(session, patron_id)
    branch = session.get(Branch, circ.home_branch_id)
    rule = policy_of(library).advance_notice
    return Profile(patron.name, patron.card_number, patron.email, patron.phone, circ.postal_address, circ.category,
                   library.name, branch.name if branch else "", circ.card_expires_on, list(circ.notice_channels or []),
                   circ.advance_notice_days, (rule.min_days, rule.max_days) if rule else None,
                   circ.receipts_by_email, circ.hold_nickname, patron.language)


def update_contact(session: Session, patron_id: int, *, email: str, phone: str, now: datetime,
                   actor: object) -> None:
    """The patron's own email address and phone number (the name only at the desk); audited without values."""
    patron, _circ, _library = borrower(session, patron_id)
    changed = [name for name, old, new in (("email", patron.email, email), ("phone", patron.phone, phone))
               if old != new]
    patron.email, patron.phone = email, phone
    if changed:
        audit.record(session, actor=actor, action="circulation.contact_changed", now=now, record_type="patron",
                     record_id=patron_id, fields=changed)
    session.flush()


def library_of_patron(session: Session, patron_id: int) -> CircLibrary:
    return borrower(session, patron_id)[2]



def enqueue_payment_receipt(session: Session, payment_id: int, *, now: datetime) -> bool:
    """The emailed receipt of a booked online payment, once whatever calls it how often (the return, the
    callback, a reload): its outbox key is the payment. True when it was queued now."""
    from app.circulation.messages import date_text, money_in
    from app.notify import service as notify

    payment = session.get(Payment, payment_id)
    if payment is None or payment.status != "paid":
        return False
    patron, _circ, library = borrower(session, payment.patron_id)
    if not patron.email:
        return False
    language = patron.language or "fi"
    booked = payment.booked_at or now
    return notify.enqueue(session, key=f"circ:payment-receipt:{payment.id}", channel="email", recipient=patron.email,
                          template="circulation_payment_receipt", language=language, now=now,
                          context={"name": patron.name, "library": library.name, "payment_id": payment.id,
                                   "amount": money_in(Money(payment.amount_minor, payment.currency), language),
                                   "paid_on": date_text(booked.date(), language)})


# -- pausing a hold (Koha's suspend) -----------------------------------------------------------------

MAX_SUSPENSION_DAYS = 365


def suspend_hold(session: Session, hold_id: int, *, patron_id: int, until: date | None, now: datetime,
                 actor: object) -> Decision:
    """Pause the patron's waiting hold until ``until`` (None: until she resumes it). It keeps its place in the
    queue but no copy is set aside for it meanwhile; the nightly job resumes it on that day. Refused as
    hold_not_waiting (a copy is already on its way or on the shelf) or suspension_date_invalid (not after
    today, or more than a year ahead)."""
    hold = session.get(Hold, hold_id)
    if hold is None or hold.patron_id != patron_id:
        raise DomainError("not-found", 404, what="hold")
    library = session.get(CircLibrary, hold.library_id)
    assert library is not None
    today = local_today(policy_of(library).timezone, now)
    if until is not None and not today < until <= today + timedelta(days=MAX_SUSPENSION_DAYS):
        return Decision.refuse("suspension_date_invalid", earliest=today + timedelta(days=1),
                               latest=today + timedelta(days=MAX_SUSPENSION_DAYS))
    done = session.execute(update(Hold).where(Hold.id == hold.id, Hold.state == "waiting")
                           .values(state="suspended", suspended_until=until))
    if done.rowcount != 1:
        session.refresh(hold)
        return Decision.refuse("hold_not_waiting", state=hold.state)
    audit.record(session, actor=actor, action="circulation.hold_suspended", now=now, record_type="circ_hold",
                 record_id=hold.id, until=until.isoformat() if until else None)
    session.flush()
    return Decision.allow()


def resume_hold(session: Session, hold_id: int, *, patron_id: int, now: datetime, actor: object) -> Decision:
    """The patron resumes her suspended hold: it waits again in its old place in the queue."""
    hold = session.get(Hold, hold_id)
    if hold is None or hold.patron_id != patron_id:
        raise DomainError("not-found", 404, what="hold")
    done = session.execute(update(Hold).where(Hold.id == hold.id, Hold.state == "suspended")
                           .values(state="waiting", suspended_until=None))
    if done.rowcount != 1:
        return Decision.refuse("hold_not_suspended")
    audit.record(session, actor=actor, action="circulation.hold_resumed", now=now, record_type="circ_hold",
                 record_id=hold.id)
    session.flush()
    return Decision.allow()


def resume_due_holds(session: Session, now: datetime) -> int:
    """Suspended holds whose day has come wait again (the nightly job). Returns how many. The day is each
    library's local date; a library's holds are resumed in one UPDATE."""
    resumed = 0
    for library in session.scalars(select(CircLibrary)):
        today = local_today(policy_of(library).timezone, now)
        done = session.execute(update(Hold).where(Hold.library_id == library.id, Hold.state == "suspended",
                                                  Hold.suspended_until.is_not(None), Hold.suspended_until <= today)
                               .values(state="waiting", suspended_until=None))
        resumed += done.rowcount or 0
    session.flush()
    return resumed
