"""The nightly circulation run: expire uncollected holds (with their fee), accrue fines, send due
notices and advance notices with their fees, invoices and collection referrals, recompute bans.

Built for a million loans: fines accrue in a handful of set-based UPDATEs; notices read only the
loans whose ``next_notice_on`` has come, in batches of plain rows, each batch in its own
transaction. Safe to run twice a day or after a crash half way: every charge and message has a
unique key, and a batch either happened completely or not at all.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, literal, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.circulation.messages import MessageRenderer
from app.circulation.models import Branch, CircLibrary, FeeEntry, Loan, PatronCirculation
from app.circulation.money import Money
from app.circulation.service_common import local_today, policy_of
from app.circulation.service_fees import apply_ban_state, settle_referrals
from app.circulation.service_holds import expire_holds, expired_hold_ids
from app.circulation.service_notices import NoticeBatch, batches

SYSTEM = "system:circulation-nightly"
DEFAULT_BATCH_SIZE = 2000


@dataclass
class NightlySummary:
    holds_expired: int = 0
    fines_accrued: int = 0  # loans whose visible accrued fine changed
    loans_examined: int = 0
    messages_queued: int = 0
    bans_started: int = 0
    bans_lifted: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in asdict(self).items())


def run_nightly(sm: sessionmaker[Session], now: datetime, *, batch_size: int = DEFAULT_BATCH_SIZE,
                after_batch: Callable[[int], None] | None = None) -> NightlySummary:
    """Run every nightly step, each batch in its own transaction. ``after_batch(n)`` is called after
    the n-th notice batch has committed (for progress reports — and for crash tests)."""
    summary = NightlySummary()
    with sm.begin() as session:
        libraries = {library.id: library for library in session.scalars(select(CircLibrary))}
        hold_ids = expired_hold_ids(session, now)
    for chunk in batches(hold_ids, batch_size):
        with sm.begin() as session:
            summary.holds_expired += expire_holds(session, chunk, now=now, actor=SYSTEM)
    with sm.begin() as session:
        summary.fines_accrued = accrue_fines(session, now)
    todays = {lib_id: local_today(policy_of(lib).timezone, now) for lib_id, lib in libraries.items()}
    if todays:
        with sm.begin() as session:
            loan_ids = list(session.scalars(select(Loan.id).where(
                Loan.status == "open", Loan.next_notice_on <= max(todays.values())).order_by(Loan.id)))
        renderer, people = MessageRenderer(), {}  # shared by the batches: patrons recur
        for number, chunk in enumerate(batches(loan_ids, batch_size), start=1):
            with sm.begin() as session:
                summary.messages_queued += NoticeBatch(session, now=now, renderer=renderer, libraries=libraries,
                                                       people=people).run(chunk, todays)
            summary.loans_examined += len(chunk)
            if after_batch is not None:
                after_batch(number)
    with sm.begin() as session:
        summary.bans_started, summary.bans_lifted = recompute_all_billing_bans(session, now=now)
    return summary


def _fine_expression(days: Any) -> Any:
    """The fine of ``days`` late under the loan's stored rule, in SQL (same as fines.fine_for_days)."""
    periods = case((Loan.fine_model == "per_day", days),
                   (Loan.fine_model == "per_started_week", (days + 6) // 7),  # started weeks
                   else_=1)
    uncapped = Loan.fine_amount_minor * periods
    capped = case((Loan.fine_cap_minor.is_not(None) & (uncapped > Loan.fine_cap_minor), Loan.fine_cap_minor),
                  else_=uncapped)
    return case((days <= Loan.grace_days, 0), else_=capped)


def accrue_fines(session: Session, now: datetime) -> int:
    """Update the visible accrued fine of every overdue open loan, set-based, per branch timezone.
    Days are local calendar days after the due date [001]; nothing is owed until return or
    renewal [003]."""
    changed = 0
    zones: dict[str, list[int]] = {}
    for branch_id, timezone in session.execute(select(Branch.id, Branch.timezone)):
        zones.setdefault(timezone, []).append(branch_id)
    for timezone, branch_ids in zones.items():
        today = local_today(timezone, now).toordinal()
        days = literal(today) - Loan.due_day
        fine = _fine_expression(days)
        result = session.execute(
            update(Loan).where(Loan.status == "open", Loan.due_at < now, Loan.due_day < today,
                               Loan.fine_model != "none", Loan.branch_id.in_(branch_ids),
                               Loan.accrued_fine_minor != fine)
            .values(accrued_fine_minor=fine).execution_options(synchronize_session=False))
        changed += result.rowcount or 0
    return changed


def recompute_all_billing_bans(session: Session, *, now: datetime, actor: str = SYSTEM) -> tuple[int, int]:
    """Start and lift billing bans for every patron whose ledger and stored state disagree."""
    balances = (select(FeeEntry.patron_id.label("patron_id"), func.sum(FeeEntry.amount_minor).label("balance"))
                .group_by(FeeEntry.patron_id).subquery())
    rows = session.execute(
        select(PatronCirculation.patron_id, PatronCirculation.library_id, PatronCirculation.billing_banned,
               PatronCirculation.in_collection, func.coalesce(balances.c.balance, 0))
        .outerjoin(balances, balances.c.patron_id == PatronCirculation.patron_id)
        .where(or_(PatronCirculation.billing_banned.is_(True), PatronCirculation.in_collection.is_(True),
                   balances.c.balance > 0))).all()
    libraries = {library.id: policy_of(library) for library in session.scalars(select(CircLibrary))}
    settle = [pid for pid, _lib, _b, in_collection, balance in rows if in_collection and balance <= 0]
    for chunk in batches(settle, 500):
        settle_referrals(session, chunk, now=now)
    collecting = set(session.scalars(select(PatronCirculation.patron_id).where(
        PatronCirculation.patron_id.in_(settle), PatronCirculation.in_collection.is_(True)))) if settle else set()
    wanted: dict[int, tuple[bool, Money]] = {}
    stored: dict[int, bool] = {}
    for patron_id, library_id, banned, in_collection, balance in rows:
        policy = libraries[library_id]
        money = Money(int(balance), policy.currency)
        still_collecting = in_collection and (patron_id not in settle or patron_id in collecting)
        should = still_collecting or policy.billing_ban.bans(money)
        if should != banned:
            wanted[patron_id], stored[patron_id] = (should, money), banned
    started = lifted = 0
    ids = list(wanted)
    for chunk in batches(ids, 500):
        s, lft = apply_ban_state(session, {pid: wanted[pid] for pid in chunk}, stored, now=now, actor=actor)
        started, lifted = started + s, lifted + lft
    return started, lifted


def today_of(library: CircLibrary, now: datetime) -> date:
    return local_today(policy_of(library).timezone, now)
