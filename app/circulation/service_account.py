"""The patron's account summary ("My account" [003]): loans by due date with due-soon and overdue
markers and accruing fines, holds with queue position and last pickup day, fees with what and
why, the balance, ban state and whether online payment is possible."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, case, func, literal, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app import audit
from app.accounts.models import Patron
from app.circulation.bulk import update_column_by_id
from app.circulation.calendar import LoanChannel
from app.circulation.decisions import Decision, OutstandingFee, can_renew, online_payment_decision
from app.circulation.decisions import is_under_billing_ban as facts_under_billing_ban
from app.circulation.fines import fine_as_of
from app.circulation.models import (
    ACTIVE_HOLD_STATES,
    Branch,
    CircLibrary,
    Hold,
    Item,
    Loan,
    NoticeSent,
    PatronCirculation,
    Payment,
)
from app.circulation.money import Money
from app.circulation.notices import ContactChannels, PatronNoticeFacts, next_notice_date
from app.circulation.service_common import (
    balance_of,
    borrower,
    branch_calendar,
    local_today,
    patron_facts,
    policy_of,
    premises_ban_until,
)
from app.circulation.service_fees import OutstandingDebit, outstanding_debits, recompute_billing_ban
from app.circulation.service_loans import RenewalResult, loan_fine_model, register_fine
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
    # Plain rows, not ORM objects: a patron may have a hundred loans, and this is every account page's query.
    rows = session.execute(
        select(Loan.id, Loan.due_at, Loan.renewals, Loan.fine_model, Loan.fine_amount_minor, Loan.fine_cap_minor,
               Loan.grace_days, Loan.currency, Item.barcode, Item.title, Item.material_type, Branch.code,
               Branch.timezone)
        .join(Item, Item.id == Loan.item_id).join(Branch, Branch.id == Loan.branch_id)
        .where(Loan.patron_id == patron_id, Loan.status == "open").order_by(Loan.due_at, Loan.id))
    zones: dict[str, tuple[ZoneInfo, date]] = {}
    max_renewals: dict[tuple[str, str], int] = {}
    for row in rows:
        if row.timezone not in zones:
            zones[row.timezone] = (ZoneInfo(row.timezone), local_today(row.timezone, now))
        zone, today = zones[row.timezone]
        due_local = row.due_at.astimezone(zone)
        state = ("overdue" if now > row.due_at else
                 "due_soon" if due_local.date() - today <= timedelta(days=due_soon_days) else "on_time")
        rule_key = (row.code, row.material_type)
        if rule_key not in max_renewals:
            max_renewals[rule_key] = policy.rules_for(row.code, circ.category, row.material_type).max_renewals
        fine = fine_as_of(due_at=due_local, as_of=now, fine=loan_fine_model(cast(Any, row)), grace_days=row.grace_days,
                          currency=row.currency)  # as accrued_fine_of, from the row
        loans.append(LoanLine(row.id, row.barcode, row.title, row.material_type, due_local, state, fine, row.renewals,
                              max_renewals[rule_key]))
    visible_since = now - timedelta(days=cancelled_visible_days)
    hold_rows = session.execute(
        select(Hold, Branch).join(Branch, Branch.id == Hold.pickup_branch_id)
        .where(Hold.patron_id == patron_id, or_(Hold.state.in_((*ACTIVE_HOLD_STATES, "suspended")),
                                                (Hold.state == "cancelled") & (Hold.cancelled_at >= visible_since)))
        .order_by(Hold.placed_at, Hold.id)).all()
    titles, positions = _hold_titles(session, hold_rows), _queue_positions(session, hold_rows)
    holds = [HoldLine(hold.id, hold.record_key, titles.get(hold.record_key, ""), hold.state, positions.get(hold.id),
                      pickup.code, pickup.name, hold.last_pickup_day,
                      hold.hold_identifier if hold.state == "ready" else None, hold.placed_at, hold.cancelled_at,
                      hold.suspended_until)
             for hold, pickup in hold_rows]
    debits = outstanding_debits(session, patron_id)
    balance = balance_of(session, patron_id, policy.currency)
    return AccountSummary(
        patron_id=patron.id, card_number=patron.card_number, name=patron.name, library=library.code,
        preset=library.preset, category=circ.category, currency=policy.currency, loans=loans, holds=holds,
        fees=debits, balance=balance,
        accruing=Money.total((line.accruing_fine for line in loans), policy.currency),
        billing_banned=circ.in_collection or policy.billing_ban.bans(balance), in_collection=circ.in_collection,
        ban_threshold=policy.billing_ban.threshold, ban_comparison=policy.billing_ban.comparison,
        premises_ban_until=premises_ban_until(session, patron_id, local_today(policy.timezone, now)),
        online_payment=online_payment_decision(outstanding=[OutstandingFee(d.kind, d.outstanding) for d in debits],
                                               amount=None, policy=policy))


def _hold_titles(session: Session, hold_rows: Sequence[Any]) -> dict[str, str]:
    """The title of each held record (from any of its copies), in one query."""
    keys = {hold.record_key for hold, _branch in hold_rows}
    if not keys:
        return {}
    rows = session.execute(select(Item.record_key, func.min(Item.title)).where(Item.record_key.in_(keys))
                           .group_by(Item.record_key))
    return {key: title for key, title in rows}


def _queue_positions(session: Session, hold_rows: Sequence[Any]) -> dict[int, int]:
    """Place in the queue of each waiting hold (1 = next in line), in one query: the waiting holds on the same
    record of the same library placed before it, plus one [003]. As ``queue_position``, for many holds."""
    mine = {hold.id: hold for hold, _branch in hold_rows if hold.state == "waiting"}
    if not mine:
        return {}
    keys = {hold.record_key for hold in mine.values()}
    queues: dict[tuple[str, int], list[int]] = {}
    for hold_id, record_key, library_id in session.execute(
            select(Hold.id, Hold.record_key, Hold.library_id)
            .where(Hold.record_key.in_(keys), Hold.state == "waiting").order_by(Hold.placed_at, Hold.id)):
        queues.setdefault((record_key, library_id), []).append(hold_id)
    return {hold_id: queues[(hold.record_key, hold.library_id)].index(hold_id) + 1 for hold_id, hold in mine.items()}


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
    items = {loan_id: item for loan_id, item in session.execute(
        select(Loan.id, Item).join(Item, Item.id == Loan.item_id).where(Loan.id.in_(loan_ids)))} if loan_ids else {}
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
    may_change_address: bool = False  # the preset lets the patron change her postal address herself


def profile_of(session: Session, patron_id: int) -> Profile:
    """What the library holds about the patron, and her own settings [003,001]."""
    patron, circ, library = borrower(session, patron_id)
    branch = session.get(Branch, circ.home_branch_id)
    policy = policy_of(library)
    rule = policy.advance_notice
    return Profile(patron.name, patron.card_number, patron.email, patron.phone, circ.postal_address, circ.category,
                   library.name, branch.name if branch else "", circ.card_expires_on, list(circ.notice_channels or []),
                   circ.advance_notice_days, (rule.min_days, rule.max_days) if rule else None,
                   circ.receipts_by_email, circ.hold_nickname, patron.language, policy.patron_changes_address)


def update_contact(session: Session, patron_id: int, *, email: str, phone: str, now: datetime,
                   actor: object, postal_address: str | None = None) -> None:
    """The patron's own email address and phone number, and her postal address where the library's preset
    allows it (``postal_address`` None: unchanged; refused as address-change-not-allowed otherwise; the name
    only at the desk). Audited without the values."""
    patron, circ, library = borrower(session, patron_id)
    if postal_address is not None and postal_address != circ.postal_address:
        if not policy_of(library).patron_changes_address:
            raise DomainError("address-change-not-allowed", 403)
    changed = [name for name, old, new in (("email", patron.email, email), ("phone", patron.phone, phone),
                                           ("postal_address", circ.postal_address, postal_address))
               if new is not None and old != new]
    patron.email, patron.phone = email, phone
    if postal_address is not None:
        circ.postal_address = postal_address
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


# -- renewing many loans at once ("Renew all" on the loans page) ------------------------------------------


def renew_loans_at_once(session: Session, *, patron_id: int, loan_ids: list[int] | None, now: datetime,
                        actor: object, channel: LoanChannel = "web") -> list[RenewalResult]:
    """``service_loans.renew_loans`` for a page of loans (None = all), with the same rules and answers, in a
    fixed number of queries instead of eight per loan: the loans with their items and branches in one query,
    the titles with waiting holds in one, each branch's calendar and the notices already sent once; the
    renewals in one conditional UPDATE (a loan renewed or returned meanwhile is refused as
    item_not_available), and the next notice days in one executemany. (Overdue loans add their fine's
    booking, as in the core.) Fines accrued so far
    register at renewal [003]; a refusal does not stop them accruing [001]."""
    patron, circ, library = borrower(session, patron_id)
    policy = policy_of(library)
    query = (select(Loan, Item, Branch).join(Item, Item.id == Loan.item_id).join(Branch, Branch.id == Loan.branch_id)
             .where(Loan.patron_id == patron_id, Loan.status == "open").order_by(Loan.due_at, Loan.id))
    if loan_ids is not None:
        query = query.where(Loan.id.in_(loan_ids))
    rows = session.execute(query).all()
    if loan_ids is not None and len(rows) != len(set(loan_ids)):
        raise DomainError("not-found", 404, what="loan")
    barred = facts_under_billing_ban(patron_facts(session, patron, circ, policy, now), policy)
    keys = {item.record_key for _loan, item, _branch in rows}
    held = set(session.scalars(select(Hold.record_key).distinct().where(
        Hold.record_key.in_(keys), Hold.library_id == library.id, Hold.state == "waiting"))) if keys else set()
    calendars: dict[int, Any] = {}
    results: list[RenewalResult] = []
    candidates: list[tuple[Loan, Item, Branch, datetime, Money, Any]] = []
    renewed: list[tuple[Loan, Item, Branch]] = []
    for loan, item, branch in rows:
        rules = policy.rules_for(branch.code, circ.category, item.material_type)
        decision = can_renew(renewals_done=loan.renewals, has_holds=item.record_key in held, patron_barred=barred,
                             rules=rules)
        if not decision.allowed:
            results.append(RenewalResult(loan.id, item.barcode, decision, loan.due_at))
            continue
        if branch.id not in calendars:
            calendars[branch.id] = branch_calendar(session, branch)
        new_due = calendars[branch.id].due_at(now, rules.loan_days, channel)
        if new_due <= loan.due_at:
            results.append(RenewalResult(loan.id, item.barcode, Decision.refuse("too_soon"), loan.due_at))
            continue
        fine = register_fine(session, loan, as_of=now, now=now, actor=actor)
        candidates.append((loan, item, branch, new_due, fine, decision.details["renewals_left"]))
        results.append(RenewalResult(loan.id, item.barcode, decision, loan.due_at))  # replaced below
    # One conditional UPDATE for them all: a loan renewed or returned meanwhile (its due time or renewal count
    # changed) is left out, and RETURNING says which were renewed.
    done: set[int] = set()
    if candidates:
        new_dues = {loan.id: new_due for loan, _item, _branch, new_due, _fine, _left in candidates}
        done = set(session.scalars(
            update(Loan).where(Loan.status == "open", or_(*(
                (Loan.id == loan.id) & (Loan.due_at == loan.due_at) & (Loan.renewals == loan.renewals)
                for loan, *_rest in candidates)))
            .values(due_at=case(*((Loan.id == k, literal(v, Loan.__table__.c.due_at.type))
                                  for k, v in new_dues.items())),
                    due_day=case(*((Loan.id == k, literal(v.date().toordinal(), Integer))
                                   for k, v in new_dues.items())),
                    renewals=Loan.renewals + 1, accrued_fine_minor=0)
            .returning(Loan.id).execution_options(synchronize_session=False)))
    answers: dict[int, RenewalResult] = {}
    for loan, item, branch, new_due, fine, left in candidates:
        if loan.id not in done:
            answers[loan.id] = RenewalResult(loan.id, item.barcode, Decision.refuse("item_not_available"),
                                             loan.due_at)
            continue
        set_committed_value(loan, "due_at", new_due)  # what the UPDATE wrote, without reading it back
        set_committed_value(loan, "due_day", new_due.date().toordinal())
        set_committed_value(loan, "renewals", loan.renewals + 1)
        set_committed_value(loan, "accrued_fine_minor", 0)
        renewed.append((loan, item, branch))
        answers[loan.id] = RenewalResult(loan.id, item.barcode, Decision.allow(renewals_left=left), new_due,
                                         fine if fine.is_positive else None)
    results = [answers.get(result.loan_id, result) for result in results]
    _schedule_notices(session, renewed, circ, policy, now)
    if any(result.fine_registered for result in results):
        recompute_billing_ban(session, patron_id, now=now, actor=actor)
    return results


def _schedule_notices(session: Session, renewed: list[tuple[Loan, Item, Branch]], circ: PatronCirculation,
                      policy: Any, now: datetime) -> None:
    """``service_notices.schedule_next_notice`` for the renewed loans: the notices already sent for their new
    due dates read in one query, the next notice days written in one executemany."""
    if not renewed:
        return
    sent: dict[tuple[int, date], set[str]] = {}
    for loan_id, due_date, code in session.execute(
            select(NoticeSent.loan_id, NoticeSent.due_date, NoticeSent.step_code)
            .where(NoticeSent.loan_id.in_([loan.id for loan, _item, _branch in renewed]))):
        sent.setdefault((loan_id, due_date), set()).add(code)
    facts = PatronNoticeFacts(category=circ.category, contacts=ContactChannels(), opted_out=circ.notices_opted_out,
                              advance_notice_days=circ.advance_notice_days)
    pairs = []
    for loan, item, branch in renewed:
        due_date = date.fromordinal(loan.due_day)
        after = local_today(branch.timezone, now) - timedelta(days=1)
        next_on = next_notice_date(due_date=due_date, after=after, already_sent=sent.get((loan.id, due_date), set()),
                                   patron=facts, is_childrens_material=item.is_childrens_material, policy=policy)
        set_committed_value(loan, "next_notice_on", next_on)
        pairs.append((loan.id, next_on))
    update_column_by_id(session, Loan.__table__, "next_notice_on", pairs)
