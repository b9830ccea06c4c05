"""Lending's public functions: the catalogue, e-loans (borrow, renew, return, expiry) and positions.

Loan rules come from the circulation core: a policy preset (``celia`` by default: 28 days,
3 renewals, 100 at once, material type "audiobook") resolved with ``rules_for`` and decided by
``can_checkout`` / ``can_renew``. A loan is active while ``ended_at`` is NULL and ``until`` is in the
future: expiry is computed on every read, and the ``lending-expire-loans`` job records it.
Services flush; the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from app import audit
from app.accounts.models import ApiToken, Patron
from app.circulation.decisions import Decision, ItemFacts, PatronFacts, age_on, can_checkout, can_renew
from app.circulation.money import Money
from app.circulation.policy import Policy
from app.circulation.presets import load_preset
from app.circulation.service_history import record_audiobook_return
from app.db import Prepared, date_from_raw, raw, utc_from_raw
from app.errors import DomainError
from app.lending.models import Audiobook, EbookLoan, ListeningPosition

MATERIAL_TYPE = "audiobook"
CHILD_AGE = 15  # under-15s are the child category [001]
FUTURE_SKEW = timedelta(minutes=5)  # a device clock this far ahead is trusted; beyond, it is clamped
# CHOSEN (issue 16): a loan can be renewed in its last week, and only when the renewal moves its end by
# at least a day, so a renewal is never spent on a few minutes.
RENEWAL_WINDOW = timedelta(days=7)
MIN_RENEWAL_GAIN = timedelta(days=1)


def lending_policy(name: str = "celia") -> Policy:
    return load_preset(name)


# -- catalogue ---------------------------------------------------------------------------------------

def get_book(session: Session, book_id: int, *, with_tracks: bool = False) -> Audiobook:
    query = select(Audiobook).where(Audiobook.id == book_id)
    if with_tracks:
        query = query.options(selectinload(Audiobook.tracks))
    book = session.scalar(query)
    if book is None:
        raise DomainError("not-found", 404)
    return book


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_books(session: Session, *, query: str = "", limit: int = 50, offset: int = 0,
               include_withdrawn: bool = False) -> tuple[list[Audiobook], int]:
    """Available books (staff: also withdrawn ones), newest first; ``query`` matches title, author or
    narrator (staff: also the identifier). Returns (page, total)."""
    where: list[Any] = [] if include_withdrawn else [Audiobook.available.is_(True)]
    columns = [Audiobook.title, Audiobook.author, Audiobook.narrator]
    if include_withdrawn:
        columns.append(Audiobook.identifier)
    for word in query.split()[:8]:
        pattern = _like(word)
        where.append(or_(*(func.lower(col).like(pattern, escape="\\") for col in columns)))
    total = session.scalar(select(func.count()).select_from(Audiobook).where(*where)) or 0
    page = session.scalars(select(Audiobook).where(*where).order_by(Audiobook.added_at.desc(), Audiobook.id.desc())
                           .limit(limit).offset(offset))
    return list(page), total


# -- loans -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BorrowResult:
    loan: EbookLoan
    created: bool


def is_active(loan: EbookLoan, now: datetime) -> bool:
    return loan.ended_at is None and loan.until > now


def _active(now: datetime) -> list[Any]:
    return [EbookLoan.ended_at.is_(None), EbookLoan.until > now]


@dataclass(frozen=True)
class LoanView:
    """What the loans list shows of one loan: read with one plain query (reader apps poll it)."""

    id: int
    book_id: int
    since: datetime
    until: datetime
    renewals: int
    identifier: str
    title: str
    author: str
    narrator: str
    language: str
    duration: float

    @classmethod
    def of_row(cls, row: tuple[Any, ...]) -> LoanView:
        """From a raw row of ``active_loan_rows`` or ``poll_loans`` (dates as the driver gives them)."""
        loan_id, book_id, since, until, *rest = row
        return cls(loan_id, book_id, utc_from_raw(since), utc_from_raw(until), *rest)  # type: ignore[arg-type]

    @classmethod
    def of(cls, loan: EbookLoan) -> LoanView:
        book = loan.audiobook
        return cls(loan.id, book.id, loan.started_at, loan.until, loan.renewals, book.identifier, book.title,
                   book.author, book.narrator, book.language, book.duration)


# Built once: reader apps poll the loans list, and building a statement costs more than running it.
_LOAN_VIEWS = (select(EbookLoan.id, EbookLoan.audiobook_id, raw(EbookLoan.started_at), raw(EbookLoan.until),
                      EbookLoan.renewals,
                      Audiobook.identifier, Audiobook.title, Audiobook.author, Audiobook.narrator, Audiobook.language,
                      Audiobook.duration)
               .join(Audiobook, Audiobook.id == EbookLoan.audiobook_id)
               .where(EbookLoan.patron_id == bindparam("patron_id"), EbookLoan.ended_at.is_(None),
                      EbookLoan.until > bindparam("now", type_=EbookLoan.__table__.c.until.type))
               .order_by(EbookLoan.until, EbookLoan.id))


def active_loan_rows(session: Session, patron_id: int, now: datetime) -> tuple[tuple[Any, ...], ...]:
    """The patron's active loans as raw rows of ``LoanView`` fields (see ``poll_loans``)."""
    return tuple(tuple(row) for row in session.connection().execute(_LOAN_VIEWS, {"patron_id": patron_id,
                                                                                  "now": now}))


