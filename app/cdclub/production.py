"""Production runs: titles per period, the period plans, freezing members, shipping and online delivery.

A run is one club's period: ``planned`` while the producer picks titles, ``in_production`` once
the production-start job has frozen its member list, ``shipped`` when the producer (or the
delivery-date job) says the CDs left, or when every online member has the titles on loan.

The jobs work in many small transactions, each protected by a unique key (one run per club and
period, one recipient per run and member, one delivery per recipient and title): a job killed
half way is simply run again and completes what is missing, creating nothing twice.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from app import audit, db
from app.accounts.models import Patron
from app.cdclub import calendar, catalogue, service
from app.cdclub.discs import disc_count
from app.cdclub.models import (
    MAX_BOOKS_PER_PERIOD,
    Club,
    ClubMember,
    OnlineDelivery,
    ProductionRun,
    RunRecipient,
    RunTitle,
)
from app.cdclub.settings import ClubSettings
from app.errors import DomainError

JOB_ACTOR = "system:cdclub"


def _insert_ignore(session: Session, model: Any, values: dict[str, Any], keys: list[str]) -> None:
    """INSERT … ON CONFLICT DO NOTHING on the unique ``keys`` (safe when two workers race)."""
    session.execute(db.insert_ignoring_conflicts(session, model.__table__, index_elements=tuple(keys)), values)


# ---- runs and titles -------------------------------------------------------------------------

def ensure_run(session: Session, club: Club, period: calendar.Period, now: datetime) -> ProductionRun:
    _insert_ignore(session, ProductionRun, dict(club_id=club.id, period=period.key, state="planned",
                                                production_start=period.production_start,
                                                delivery_date=period.delivery, created_at=now,
                                                recipient_count=0, shipped_by=""), ["club_id", "period"])
    return session.scalars(select(ProductionRun).where(ProductionRun.club_id == club.id,
                                                       ProductionRun.period == period.key)).one()


def run_for(session: Session, club: Club, period_key: str) -> ProductionRun | None:
    return session.scalar(select(ProductionRun).where(ProductionRun.club_id == club.id,
                                                      ProductionRun.period == period_key))


def get_run(session: Session, run_id: int) -> ProductionRun:
    run = session.get(ProductionRun, run_id)
    if run is None:
        raise DomainError("not-found", 404)
    return run


def runs_of(session: Session, club: Club, *, limit: int = 24) -> list[ProductionRun]:
    return list(session.scalars(select(ProductionRun).where(ProductionRun.club_id == club.id)
                                .order_by(ProductionRun.period.desc()).limit(limit)))


def _editable_run(session: Session, club: Club, period_key: str, now: datetime,
                  settings: ClubSettings) -> ProductionRun:
    try:
        period = service.period_by_key(settings, period_key)
    except ValueError:
        raise DomainError("not-found", 404) from None
    if period.production_start <= settings.local_date(now):
        raise DomainError("production-started", 409, period=period.key)
    run = ensure_run(session, club, period, now)
    if run.state != "planned":
        raise DomainError("production-started", 409, period=period.key)
    return run


def add_title(session: Session, club: Club, period_key: str, book_id: int, *, now: datetime, actor: Any,
              settings: ClubSettings) -> RunTitle:
    """Pick a catalogue audiobook for a period (before its production start); its disc count is computed."""
    run = _editable_run(session, club, period_key, now, settings)
    if any(t.book_id == book_id for t in run.titles):
        raise DomainError("title-already-picked", 409)
    if len(run.titles) >= MAX_BOOKS_PER_PERIOD:
        raise DomainError("too-many-titles", 409, maximum=MAX_BOOKS_PER_PERIOD)
    book = catalogue.get(session, book_id)
    if book is None:
        raise DomainError("book-not-found", 404)
    if not book.available:
        raise DomainError("book-unavailable", 409)
    title = RunTitle(run_id=run.id, book_id=book.id, title=book.title, author=book.author,
                     duration_seconds=round(book.audio.duration_seconds or 0),
                     total_bytes=book.audio.total_bytes or 0, discs=disc_count(book.audio, settings.capacity),
                     position=max((t.position for t in run.titles), default=0) + 1, added_at=now,
                     added_by=audit.actor_label(actor))
    run.titles.append(title)
    session.flush()
    audit.record(session, actor=actor, action="cdclub.title.added", now=now, record_type="cdclub_run",
                 record_id=run.id, book_id=book.id, period=run.period)
    return title


def remove_title(session: Session, club: Club, period_key: str, run_title_id: int, *, now: datetime,
                 actor: Any, settings: ClubSettings) -> None:
    run = _editable_run(session, club, period_key, now, settings)
    title = next((t for t in run.titles if t.id == run_title_id), None)
    if title is None:
        raise DomainError("not-found", 404)
    run.titles.remove(title)
    session.flush()
    audit.record(session, actor=actor, action="cdclub.title.removed", now=now, record_type="cdclub_run",
                 record_id=run.id, book_id=title.book_id, period=run.period)


@dataclass
class PeriodPlan:
    """One period of one club as the producer plans it, with its warnings (codes)."""

    club: Club
    period: calendar.Period
    run: ProductionRun | None
    titles: list[RunTitle]
    discs_per_member: int
    days_to_production: int
    warnings: list[str] = field(default_factory=list)
    # Copies of each title: the frozen recipients once the list is frozen, before that the members
    # active today (the figure the producer orders discs by; it may still change until the cut-off).
    expected_copies: int = 0

    @property
    def frozen(self) -> bool:
        return self.run is not None and self.run.state != "planned"

    @property
    def expected_discs(self) -> int:
        return self.discs_per_member * self.expected_copies

    @property
    def unfilled(self) -> bool:
        return "unfilled" in self.warnings

    @property
    def editable(self) -> bool:
        return self.days_to_production > 0 and (self.run is None or self.run.state == "planned")


def period_plan(club: Club, period: calendar.Period, run: ProductionRun | None, settings: ClubSettings,
                today: date, active_members: int = 0) -> PeriodPlan:
    titles = list(run.titles) if run else []
    discs = sum(t.discs for t in titles)
    days = (period.production_start - today).days
    warnings: list[str] = []
    if len(titles) > club.books_per_period:
        warnings.append("over-title-count")
    if club.delivery_format == "cd" and discs > club.disc_cap:
        warnings.append("over-disc-cap")
    if len(titles) < club.books_per_period and 0 <= days <= settings.unfilled_warning_days:
        warnings.append("unfilled")
    copies = run.recipient_count if run is not None and run.state != "planned" else active_members
    return PeriodPlan(club, period, run, titles, discs, days, warnings, copies)


def club_plans(session: Session, club: Club, settings: ClubSettings, today: date,
               count: int = 3, active_members: int | None = None) -> list[PeriodPlan]:
    """The next ``count`` periods still to be produced, with their titles, disc totals and copies."""
    members = service.member_counts(session).get(club.id, 0) if active_members is None else active_members
    return [period_plan(club, p, run_for(session, club, p.key), settings, today, members)
            for p in service.upcoming_periods(settings, today, count)]


@dataclass(frozen=True)
class BookChoice:
    """A catalogue book offered for a period: its disc count and whether it is already picked."""

    book: catalogue.CatalogueBook
    discs: int
    picked: bool


def catalogue_choices(session: Session, plan: PeriodPlan, query: str, settings: ClubSettings,
                      limit: int = 20) -> list[BookChoice]:
    picked = {t.book_id for t in plan.titles}
    return [BookChoice(b, disc_count(b.audio, settings.capacity), b.id in picked)
            for b in catalogue.search(session, query, limit=limit)]


def plan_for(session: Session, club: Club, period_key: str, settings: ClubSettings, today: date) -> PeriodPlan:
    try:
        period = service.period_by_key(settings, period_key)
    except ValueError:
        raise DomainError("not-found", 404) from None
    return period_plan(club, period, run_for(session, club, period.key), settings, today,
                       service.member_counts(session).get(club.id, 0))


@dataclass
class ClubOverview:
    club: Club
    active_members: int
    plans: list[PeriodPlan]
    open_runs: list[ProductionRun]


def dashboard(session: Session, settings: ClubSettings, now: datetime) -> list[ClubOverview]:
    """Every club with its next three periods and its runs in production: a fixed number of queries however
    many clubs there are (the runs of all clubs are read at once, with their titles)."""
    today = settings.local_date(now)
    counts = service.member_counts(session)
    clubs = service.list_clubs(session)
    periods = service.upcoming_periods(settings, today, 3)
    runs = session.scalars(select(ProductionRun).options(selectinload(ProductionRun.titles)).where(
        ProductionRun.club_id.in_([c.id for c in clubs]),
        or_(ProductionRun.period.in_([p.key for p in periods]), ProductionRun.state == "in_production"))
        .order_by(ProductionRun.period)).all() if clubs else []
    by_key = {(r.club_id, r.period): r for r in runs}
    overviews = []
    for club in clubs:
        members = counts.get(club.id, 0)
        plans = [period_plan(club, p, by_key.get((club.id, p.key)), settings, today, members) for p in periods]
        open_runs = [r for r in runs if r.club_id == club.id and r.state == "in_production"]
        overviews.append(ClubOverview(club, members, plans, open_runs))
    return overviews


@dataclass(frozen=True)
class PickLine:
    book_id: int
    title: str
    author: str
    discs_per_copy: int
    copies: int

    @property
    def discs(self) -> int:
        return self.discs_per_copy * self.copies


def pick_list(run: ProductionRun, expected_copies: int | None = None) -> list[PickLine]:
    """Per title: one copy per frozen recipient (CDs are not returned), and the discs to burn; before the
    list is frozen, ``expected_copies`` (the active members) instead."""
    copies = run.recipient_count if run.state != "planned" or expected_copies is None else expected_copies
    return [PickLine(t.book_id, t.title, t.author, t.discs, copies) for t in run.titles]


def recipients(session: Session, run: ProductionRun) -> list[RunRecipient]:
    """The run's labels in the order the post likes them: by country, then postal code."""
    return list(session.scalars(select(RunRecipient).where(RunRecipient.run_id == run.id).order_by(
        RunRecipient.country != "FI", RunRecipient.country, RunRecipient.postal_code,
        RunRecipient.recipient_name, RunRecipient.id)))


