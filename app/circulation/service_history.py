"""The patron's loan history, opt-in and deletable (Koha's "privacy" setting [003]): nothing is kept unless
she chose to keep it; from then on every returned loan (and audiobook) is copied here; she may stop at any
time and delete everything kept. Changes are audited without titles (what someone reads is private)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app import audit
from app.circulation.history_models import LoanHistoryEntry, LoanHistorySetting
from app.circulation.models import Item, Loan

HISTORY_PAGE = 200  # the newest entries a page or an answer lists


@dataclass(frozen=True)
class HistorySetting:
    enabled: bool
    changed_at: datetime | None
    entries: int


@dataclass(frozen=True)
class HistoryLine:
    kind: str
    title: str
    record_key: str
    borrowed_at: datetime
    returned_at: datetime


def history_enabled(session: Session, patron_id: int) -> bool:
    setting = session.get(LoanHistorySetting, patron_id)
    return setting is not None and setting.enabled


def history_setting(session: Session, patron_id: int) -> HistorySetting:
    setting = session.get(LoanHistorySetting, patron_id)
    count = session.scalar(select(func.count()).select_from(LoanHistoryEntry)
                           .where(LoanHistoryEntry.patron_id == patron_id)) or 0
    return HistorySetting(bool(setting and setting.enabled), setting.changed_at if setting else None, count)


def set_history(session: Session, patron_id: int, *, enabled: bool, now: datetime, actor: object) -> bool:
    """Opt in (True) or out; returns whether anything changed. Opting out stops recording; what was kept
    stays until she deletes it (two separate choices, as in Koha)."""
    setting = session.get(LoanHistorySetting, patron_id)
    if setting is not None and setting.enabled == enabled:
        return False
    if setting is None:
        if not enabled:
            return False
        setting = LoanHistorySetting(patron_id=patron_id, enabled=True, changed_at=now)
        session.add(setting)
    setting.enabled, setting.changed_at = enabled, now
    audit.record(session, actor=actor, action="circulation.loan_history_" + ("on" if enabled else "off"), now=now,
                 record_type="patron", record_id=patron_id)
    session.flush()
    return True


def delete_history(session: Session, patron_id: int, *, now: datetime, actor: object) -> int:
    """Delete every kept entry of the patron; returns how many (audited with the number only)."""
    done = session.execute(delete(LoanHistoryEntry).where(LoanHistoryEntry.patron_id == patron_id))
    removed = int(done.rowcount or 0)
    audit.record(session, actor=actor, action="circulation.loan_history_deleted", now=now, record_type="patron",
                 record_id=patron_id, entries=removed)
    session.flush()
    return removed


def history_of(session: Session, patron_id: int, *, limit: int = HISTORY_PAGE) -> list[HistoryLine]:
    rows = session.scalars(select(LoanHistoryEntry).where(LoanHistoryEntry.patron_id == patron_id)
                           .order_by(LoanHistoryEntry.returned_at.desc(), LoanHistoryEntry.id.desc()).limit(limit))
    return [HistoryLine(r.kind, r.title, r.record_key, r.borrowed_at, r.returned_at) for r in rows]


def record_return(session: Session, loan: Loan, item: Item, *, returned_at: datetime) -> None:
    """At check-in: keep the returned loan if its patron opted in (one primary-key read otherwise)."""
    if history_enabled(session, loan.patron_id):
        session.add(LoanHistoryEntry(patron_id=loan.patron_id, kind="loan", title=item.title[:300],
                                     record_key=item.record_key[:80], borrowed_at=loan.checked_out_at,
                                     returned_at=returned_at))


def record_audiobook_return(session: Session, patron_id: int, *, title: str, record_key: str,
                            borrowed_at: datetime, returned_at: datetime) -> None:
    """The same for an audiobook the patron returned (lending calls it when a loan ends by her hand)."""
    if history_enabled(session, patron_id):
        session.add(LoanHistoryEntry(patron_id=patron_id, kind="audiobook", title=title[:300],
                                     record_key=record_key[:80], borrowed_at=borrowed_at, returned_at=returned_at))
