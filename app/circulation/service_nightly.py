"""The nightly circulation run: expire uncollected holds (with their fee), accrue fines, send due
notices and advance notices with their fees, invoices and collection referrals, recompute bans.

Built for a million loans: fines accrue in a handful of set-based UPDATEs; notices read only the
loans whose ``next_notice_on`` has come, in batches of plain rows, each batch in its own
transaction. Safe to run twice a day or after a crash half way: every charge and message has a
unique key, and a batch either happened completely or not at all.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from datetime import date, datetime
from itertools import islice
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import case, func, literal, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.circulation.messages import MessageRenderer
from app.circulation.models import Branch, CircLibrary, FeeEntry, Loan, PatronCirculation
from app.circulation.money import Money
from app.circulation.service_account import resume_due_holds
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
                after_batch: Callable[[int], None] | None = None, workers: int | None = None) -> NightlySummary:
    """Run every nightly step, each batch in its own transaction. ``after_batch(n)`` is called after
    the n-th notice batch has committed (for progress reports — and for crash tests).

    ``workers`` notice batches run at once (default: 2 on PostgreSQL, where one batch's planning in
    Python overlaps another's writes in the database; 1 on SQLite, which serialises writers anyway).
    Batches touch different loans, so running them side by side changes nothing in the result."""
    summary = NightlySummary()
    with sm.begin() as session:
        libraries = {library.id: library for library in session.scalars(select(CircLibrary))}
        hold_ids = expired_hold_ids(session, now)
        dialect = session.get_bind().dialect.name
    for chunk in batches(hold_ids, batch_size):
        with sm.begin() as session:
            summary.holds_expired += expire_holds(session, chunk, now=now, actor=SYSTEM)
    with sm.begin() as session:  # suspended holds whose day has come wait again (Koha's suspend)
        resume_due_holds(session, now)
    with sm.begin() as session:
        summary.fines_accrued = accrue_fines(session, now)
    todays = {lib_id: local_today(policy_of(lib).timezone, now) for lib_id, lib in libraries.items()}
    if todays:
        with sm.begin() as session:
            loan_ids = list(session.scalars(select(Loan.id).where(
                Loan.status == "open", Loan.next_notice_on <= max(todays.values())).order_by(Loan.id)))
        workers = max(1, workers or (2 if dialect == "postgresql" else 1))
        for queued, examined in _notice_batches(sm, now, libraries, todays, loan_ids, batch_size, workers,
                                                after_batch):
            summary.messages_queued += queued
            summary.loans_examined += examined
    with sm.begin() as session:
        summary.bans_started, summary.bans_lifted = recompute_all_billing_bans(session, now=now)
    return summary


def _notice_batches(sm: sessionmaker[Session], now: datetime, libraries: dict[int, CircLibrary],
                    todays: dict[int, date], loan_ids: list[int], batch_size: int, workers: int,
                    after_batch: Callable[[int], None] | None) -> Iterator[tuple[int, int]]:
    """(messages queued, loans examined) per committed batch, ``workers`` batches in flight at most
    (threads of a pool, also when there is one). Each thread keeps its own renderer and cache of
    recipients (patrons recur across batches)."""
    app = current_app._get_current_object() if has_app_context() else None  # type: ignore[attr-defined]
    local = threading.local()

    def one(chunk: list[int]) -> tuple[int, int]:
        with app.app_context() if app is not None else nullcontext():
            if not hasattr(local, "people"):
                local.renderer, local.people = MessageRenderer(), {}
            for attempt in range(3):
                try:
                    with sm.begin() as session:
                        return NoticeBatch(session, now=now, renderer=local.renderer, libraries=libraries,
                                           people=local.people).run(chunk, todays), len(chunk)
                except OperationalError as err:  # two batches crossed on a patron row: PostgreSQL picked one
                    if getattr(err.orig, "sqlstate", None) != "40P01" or attempt == 2:
                        raise
        raise AssertionError("unreachable")

    chunks = iter(batches(loan_ids, batch_size))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="circulation-nightly") as pool:
        running = {pool.submit(one, chunk) for chunk in islice(chunks, workers)}
        number = 0
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                number += 1
                yield future.result()
                if after_batch is not None:
                    after_batch(number)
                running |= {pool.submit(one, chunk) for chunk in islice(chunks, 1)}


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