def deliveries(session: Session, run: ProductionRun) -> list[OnlineDelivery]:
    return list(session.scalars(select(OnlineDelivery).join(RunRecipient).where(RunRecipient.run_id == run.id)))


def mark_shipped(session: Session, run: ProductionRun, *, actor: Any, now: datetime) -> ProductionRun:
    """The producer says the CDs of a run were posted (online runs are delivered by the job)."""
    if run.state != "in_production":
        raise DomainError("run-not-in-production", 409)
    if run.club.delivery_format == "online":
        raise DomainError("online-runs-ship-themselves", 409)
    _ship(session, run, actor, now)
    return run


def _ship(session: Session, run: ProductionRun, actor: Any, now: datetime) -> None:
    run.state, run.shipped_at, run.shipped_by = "shipped", now, audit.actor_label(actor)
    audit.record(session, actor=actor, action="cdclub.run.shipped", now=now, record_type="cdclub_run",
                 record_id=run.id, period=run.period, recipients=run.recipient_count)
    session.flush()


def freeze_by_hand(session: Session, club: Club, period_key: str, *, now: datetime, actor: Any,
                   settings: ClubSettings) -> ProductionRun:
    """The producer freezes a period's member list now, before its production start (to start burning
    early): the members active now become its recipients and its titles are fixed. The hourly job then
    leaves it alone. Audited."""
    run = _editable_run(session, club, period_key, now, settings)
    if not run.titles:
        raise DomainError("run-has-no-titles", 409)
    for member_id in _eligible_member_ids(session, run, now):
        _add_recipient(session, run, session.get(ClubMember, member_id), now)
    session.flush()
    count = len(session.scalars(select(RunRecipient.id).where(RunRecipient.run_id == run.id)).all())
    moved = session.execute(update(ProductionRun).where(ProductionRun.id == run.id, ProductionRun.state == "planned")
                            .values(state="in_production", frozen_at=now, recipient_count=count)).rowcount
    if not moved:
        raise DomainError("production-started", 409, period=run.period)
    session.refresh(run)
    audit.record(session, actor=actor, action="cdclub.run.frozen_by_hand", now=now, record_type="cdclub_run",
                 record_id=run.id, period=run.period, recipients=count, titles=len(run.titles))
    return run


