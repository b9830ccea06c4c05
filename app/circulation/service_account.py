"""The patron's account summary ("My account" [003]): loans by due date with due-soon and overdue
markers and accruing fines, holds with queue position and last pickup day, fees with what and
why, the balance, ban state and whether online payment is possible."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.circulation.decisions import Decision
from app.circulation.models import ACTIVE_HOLD_STATES, Branch, Hold, Item, Loan
from app.circulation.money import Money
from app.circulation.service_common import balance_of, borrower, local_today, policy_of, premises_ban_until
from app.circulation.service_fees import OutstandingDebit, outstanding_debits
from app.circulation.service_holds import queue_position
from app.circulation.service_loans import accrued_fine_of
from app.circulation.service_payments import online_payment_preview

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
        .where(Hold.patron_id == patron_id, or_(Hold.state.in_(ACTIVE_HOLD_STATES),
                                                (Hold.state == "cancelled") & (Hold.cancelled_at >= visible_since)))
        .order_by(Hold.placed_at, Hold.id))
    for hold, pickup in hold_rows:
        title = session.scalar(select(Item.title).where(Item.record_key == hold.record_key).limit(1)) or ""
        holds.append(HoldLine(hold.id, hold.record_key, title, hold.state, queue_position(session, hold), pickup.code,
                              pickup.name, hold.last_pickup_day, hold.hold_identifier if hold.state == "ready" else None,
                              hold.placed_at, hold.cancelled_at))
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