@dataclass(frozen=True)
class Poller:
    """Who polls the loans list with a bearer token: what the list needs of the patron and token."""

    patron_id: int
    kind: str
    birth_date: date | None
    token_id: int
    token_last_used_at: datetime | None


_UNTIL = EbookLoan.__table__.c.until.type
# A reader app's poll in one query: the live token, its active patron and that patron's active loans
# (none: one row of NULL loan columns; unknown, expired or revoked token: no rows). Run as ``Prepared``,
# so the dates come as the driver gives them: ``LoanView.of_row`` converts them.
_POLL = (select(Patron.id, Patron.kind, Patron.birth_date, ApiToken.id, ApiToken.last_used_at,
                EbookLoan.id, EbookLoan.audiobook_id, EbookLoan.started_at, EbookLoan.until, EbookLoan.renewals,
                Audiobook.identifier, Audiobook.title, Audiobook.author, Audiobook.narrator, Audiobook.language,
                Audiobook.duration)
         .select_from(ApiToken)
         .join(Patron, Patron.id == ApiToken.patron_id)
         .outerjoin(EbookLoan, and_(EbookLoan.patron_id == Patron.id, EbookLoan.ended_at.is_(None),
                                    EbookLoan.until > bindparam("now", type_=_UNTIL)))
         .outerjoin(Audiobook, Audiobook.id == EbookLoan.audiobook_id)
         .where(ApiToken.token_hash == bindparam("digest"), ApiToken.revoked_at.is_(None),
                ApiToken.expires_at > bindparam("now", type_=_UNTIL), Patron.active.is_(True))
         .order_by(EbookLoan.until, EbookLoan.id))


_PREPARED_POLL = Prepared(_POLL)


def poll_loans(bind: Engine, token_digest: str, now: datetime
               ) -> tuple[Poller, tuple[tuple[Any, ...], ...]] | None:
    """The poller and the raw rows of their active loans (``LoanView`` fields, in order), or None
    when the token is not live. One statement outside any transaction; raw rows, because the loans
    list remembers its encoded answer per exact rows (``http.loans_answer``)."""
    rows = _PREPARED_POLL.all(bind, digest=token_digest, now=now)
    if not rows:
        return None
    patron_id, kind, birth_date, token_id, last_used_at = rows[0][:5]
    poller = Poller(patron_id, kind, date_from_raw(birth_date), token_id, utc_from_raw(last_used_at))
    return poller, tuple(row[5:] for row in rows if row[5] is not None)


def active_loans(session: Session, patron_id: int, now: datetime) -> list[EbookLoan]:
    return list(session.scalars(select(EbookLoan).options(joinedload(EbookLoan.audiobook))
                                .where(EbookLoan.patron_id == patron_id, *_active(now))
                                .order_by(EbookLoan.until, EbookLoan.id)))


def active_loan(session: Session, patron_id: int, book_id: int, now: datetime) -> EbookLoan | None:
    return session.scalar(select(EbookLoan).where(EbookLoan.patron_id == patron_id,
                                                  EbookLoan.audiobook_id == book_id, *_active(now)))


def require_loan(session: Session, patron_id: int, book_id: int, now: datetime) -> EbookLoan:
    """The patron's active loan of the book, or 403 "not-on-loan" (404 when there is no such book)."""
    loan = active_loan(session, patron_id, book_id, now)
    if loan is None:
        get_book(session, book_id)
        raise DomainError("not-on-loan", 403)
    return loan


def patron_category(patron: Patron | Poller, today: date) -> str:
    if patron.kind == "institution":
        return "institution"
    if patron.birth_date is not None and age_on(patron.birth_date, today) < CHILD_AGE:
        return "child"
    return "adult"


def _today(policy: Policy, now: datetime) -> date:
    return now.astimezone(ZoneInfo(policy.timezone)).date()


def _end(loan: EbookLoan, at: datetime, reason: str, now: datetime) -> None:
    loan.ended_at, loan.end_reason, loan.active_key, loan.updated_at = at, reason, None, now


def _refusal(code: str, decision: Decision) -> DomainError:
    details = {k: (v if isinstance(v, int | str | bool) else str(v)) for k, v in decision.details.items()}
    return DomainError(code, 403, reason=decision.reason, **details)


