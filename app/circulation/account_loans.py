"""Loans from the other lending services on the patron's loans page (/account/loans).

Circulation may not import the domains that lend e-books and audiobooks (they import circulation), so they
tell it about their loans instead: at start-up a domain registers a source, a function
``(session, patron_id, now) -> list[OtherLoan]``, with ``register_source(app, source)``. The loans page asks
every source of the app and shows their loans with the library's in one list, the earliest due first.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

EXTENSION = "circulation_loan_sources"


@dataclass(frozen=True)
class OtherLoan:
    """A loan from another lending service (an audiobook): shown, renewed on its own page."""

    kind: str  # audiobook
    title: str
    due_at: datetime  # when the loan ends (aware)
    url: str  # its page: listen, renew, return
    renewable: bool = False


Source = Callable[[Session, int, datetime], list[OtherLoan]]


@dataclass(frozen=True)
class LoanRow:
    """One row of the loans page: a library loan (``loan``, a service_account.LoanLine) or another
    service's (``other``), with its due state."""

    due_at: datetime
    due_state: str  # overdue | due_soon | on_time
    loan: Any = None
    other: OtherLoan | None = None


def register_source(app: Any, source: Source) -> None:
    sources = app.extensions.setdefault(EXTENSION, [])
    if source not in sources:
        sources.append(source)


def other_loans(app: Any, session: Session, patron_id: int, now: datetime) -> list[OtherLoan]:
    return [loan for source in app.extensions.get(EXTENSION, []) for loan in source(session, patron_id, now)]


def merged(loans: Iterable[Any], others: Iterable[OtherLoan], *, now: datetime, due_soon_days: int) -> list[LoanRow]:
    """The library's loans (already with their due state) and the other services' in one list by due date."""
    rows = [LoanRow(line.due_at, line.due_state, loan=line) for line in loans]
    for other in others:
        state = ("overdue" if now > other.due_at else
                 "due_soon" if other.due_at - now <= timedelta(days=due_soon_days) else "on_time")
        rows.append(LoanRow(other.due_at, state, other=other))
    return sorted(rows, key=lambda row: row.due_at)