def reopen(session: Session, run: ProductionRun, *, now: datetime, actor: Any, settings: ClubSettings) -> ProductionRun:
    """Undo a freeze while the period's production start is still ahead: the member list is thrown away
    (it is made again at the freeze) and titles can change again. Not once anything was delivered. Audited."""
    if run.state != "in_production" or run.production_start <= settings.local_date(now):
        raise DomainError("run-cannot-reopen", 409)
    if session.scalar(select(OnlineDelivery.id).join(RunRecipient).where(RunRecipient.run_id == run.id).limit(1)):
        raise DomainError("run-cannot-reopen", 409)
    recipients = run.recipient_count
    session.execute(RunRecipient.__table__.delete().where(RunRecipient.run_id == run.id))
    run.state, run.frozen_at, run.recipient_count = "planned", None, 0
    session.flush()
    audit.record(session, actor=actor, action="cdclub.run.reopened", now=now, record_type="cdclub_run",
                 record_id=run.id, period=run.period, recipients=recipients)
    return run


# ---- the production-start job ----------------------------------------------------------------

def open_due_runs(sm: sessionmaker[Session], now: datetime, settings: ClubSettings) -> str:
    """Open every run whose production start has come: freeze its members, then mark it in production."""
    today = settings.local_date(now)
    periods = calendar.periods_started_between(today - timedelta(days=settings.catch_up_days), today,
                                               settings.rule, settings.is_business_day)
    opened = 0
    with sm.begin() as session:
        clubs = [(c.id, c.created_at) for c in service.list_clubs(session, active_only=True)]
    for club_id, created_at in clubs:
        for period in periods:
            if settings.start_of_day(period.production_start) < created_at:
                continue  # the club did not exist yet when this period was cut off
            with sm.begin() as session:
                run = ensure_run(session, session.get(Club, club_id), period, now)
                run_id, state = run.id, run.state
            if state == "planned":
                freeze_run(sm, run_id, settings, now)
                opened += 1
    return f"{opened} runs opened"


