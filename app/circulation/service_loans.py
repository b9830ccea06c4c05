"""Loans: checkout, renewal (one or many, per-item answers), check-in anywhere in the consortium
with book-drop dating and hold routing, fines registered at return and renewal, lost and damaged
items."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app import audit
from app.accounts.models import Patron
from app.circulation.calendar import LoanChannel
from app.circulation.decisions import Decision, ItemFacts, can_checkout, can_renew
from app.circulation.decisions import is_under_billing_ban as facts_under_billing_ban
from app.circulation.fines import effective_fine_model, fine_as_of
from app.circulation.models import Branch, CircLibrary, Hold, Item, Loan, PatronCirculation
from app.circulation.money import Money
from app.circulation.policy import FineModel, Policy
from app.circulation.service_common import (
    add_fee,
    borrower,
    branch_calendar,
    find_branch,
    local_today,
    patron_facts,
    policy_of,
)
from app.circulation.service_fees import allocate_credit, outstanding_debits, recompute_billing_ban
from app.circulation.service_history import record_return
from app.circulation.service_holds import RoutingResult, collect_hold, ready_hold_for, route_item
from app.circulation.service_notices import enqueue_receipt, schedule_next_notice
from app.errors import DomainError

ILL_MATERIAL_TYPE = "interlibrary_loan"  # the vocabulary every preset uses for interlibrary loans


@dataclass(frozen=True)
class CheckoutResult:
    decision: Decision
    loan: Loan | None = None


@dataclass(frozen=True)
class RenewalResult:
    loan_id: int
    item_barcode: str
    decision: Decision
    due_at: datetime  # the new due time when renewed, the unchanged one when refused
    fine_registered: Money | None = None


@dataclass(frozen=True)
class CheckinResult:
    decision: Decision
    item_barcode: str
    loan_id: int | None = None
    patron_id: int | None = None
    returned_on: date | None = None
    fine_registered: Money | None = None
    routing: RoutingResult | None = None


def item_by_barcode(session: Session, barcode: str) -> Item:
    item = session.scalar(select(Item).where(Item.barcode == barcode))
    if item is None:
        raise DomainError("not-found", 404, what="item", barcode=barcode)
    return item


def open_loan_of(session: Session, item_id: int) -> Loan | None:
    return session.scalar(select(Loan).where(Loan.item_id == item_id, Loan.status == "open"))


def loan_fine_model(loan: Loan) -> FineModel:
    if loan.fine_model == "none":
        return FineModel("none")
    cap = Money(loan.fine_cap_minor, loan.currency) if loan.fine_cap_minor is not None else None
    return FineModel(loan.fine_model, Money(loan.fine_amount_minor, loan.currency), cap)


def loan_due_local(session: Session, loan: Loan) -> datetime:
    branch = session.get(Branch, loan.branch_id)
    assert branch is not None
    return loan.due_at.astimezone(ZoneInfo(branch.timezone))


def accrued_fine_of(session: Session, loan: Loan, as_of: datetime) -> Money:
    """What the loan has accrued in its current due period by ``as_of`` (visible, not owed yet)."""
    return fine_as_of(due_at=loan_due_local(session, loan), as_of=as_of, fine=loan_fine_model(loan),
                      grace_days=loan.grace_days, currency=loan.currency)


def register_fine(session: Session, loan: Loan, *, as_of: datetime, now: datetime, actor: Any) -> Money:
    """Register the accrued fine of the current due period as a debt, once per period [003]."""
    amount = accrued_fine_of(session, loan, as_of)
    booked = add_fee(session, patron_id=loan.patron_id, library_id=loan.library_id, kind="overdue_fine",
                     amount=amount, reason="overdue fine", now=now, actor=actor, loan_id=loan.id,
                     dedup_key=f"fine:{loan.id}:{loan.due_day}")
    return amount if booked else Money.zero(loan.currency)


def _loans_by_material(session: Session, patron_id: int) -> dict[str, int]:
    rows = session.execute(select(Item.material_type, func.count()).join(Loan, Loan.item_id == Item.id)
                           .where(Loan.patron_id == patron_id, Loan.status == "open").group_by(Item.material_type))
    return {material: int(count) for material, count in rows}


def checkout(session: Session, *, patron_id: int, item_barcode: str, branch: str | None, now: datetime,
             actor: Any, channel: LoanChannel = "desk") -> CheckoutResult:
    """Lend an item. Refusals (in this order): account_closed, card_blocked, premises_ban, card_expired,
    membership_revalidation_due, billing_ban, item_not_available, age_rating, limit_total,
    limit_group — and other_library for an item of another consortium.

    ``branch`` is where the loan is made (desk, self-service); for web and reader-app loans it may
    be None, and the patron's home branch's calendar sets the due date (at 23:59:59 [001]).
    """
    patron, circ, library = borrower(session, patron_id)
    policy = policy_of(library)
    item = item_by_barcode(session, item_barcode)
    if item.library_id != library.id:
        return CheckoutResult(Decision.refuse("other_library"))
    where = find_branch(session, branch, library.id) if branch else session.get(Branch, circ.home_branch_id)
    assert where is not None
    held = ready_hold_for(session, item.id)
    held_for_patron = held is not None and held.patron_id == patron_id
    available = item.status == "available" or (item.status == "on_hold_shelf" and held_for_patron)
    today = local_today(where.timezone, now)
    decision = can_checkout(
        patron=patron_facts(session, patron, circ, policy, now),
        item=ItemFacts(item.material_type, available, item.age_rating, item.is_childrens_material),
        loans_by_material=_loans_by_material(session, patron_id), policy=policy, branch=where.code, today=today)
    if not decision.allowed:
        return CheckoutResult(decision)
    claimed = session.execute(update(Item).where(Item.id == item.id, Item.status == item.status)
                              .values(status="on_loan", current_branch_id=where.id))
    if claimed.rowcount != 1:  # somebody else got it first (two desks, two requests)
        return CheckoutResult(Decision.refuse("item_not_available"))
    rules = policy.rules_for(where.code, circ.category, item.material_type)
    due_at = branch_calendar(session, where).due_at(now, rules.loan_days, channel)
    fine = effective_fine_model(rules, is_childrens_material=item.is_childrens_material)
    loan = Loan(item_id=item.id, patron_id=patron_id, library_id=library.id, branch_id=where.id, channel=channel,
                checked_out_at=now, due_at=due_at, due_day=due_at.date().toordinal(), renewals=0, status="open",
                fine_model=fine.model, fine_amount_minor=fine.amount.minor if fine.amount else 0,
                fine_cap_minor=fine.cap.minor if fine.cap else None, grace_days=rules.grace_days,
                currency=policy.currency, accrued_fine_minor=0)
    # Scheduled before the INSERT (a new loan has had no notices), so one statement writes the loan.
    schedule_next_notice(session, loan, circ, policy, item.is_childrens_material, after=today - timedelta(days=1))
    session.add(loan)
    session.flush()
    if held_for_patron and held is not None:
        collect_hold(session, held, now=now)
    if item.material_type == ILL_MATERIAL_TYPE and policy.fees.interlibrary_loan is not None:
        add_fee(session, patron_id=patron_id, library_id=library.id, kind="interlibrary_loan",
                amount=policy.fees.interlibrary_loan, reason=f"interlibrary loan: {item.title}"[:300], now=now,
                actor=actor, loan_id=loan.id, dedup_key=f"ill:{loan.id}")
        recompute_billing_ban(session, patron_id, now=now, actor=actor)
    enqueue_receipt(session, "checkout", loan, item, patron, circ, now=now)
    return CheckoutResult(Decision.allow(due_at=due_at), loan)


def renew_loans(session: Session, *, patron_id: int, loan_ids: list[int] | None, now: datetime, actor: Any,
                channel: LoanChannel = "web") -> list[RenewalResult]:
    """Renew the patron's chosen loans (None = all), one answer per item: renewed with the new
    due date, or refused as borrowing_suspended, reserved, max_renewals (or too_soon) [001,003].
    Fines accrued so far register at renewal [003]; a refusal does not stop them accruing [001]."""
    patron, circ, library = borrower(session, patron_id)
    policy = policy_of(library)
    query = select(Loan).where(Loan.patron_id == patron_id, Loan.status == "open").order_by(Loan.due_at, Loan.id)
    if loan_ids is not None:
        query = query.where(Loan.id.in_(loan_ids))
    loans = list(session.scalars(query))
    if loan_ids is not None and len(loans) != len(set(loan_ids)):
        raise DomainError("not-found", 404, what="loan")
    barred = facts_under_billing_ban(patron_facts(session, patron, circ, policy, now), policy)
    results = [_renew(session, loan, circ, policy, barred=barred, now=now, actor=actor, channel=channel)
               for loan in loans]
    if any(result.fine_registered for result in results):
        recompute_billing_ban(session, patron_id, now=now, actor=actor)
    return results


def renew_loan(session: Session, loan_id: int, *, now: datetime, actor: Any,
               channel: LoanChannel = "web") -> RenewalResult:
    loan = session.get(Loan, loan_id)
    if loan is None:
        raise DomainError("not-found", 404, what="loan")
    return renew_loans(session, patron_id=loan.patron_id, loan_ids=[loan_id], now=now, actor=actor,
                       channel=channel)[0]


def _renew(session: Session, loan: Loan, circ: PatronCirculation, policy: Policy, *, barred: bool,
           now: datetime, actor: Any, channel: LoanChannel) -> RenewalResult:
    item = session.get(Item, loan.item_id)
    branch = session.get(Branch, loan.branch_id)
    assert item is not None and branch is not None
    rules = policy.rules_for(branch.code, circ.category, item.material_type)
    has_holds = session.scalar(select(func.count()).select_from(Hold).where(
        Hold.record_key == item.record_key, Hold.library_id == loan.library_id, Hold.state == "waiting")) > 0
    decision = can_renew(renewals_done=loan.renewals, has_holds=has_holds, patron_barred=barred, rules=rules)
    if not decision.allowed:
        return RenewalResult(loan.id, item.barcode, decision, loan.due_at)
    new_due = branch_calendar(session, branch).due_at(now, rules.loan_days, channel)
    if new_due <= loan.due_at:
        return RenewalResult(loan.id, item.barcode, Decision.refuse("too_soon"), loan.due_at)
    fine = register_fine(session, loan, as_of=now, now=now, actor=actor)
    old_due, old_renewals = loan.due_at, loan.renewals
    done = session.execute(update(Loan).where(Loan.id == loan.id, Loan.status == "open", Loan.due_at == old_due,
                                              Loan.renewals == old_renewals)
                           .values(due_at=new_due, due_day=new_due.date().toordinal(), renewals=old_renewals + 1,
                                   accrued_fine_minor=0))
    if done.rowcount != 1:
        return RenewalResult(loan.id, item.barcode, Decision.refuse("item_not_available"), loan.due_at)
    session.refresh(loan)
    schedule_next_notice(session, loan, circ, policy, item.is_childrens_material,
                         after=local_today(branch.timezone, now) - timedelta(days=1))
    return RenewalResult(loan.id, item.barcode, Decision.allow(renewals_left=decision.details["renewals_left"]),
                         new_due, fine if fine.is_positive else None)


def checkin(session: Session, *, item_barcode: str, branch: str, now: datetime, actor: Any,
            book_drop: bool = False) -> CheckinResult:
    """Return an item at any branch of its consortium [001]. A book-drop return is recorded on the
    branch's next opening day [001] and fined until then. The fine registers [003]; the item then
    goes to a waiting hold (hold shelf here, or in transit to the pickup branch) or to the shelf."""
    item = item_by_barcode(session, item_barcode)
    where = find_branch(session, branch, item.library_id)
    if where.library_id != item.library_id:
        return CheckinResult(Decision.refuse("other_library"), item.barcode)
    calendar = branch_calendar(session, where)
    returned_on, returned_at = local_today(where.timezone, now), now
    if book_drop:
        returned_on = calendar.book_drop_return_date(now)
        opening = calendar.opening_time(returned_on)
        returned_at = max(now, opening) if opening is not None else now
    loan = open_loan_of(session, item.id) or _lost_loan_of(session, item)
    fine = None
    if loan is not None:
        was_lost = loan.status == "lost"
        closed = session.execute(update(Loan).where(Loan.id == loan.id, Loan.status == loan.status).values(
            status="returned", returned_at=returned_at, returned_on=returned_on, return_branch_id=where.id,
            return_method="book_drop" if book_drop else "desk", next_notice_on=None, accrued_fine_minor=0))
        if closed.rowcount == 1:
            for key, value in (("status", "returned"), ("returned_at", returned_at), ("returned_on", returned_on),
                               ("return_branch_id", where.id), ("next_notice_on", None), ("accrued_fine_minor", 0),
                               ("return_method", "book_drop" if book_drop else "desk")):
                set_committed_value(loan, key, value)  # what the UPDATE wrote, without reading it back
            fine = _refund_lost_item(session, loan, now=now, actor=actor) if was_lost else register_fine(
                session, loan, as_of=returned_at, now=now, actor=actor)
            recompute_billing_ban(session, loan.patron_id, now=now, actor=actor)
            patron, circ, _library = borrower(session, loan.patron_id)
            enqueue_receipt(session, "checkin", loan, item, patron, circ, now=now)
            record_return(session, loan, item, returned_at=returned_at)  # the opt-in loan history
    routing = route_item(session, item, where, now=now, actor=actor)
    return CheckinResult(Decision.allow(), item.barcode, loan.id if loan else None, loan.patron_id if loan else None,
                         returned_on if loan else None, fine, routing)


def _lost_loan_of(session: Session, item: Item) -> Loan | None:
    if item.status != "lost":
        return None
    return session.scalar(select(Loan).where(Loan.item_id == item.id, Loan.status == "lost")
                          .order_by(Loan.id.desc()).limit(1))


def _refund_lost_item(session: Session, loan: Loan, *, now: datetime, actor: Any) -> Money:
    """A lost item turned up: cancel the unpaid part of its replacement fee where the preset says so."""
    library = session.get(CircLibrary, loan.library_id)
    assert library is not None
    if not policy_of(library).lost_item_refund_on_return:
        return Money.zero(loan.currency)
    debits = [d for d in outstanding_debits(session, loan.patron_id)
              if d.loan_id == loan.id and d.kind == "lost_item_replacement"]
    for debit in debits:
        allocate_credit(session, patron_id=loan.patron_id, library_id=loan.library_id, amount=debit.outstanding,
                        kind="lost_item_returned", debits=[debit], now=now, actor=actor,
                        reason="lost item returned")
    return Money.zero(loan.currency)


def declare_lost(session: Session, loan_id: int, *, now: datetime, actor: Any) -> Money:
    """The patron lost the item: fines so far register, the replacement price is charged [001].
    Returns the replacement fee."""
    loan = session.get(Loan, loan_id)
    if loan is None or loan.status != "open":
        raise DomainError("not-found", 404, what="open loan")
    item = session.get(Item, loan.item_id)
    assert item is not None
    register_fine(session, loan, as_of=now, now=now, actor=actor)
    loan.status, loan.next_notice_on, loan.accrued_fine_minor = "lost", None, 0
    item.status = "lost"
    price = Money(item.replacement_price_minor, item.currency)
    add_fee(session, patron_id=loan.patron_id, library_id=loan.library_id, kind="lost_item_replacement",
            amount=price, reason=f"replacement: {item.title}"[:300], now=now, actor=actor, loan_id=loan.id,
            dedup_key=f"lost:{loan.id}")
    audit.record(session, actor=actor, action="circulation.item_lost", now=now, record_type="circ_loan",
                 record_id=loan.id, barcode=item.barcode, fee=str(price))
    recompute_billing_ban(session, loan.patron_id, now=now, actor=actor)
    return price


def charge_damaged(session: Session, *, item_barcode: str, now: datetime, actor: Any,
                   amount: Money | None = None) -> Money:
    """Charge the last borrower for a damaged item (default: its replacement price) [001]."""
    item = item_by_barcode(session, item_barcode)
    loan = session.scalar(select(Loan).where(Loan.item_id == item.id).order_by(Loan.id.desc()).limit(1))
    if loan is None:
        raise DomainError("not-found", 404, what="loan")
    fee = amount if amount is not None else Money(item.replacement_price_minor, item.currency)
    if fee.currency != item.currency:
        raise DomainError("invalid-amount", 422, currency=item.currency)
    add_fee(session, patron_id=loan.patron_id, library_id=loan.library_id, kind="damaged_item", amount=fee,
            reason=f"damaged: {item.title}"[:300], now=now, actor=actor, loan_id=loan.id,
            dedup_key=f"damaged:{item.id}:{loan.id}")
    item.status = "damaged"
    audit.record(session, actor=actor, action="circulation.item_damaged", now=now, record_type="circ_item",
                 record_id=item.id, fee=str(fee))
    recompute_billing_ban(session, loan.patron_id, now=now, actor=actor)
    return fee


def patron_of_card(session: Session, card_number: str) -> Patron:
    patron = session.scalar(select(Patron).where(Patron.card_number == card_number))
    if patron is None:
        raise DomainError("not-found", 404, what="patron")
    return patron
