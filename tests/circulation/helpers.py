"""Builders for circulation scenario tests: the four presets' libraries, patrons, items, loans."""
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from app.circulation import service
from app.circulation.models import FeeEntry, Loan
from app.circulation.money import Money
from app.notify.models import OutboxMessage
from tests import factories

FINNISH_WEEK = {"mon": "10:00-19:00", "tue": "10:00-19:00", "wed": "10:00-19:00", "thu": "10:00-19:00",
                "fri": "10:00-18:00", "sat": "10:00-15:00"}  # Sunday closed
CZECH_WEEK = {"mon": "09:00-18:00", "tue": "09:00-18:00", "wed": "09:00-18:00", "thu": "09:00-18:00",
              "fri": "09:00-17:00", "sat": "09:00-12:00"}
LIBRARIES = {
    "lumme": ("lumme", ["mikkeli", "savonlinna"], FINNISH_WEEK),
    "outi": ("outi", ["oulu_main"], FINNISH_WEEK),
    "tampere": ("tampere", ["linna", "arvo"], FINNISH_WEEK),
    "czech": ("czech", ["main"], CZECH_WEEK),
}
HOME = {"lumme": "mikkeli", "outi": "oulu_main", "tampere": "linna", "czech": "main"}
CURRENCY = {"lumme": "EUR", "outi": "EUR", "tampere": "EUR", "czech": "CZK"}
_numbers = itertools.count(1)


def build_libraries(s: Any, now: datetime) -> None:
    for code, (preset, branches, week) in LIBRARIES.items():
        service.create_library(s, code=code, name=f"{code.title()} library", preset=preset, now=now)
        for branch_code in branches:
            branch = service.add_branch(s, library_code=code, code=branch_code, name=branch_code.title())
            service.add_calendar_version(s, branch_id=branch.id, valid_from=date(2020, 1, 1), weekly=week,
                                         closed_dates=[date(2026, 12, 6), date(2026, 12, 24), date(2026, 12, 25)],
                                         now=now, actor="test")


def money(library: str, text: str) -> Money:
    return Money.parse(text, CURRENCY[library])


def borrower(s: Any, now: datetime, library: str, *, category: str | None = None, email: str | None = None,
             channels: tuple[str, ...] = ("email",), postal_address: str = "", birth_date: date | None = None,
             guardian_id: int | None = None, phone: str = "") -> int:
    number = next(_numbers)
    category = category or ("student" if library == "tampere" else "adult")
    email = f"p{number}@test.kuulo" if email is None else email
    patron = factories.patron(s, now, email=email, phone=phone)
    patron.birth_date = birth_date
    service.enrol_patron(s, patron_id=patron.id, library_code=library, category=category, home_branch=HOME[library],
                         notice_channels=channels, postal_address=postal_address, responsible_patron_id=guardian_id,
                         now=now, actor="test", card_expires_on=date(2030, 1, 1))
    return patron.id


def item(s: Any, now: datetime, library: str, *, material: str = "book", price: str = "20.00",
         branch: str | None = None, record_key: str | None = None, **extra: Any) -> str:
    barcode = f"{library[:1].upper()}{next(_numbers):06d}"
    service.add_item(s, library_code=library, barcode=barcode, title=f"Title {barcode}", material_type=material,
                     home_branch=branch or HOME[library], replacement_price=money(library, price), now=now,
                     record_key=record_key, **extra)
    return barcode


def lend(s: Any, at: datetime, library: str, patron_id: int, barcode: str, *, branch: str | None = None,
         channel: str = "desk") -> Loan:
    result = service.checkout(s, patron_id=patron_id, item_barcode=barcode, branch=branch or HOME[library],
                              now=at, actor="test", channel=channel)  # type: ignore[arg-type]
    assert result.loan is not None, result.decision
    return result.loan


def lend_due(s: Any, now: datetime, library: str, patron_id: int, barcode: str, *, days_overdue: int) -> Loan:
    """A loan whose due time was ``days_overdue`` calendar days before ``now``'s local date."""
    loan = lend(s, now - timedelta(days=40), library, patron_id, barcode)
    target = (now - timedelta(days=days_overdue)).date()
    due = loan.due_at.replace(year=target.year, month=target.month, day=target.day)
    loan.due_at, loan.due_day = due, due.date().toordinal()
    loan.next_notice_on = target - timedelta(days=7)
    s.flush()
    return loan


def fees(s: Any, patron_id: int, kind: str | None = None) -> list[tuple[str, int]]:
    query = select(FeeEntry.kind, FeeEntry.amount_minor).where(FeeEntry.patron_id == patron_id).order_by(FeeEntry.id)
    if kind:
        query = query.where(FeeEntry.kind == kind)
    return [(k, a) for k, a in s.execute(query)]


def count_outbox(s: Any, prefix: str = "circ:") -> int:
    return s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.key.startswith(prefix)))