def _eligible_member_ids(session: Session, run: ProductionRun, moment: datetime) -> list[int]:
    """Members active at the production start moment (a later pause or leave does not take them out)."""
    return list(session.scalars(
        select(ClubMember.id).join(Patron, Patron.id == ClubMember.patron_id)
        .where(ClubMember.club_id == run.club_id, Patron.active.is_(True), ClubMember.active_since <= moment,
               or_(ClubMember.status == "active", ClubMember.inactive_since > moment))
        .order_by(ClubMember.id)))


def _add_recipient(session: Session, run: ProductionRun, member: ClubMember, now: datetime) -> None:
    patron = session.get(Patron, member.patron_id)
    values = dict(run_id=run.id, member_id=member.id, patron_id=member.patron_id,
                  recipient_name=member.recipient_name or (patron.name if patron else ""),
                  street_address=member.street_address, address_extra=member.address_extra,
                  postal_code=member.postal_code, city=member.city, country=member.country, frozen_at=now)
    _insert_ignore(session, RunRecipient, values, ["run_id", "member_id"])


def freeze_run(sm: sessionmaker[Session], run_id: int, settings: ClubSettings, now: datetime) -> int:
    """Add every eligible member (one transaction each), then close the list. Returns the recipient count."""
    with sm.begin() as session:
        run = session.get(ProductionRun, run_id)
        moment = settings.start_of_day(run.production_start)
        wanted = _eligible_member_ids(session, run, moment)
        done = set(session.scalars(select(RunRecipient.member_id).where(RunRecipient.run_id == run_id)))
    for member_id in wanted:
        if member_id in done:
            continue
        with sm.begin() as session:
            _add_recipient(session, session.get(ProductionRun, run_id), session.get(ClubMember, member_id), now)
    with sm.begin() as session:
        count = len(session.scalars(select(RunRecipient.id).where(RunRecipient.run_id == run_id)).all())
        # A conditional UPDATE: of two racing workers only one moves the run on (and audits it).
        moved = session.execute(update(ProductionRun).where(ProductionRun.id == run_id,
                                                            ProductionRun.state == "planned")
                                .values(state="in_production", frozen_at=now, recipient_count=count)).rowcount
        if moved:
            run = session.get(ProductionRun, run_id)
            audit.record(session, actor=JOB_ACTOR, action="cdclub.run.opened", now=now, record_type="cdclub_run",
                         record_id=run_id, period=run.period, recipients=count, titles=len(run.titles))
    return count


