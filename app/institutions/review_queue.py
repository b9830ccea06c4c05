"""What reviewers see: the queue with ages in business days, duplicates, and the throughput figures.

Age is counted in Finnish business days (app/institutions/business_days.py) from the day the
application arrived; the days it waited for the applicant's answer do not count. An application
is past the target when its age is more than ``target`` business days (the target is 2 [002]).
"""
from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.institutions import business_days
from app.institutions.models import (
    DECIDED_STATES,
    OPEN_STATES,
    InstitutionAccount,
    InstitutionApplication,
)

AGE_FILTERS = ("within_target", "past_target")
DECIDED_LIST_LIMIT = 200


def age_in_business_days(application: InstitutionApplication, now: datetime) -> int:
    """Business days on the clock: from arrival to the decision (or now), minus paused days."""
    if application.decided_at is not None:
        end = application.decided_at
    elif application.state == "needs_information" and application.information_requested_at is not None:
        end = application.information_requested_at  # the clock stands still while we wait
    else:
        end = now
    return max(0, business_days.elapsed(application.submitted_at, end) - application.paused_business_days)


@dataclass(frozen=True)
class QueueRow:
    application: InstitutionApplication
    age: int
    past_target: bool
    duplicate: bool
    claim_live: bool
    answered: bool = False  # the applicant answered a question and nobody has taken it up since
    documents: int = 0

    @property
    def holder(self) -> str:
        """Who has the application: a live claim, or the reviewer who asked and waits for (or got) the answer."""
        a = self.application
        return a.claimed_by.name if a.claimed_by is not None and a.is_open else ""


@dataclass(frozen=True)
class QueueFilters:
    state: str = "open"  # "open", "all" or one of STATES
    type: str = ""
    age: str = ""  # "" | "within_target" | "past_target"
    q: str = ""  # words of the name, a business ID or an application number (L-000123)
    mine_of: int | None = None  # only applications this reviewer holds


REFERENCE = re.compile(r"^L-?0*(\d{1,9})$", re.IGNORECASE)


def _search(query: Any, q: str) -> Any:
    q = " ".join(q.split())[:100]
    if not q:
        return query
    table = InstitutionApplication
    number = REFERENCE.match(q)
    if number:
        return query.where(table.id == int(number.group(1)))
    if re.fullmatch(r"\d{7}-?\d", q):
        return query.where(table.business_id == (q if "-" in q else f"{q[:7]}-{q[7]}"))
    pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return query.where(func.lower(table.name).like(pattern, escape="\\") | (table.business_id == q))


def _rows_for(session: Session, filters: QueueFilters) -> list[InstitutionApplication]:
    query = select(InstitutionApplication).options(selectinload(InstitutionApplication.claimed_by),
                                                   selectinload(InstitutionApplication.messages),
                                                   selectinload(InstitutionApplication.documents))
    query = _search(query, filters.q)
    if filters.mine_of is not None:
        query = query.where(InstitutionApplication.claimed_by_id == filters.mine_of)
    if filters.state == "open":
        query = query.where(InstitutionApplication.state.in_(OPEN_STATES))
    elif filters.state != "all":
        query = query.where(InstitutionApplication.state == filters.state)
    if filters.type:
        query = query.where(InstitutionApplication.type == filters.type)
    if filters.state in DECIDED_STATES or filters.state == "all":
        # Decided applications pile up for ever; the open ones are few. Show the latest decided.
        query = query.order_by(InstitutionApplication.submitted_at.desc()).limit(DECIDED_LIST_LIMIT)
    return list(session.scalars(query))


def duplicate_business_ids(session: Session, business_ids: set[str]) -> set[str]:
    """Business IDs that have more than one open application, or already an institution account."""
    if not business_ids:
        return set()
    open_twice = session.scalars(
        select(InstitutionApplication.business_id)
        .where(InstitutionApplication.business_id.in_(business_ids),
               InstitutionApplication.state.in_(OPEN_STATES))
        .group_by(InstitutionApplication.business_id).having(func.count() > 1))
    with_account = session.scalars(select(InstitutionAccount.business_id)
                                   .where(InstitutionAccount.business_id.in_(business_ids)))
    return set(open_twice) | set(with_account)


def is_answered(application: InstitutionApplication) -> bool:
    """Back in the queue with the applicant's answer as its newest message."""
    return application.state == "submitted" and bool(application.messages) and \
        application.messages[-1].kind == "answer"


def queue(session: Session, filters: QueueFilters, *, now: datetime, target: int) -> list[QueueRow]:
    """Applications matching ``filters``: answered ones first, then the oldest (most business days on the
    clock) first."""
    applications = _rows_for(session, filters)
    duplicates = duplicate_business_ids(session, {a.business_id for a in applications if a.is_open})
    rows = []
    for application in applications:
        age = age_in_business_days(application, now)
        past = application.is_open and age > target
        if (filters.age == "past_target" and not past) or (filters.age == "within_target" and past):
            continue
        rows.append(QueueRow(application, age, past, application.business_id in duplicates and application.is_open,
                             application.claim_is_live(now), is_answered(application), len(application.documents)))
    rows.sort(key=lambda r: (not r.answered, -r.age, r.application.submitted_at, r.application.id))
    return rows


@dataclass(frozen=True)
class Duplicates:
    open_applications: list[InstitutionApplication]
    accounts: list[InstitutionAccount]

    def __bool__(self) -> bool:
        return bool(self.open_applications or self.accounts)


def duplicates_of(session: Session, application: InstitutionApplication) -> Duplicates:
    """Other open applications with the same business ID, and institutions that already have it."""
    others = session.scalars(select(InstitutionApplication).where(
        InstitutionApplication.business_id == application.business_id,
        InstitutionApplication.id != application.id,
        InstitutionApplication.state.in_(OPEN_STATES)).order_by(InstitutionApplication.submitted_at))
    accounts = session.scalars(select(InstitutionAccount).options(selectinload(InstitutionAccount.patron))
                               .where(InstitutionAccount.business_id == application.business_id)
                               .order_by(InstitutionAccount.created_at))
    return Duplicates(list(others), list(accounts))


@dataclass(frozen=True)
class Throughput:
    days: int
    received: int
    approved: int
    rejected: int
    median_business_days: float | None
    p90_business_days: int | None
    open_now: int
    past_target_now: int

    @property
    def decided(self) -> int:
        return self.approved + self.rejected


def nearest_rank(values: list[int], percent: int) -> int | None:
    """The nearest-rank percentile: the smallest value with ``percent`` % of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def throughput(session: Session, *, now: datetime, days: int, target: int) -> Throughput:
    """Figures for the last ``days`` days: received, decided, processing time, and what is late now."""
    since = now - timedelta(days=days)
    received = session.scalar(select(func.count()).select_from(InstitutionApplication)
                              .where(InstitutionApplication.submitted_at >= since)) or 0
    decided = session.execute(select(InstitutionApplication.state, InstitutionApplication.processing_business_days)
                              .where(InstitutionApplication.decided_at >= since)).all()
    times = [t for _, t in decided if t is not None]
    open_rows = queue(session, QueueFilters(), now=now, target=target)
    return Throughput(
        days=days, received=received,
        approved=sum(1 for state, _ in decided if state == "approved"),
        rejected=sum(1 for state, _ in decided if state == "rejected"),
        median_business_days=statistics.median(times) if times else None,
        p90_business_days=nearest_rank(times, 90),
        open_now=len(open_rows), past_target_now=sum(1 for r in open_rows if r.past_target))