def set_available(session: Session, book_id: int, available: bool, *, now: datetime, actor: Any) -> Audiobook:
    """Withdraw a book from new loans (``available=False``) or bring it back; audited, idempotent.

    A withdrawn book leaves the catalogue, the search and OPDS; it cannot be borrowed or renewed. Loans
    already made run to their end, so players keep working offline for what a patron borrowed."""
    book = get_book(session, book_id)
    if book.available != available:
        book.available = available
        audit.record(session, actor=actor, action="lending.audiobook_restored" if available else "lending.audiobook_withdrawn",
                     now=now, record_type="audiobook", record_id=book.id, identifier=book.identifier)
        session.flush()
    return book


def active_loan_counts(session: Session, book_ids: list[int], now: datetime) -> dict[int, int]:
    """Current loans per book, for every book in ``book_ids`` (0 when none), in one query."""
    counts = dict(session.execute(select(EbookLoan.audiobook_id, func.count()).group_by(EbookLoan.audiobook_id)
                                  .where(EbookLoan.audiobook_id.in_(book_ids), *_active(now))).all())
    return {book_id: counts.get(book_id, 0) for book_id in book_ids}


def borrow(session: Session, patron: Patron, book: Audiobook, *, now: datetime, policy: Policy) -> BorrowResult:
    """Borrow ``book``; borrowing a book already on loan returns that loan (created=False)."""
    key = f"{patron.id}:{book.id}"
    existing = session.scalar(select(EbookLoan).where(EbookLoan.active_key == key))
    if existing is not None and is_active(existing, now):
        return BorrowResult(existing, False)
    if existing is not None:  # expired, the job has not recorded it yet
        _end(existing, existing.until, "expired", now)
        session.flush()
    if not book.available:
        raise DomainError("not-available", 409)
    today = _today(policy, now)
    on_loan = session.scalar(select(func.count()).select_from(EbookLoan)
                             .where(EbookLoan.patron_id == patron.id, *_active(now))) or 0
    facts = PatronFacts(category=patron_category(patron, today), balance=Money.zero(policy.currency),
                        birth_date=patron.birth_date)
    decision = can_checkout(patron=facts, item=ItemFacts(MATERIAL_TYPE), loans_by_material={MATERIAL_TYPE: on_loan},
                            policy=policy, branch=None, today=today)
    if not decision.allowed:
        raise _refusal("loan-refused", decision)
    loan = EbookLoan(patron_id=patron.id, audiobook_id=book.id, active_key=key, started_at=now, updated_at=now,
                     until=now + timedelta(days=int(decision.details["loan_days"])), renewals=0)
    try:
        with session.begin_nested():  # a racing borrow of the same book wins the unique active_key
            session.add(loan)
    except IntegrityError:
        winner = session.scalar(select(EbookLoan).where(EbookLoan.active_key == key))
        if winner is None:
            raise
        return BorrowResult(winner, False)
    loan.audiobook = book
    return BorrowResult(loan, True)


def max_renewals(patron: Patron | Poller, policy: Policy, now: datetime) -> int:
    return _renewal_limit(policy, patron_category(patron, _today(policy, now)))


@lru_cache(maxsize=64)
def _renewal_limit(policy: Policy, category: str) -> int:
    return policy.rules_for(None, category, MATERIAL_TYPE).max_renewals


def renewable_from(until: datetime, loan_days: int) -> datetime:
    """When renewing a loan that ends at ``until`` becomes worth it: inside the renewal window (the
    last ``RENEWAL_WINDOW`` of the loan) and when a new period from then moves the end by at least
    ``MIN_RENEWAL_GAIN``. Before then a renewal would waste one of the patron's renewals."""
    return max(until - RENEWAL_WINDOW, until - timedelta(days=loan_days) + MIN_RENEWAL_GAIN)


def renewal_decision(loan: EbookLoan | LoanView, patron: Patron | Poller, policy: Policy, now: datetime) -> Decision:
    """May the patron renew this loan now? Refused as max_renewals (none left) or too_soon (with
    ``renewable_from``, an aware UTC datetime); allowed with ``renewals_left`` afterwards."""
    rules = policy.rules_for(None, patron_category(patron, _today(policy, now)), MATERIAL_TYPE)
    decision = can_renew(renewals_done=loan.renewals, has_holds=False, patron_barred=False, rules=rules)
    if not decision.allowed:
        return decision
    opens = renewable_from(loan.until, rules.loan_days)
    if now < opens:
        return Decision.refuse("too_soon", renewable_from=opens, renewals_left=rules.max_renewals - loan.renewals)
    return decision