# ---- the delivery-date job -------------------------------------------------------------------

def deliver_due_runs(sm: sessionmaker[Session], now: datetime, settings: ClubSettings) -> str:
    """On the delivery date: lend online titles to every recipient, then mark the run shipped."""
    today = settings.local_date(now)
    with sm.begin() as session:
        due = [(r.id, r.club.delivery_format) for r in session.scalars(
            select(ProductionRun).where(ProductionRun.state == "in_production",
                                        ProductionRun.delivery_date <= today).order_by(ProductionRun.id))]
    lent = 0
    for run_id, delivery_format in due:
        if delivery_format == "online":
            lent += _deliver_online(sm, run_id, now, settings.lending_policy)
        with sm.begin() as session:
            run = session.get(ProductionRun, run_id)
            if run.state == "in_production":
                _ship(session, run, JOB_ACTOR, now)
    return f"{len(due)} runs shipped, {lent} loans"


def _deliver_online(sm: sessionmaker[Session], run_id: int, now: datetime, policy_name: str) -> int:
    with sm.begin() as session:
        pending = [r.id for r in session.scalars(select(RunRecipient).where(
            RunRecipient.run_id == run_id, RunRecipient.delivered_at.is_(None)).order_by(RunRecipient.id))]
        title_ids = [t.id for t in session.get(ProductionRun, run_id).titles]
    lent = 0
    for recipient_id in pending:
        for title_id in title_ids:
            lent += _deliver_one(sm, recipient_id, title_id, now, policy_name)
        with sm.begin() as session:
            session.get(RunRecipient, recipient_id).delivered_at = now
    return lent


def _deliver_one(sm: sessionmaker[Session], recipient_id: int, title_id: int, now: datetime,
                 policy_name: str) -> int:
    """Lend one title to one member; the delivery row and the loan commit together or not at all."""
    with sm.begin() as session:
        if session.scalar(select(OnlineDelivery.id).where(OnlineDelivery.recipient_id == recipient_id,
                                                          OnlineDelivery.run_title_id == title_id)):
            return 0
        recipient = session.get(RunRecipient, recipient_id)
        title = session.get(RunTitle, title_id)
        patron = session.get(Patron, recipient.patron_id)
        result = catalogue.lend(session, patron=patron, book_id=title.book_id, now=now, policy_name=policy_name)
        try:
            with session.begin_nested():
                session.add(OnlineDelivery(recipient_id=recipient_id, run_title_id=title_id, loan_id=result.loan_id,
                                           outcome=result.outcome, created_at=now))
        except IntegrityError:
            return 0  # a second worker delivered the same title at the same moment; lending's own key kept one loan
        return 1 if result.outcome == "lent" else 0