def renew(session: Session, patron: Patron, book: Audiobook, *, now: datetime, policy: Policy) -> EbookLoan:
    """A new loan period from now, within the policy's renewal limit and window (``renewal_decision``).
    A refused renewal changes nothing and does not count. Too soon → 409 renewal-refused/too_soon
    with ``renewable_from`` (ISO 8601); no renewals left → 403 renewal-refused/max_renewals."""
    loan = require_loan(session, patron.id, book.id, now)
    if not book.available:  # withdrawn: the loan runs to its end, but no further
        raise DomainError("not-available", 409)
    rules = policy.rules_for(None, patron_category(patron, _today(policy, now)), MATERIAL_TYPE)
    decision = renewal_decision(loan, patron, policy, now)
    if decision.reason == "too_soon":
        opens = decision.details["renewable_from"]
        assert isinstance(opens, datetime)
        raise DomainError("renewal-refused", 409, reason="too_soon",
                          renewable_from=opens.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"))
    if not decision.allowed:
        raise _refusal("renewal-refused", decision)
    loan.until = max(loan.until, now + timedelta(days=rules.loan_days))
    loan.renewals += 1
    loan.updated_at = now
    session.flush()
    return loan


def days_left(until: datetime, now: datetime, policy: Policy) -> int:
    """Days until the loan's last day, counted as people count them: calendar days in the library's time
    zone (a loan made today for 28 days has 28 days left all day; 0 = it ends today)."""
    return max(0, (_today(policy, until) - _today(policy, now)).days)


def return_loan(session: Session, patron: Patron, book: Audiobook, *, now: datetime) -> EbookLoan | None:
    """End the loan now. Returning a book that is not on loan changes nothing (idempotent)."""
    loan = active_loan(session, patron.id, book.id, now)
    if loan is not None:
        _end(loan, now, "returned", now)
        # the patron's loan history, if she keeps one (circulation's opt-in, as Koha's privacy setting)
        record_audiobook_return(session, patron.id, title=book.title, record_key=f"book:{book.id}",
                                borrowed_at=loan.started_at, returned_at=now)
        session.flush()
    return loan


def expire_loans(session: Session, now: datetime) -> int:
    """Record the end of every loan whose period is over (they already read as ended)."""
    result = session.execute(update(EbookLoan).where(EbookLoan.ended_at.is_(None), EbookLoan.until <= now)
                             .values(ended_at=EbookLoan.until, end_reason="expired", active_key=None,
                                     updated_at=now))
    return int(result.rowcount or 0)


def purge_loan_history(session: Session, now: datetime, days: int) -> int:
    """Forget loans that ended more than ``days`` ago: what someone listened to is nobody's business."""
    result = session.execute(delete(EbookLoan).where(EbookLoan.ended_at.is_not(None),
                                                     EbookLoan.ended_at < now - timedelta(days=days)))
    return int(result.rowcount or 0)


# -- listening positions -----------------------------------------------------------------------------

def has_borrowed(session: Session, patron_id: int, book_id: int) -> bool:
    return session.scalar(select(EbookLoan.id).where(EbookLoan.patron_id == patron_id,
                                                     EbookLoan.audiobook_id == book_id).limit(1)) is not None


def get_position(session: Session, patron_id: int, book_id: int) -> ListeningPosition | None:
    return session.get(ListeningPosition, (patron_id, book_id))


def save_position(session: Session, patron: Patron, book: Audiobook, *, track: int, offset: float,
                  recorded_at: datetime, device: str, now: datetime) -> ListeningPosition:
    """Keep the position with the latest ``recorded_at`` (last writer wins, whatever the arrival order).

    Returns the position that holds afterwards, which is the stored one when this one was older.
    """
    numbers = {t.number: t for t in book.tracks}
    if track not in numbers:
        raise DomainError("validation-error", 422, errors=[{"field": "track", "message": "no such track"}])
    if not 0 <= offset <= numbers[track].duration + 1:
        raise DomainError("validation-error", 422, errors=[{"field": "offset", "message": "outside the track"}])
    recorded_at = min(recorded_at, now + FUTURE_SKEW)
    values = {"patron_id": patron.id, "audiobook_id": book.id, "track": track, "offset_seconds": round(offset, 3),
              "recorded_at": recorded_at, "device": device[:100], "received_at": now}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(ListeningPosition).values(**values)
    newer = ListeningPosition.__table__.c.recorded_at < stmt.excluded.recorded_at
    session.execute(stmt.on_conflict_do_update(index_elements=["patron_id", "audiobook_id"],
                                               set_={k: stmt.excluded[k] for k in values
                                                     if k not in ("patron_id", "audiobook_id")}, where=newer))
    return session.scalars(select(ListeningPosition).where(ListeningPosition.patron_id == patron.id,
                                                           ListeningPosition.audiobook_id == book.id)
                           .execution_options(populate_existing=True)).one()
