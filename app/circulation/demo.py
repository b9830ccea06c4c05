"""Demo data: the four presets' libraries with branches, calendars and items, and circulation data
for the accounts demo patrons (cards 2000000001…5) spread over the libraries. Loading twice
changes nothing: everything is looked up by code, barcode or card first."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import Library, Patron
from app.circulation import service
from app.circulation.models import Branch, CalendarVersionRow, CircLibrary, Item, PatronCirculation
from app.circulation.money import Money

ACTOR = "system:demo"
FINNISH_WEEK = {"mon": "10:00-19:00", "tue": "10:00-19:00", "wed": "10:00-19:00", "thu": "10:00-19:00",
                "fri": "10:00-18:00", "sat": "10:00-15:00"}
UNIVERSITY_WEEK = {day: "08:00-20:00" for day in ("mon", "tue", "wed", "thu")} | {"fri": "08:00-18:00"}
CZECH_WEEK = {"mon": "09:00-18:00", "tue": "09:00-18:00", "wed": "09:00-18:00", "thu": "09:00-18:00",
              "fri": "09:00-17:00", "sat": "09:00-12:00"}
FINNISH_HOLIDAYS = [date(2026, 12, 6), date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1),
                    date(2027, 1, 6)]
CZECH_HOLIDAYS = [date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1)]
# (code, name, preset, accounts library code, [(branch, name, week, holidays)])
LIBRARIES: list[tuple[str, str, str, str | None, list[tuple[str, str, dict[str, str], list[date]]]]] = [
    ("lumme", "Lumme-kirjastot", "lumme", "lumme-kuopio", [
        ("mikkeli", "Mikkelin pääkirjasto", FINNISH_WEEK, FINNISH_HOLIDAYS),
        ("savonlinna", "Savonlinnan kirjasto", FINNISH_WEEK, FINNISH_HOLIDAYS)]),
    ("outi", "OUTI-kirjastot", "outi", "outi-oulu", [
        ("oulu_main", "Oulun pääkirjasto", FINNISH_WEEK, FINNISH_HOLIDAYS)]),
    ("tampere", "Tampere University Library", "tampere", "tampere", [
        ("linna", "Linna", UNIVERSITY_WEEK, FINNISH_HOLIDAYS), ("arvo", "Arvo", UNIVERSITY_WEEK, FINNISH_HOLIDAYS)]),
    ("czech", "Městská knihovna", "czech", None, [("main", "Ústřední knihovna", CZECH_WEEK, CZECH_HOLIDAYS)]),
]
# (library, barcode, record key, title, material type, home branch, price, extra)
ITEMS: list[tuple[str, str, str, str, str, str, str, dict[str, Any]]] = [
    ("lumme", "L0001", "isbn:9789510000011", "Tuntematon sotilas", "book", "mikkeli", "30.00", {}),
    ("lumme", "L0002", "isbn:9789510000011", "Tuntematon sotilas", "book", "savonlinna", "30.00", {}),
    ("lumme", "L0003", "isbn:9789510000028", "Muumipeikko ja pyrstötähti", "book", "mikkeli", "20.00",
     {"is_childrens_material": True}),
    ("lumme", "L0004", "ean:6417832000035", "Tuntematon sotilas (DVD)", "dvd", "mikkeli", "25.00", {"age_rating": 16}),
    ("lumme", "L0005", "ean:0711719000042", "Racing game", "console_game_child", "savonlinna", "60.00", {}),
    ("lumme", "L0006", "isbn:9789510000059", "Pikalaina: Uusin dekkari", "express_loan", "mikkeli", "25.00", {}),
    ("outi", "O0001", "isbn:9789510000066", "Seitsemän veljestä", "book", "oulu_main", "25.00", {}),
    ("outi", "O0002", "isbn:9789510000073", "Aapinen", "book", "oulu_main", "15.00", {"is_childrens_material": True}),
    ("outi", "O0003", "isbn:9789510000080", "Kalevala", "book", "oulu_main", "35.00", {}),
    ("tampere", "T0001", "isbn:9780262000019", "Structure and Interpretation of Computer Programs", "book", "linna",
     "80.00", {}),
    ("tampere", "T0002", "isbn:9780262000019", "Structure and Interpretation of Computer Programs", "book", "arvo",
     "80.00", {}),
    ("tampere", "T0003", "isbn:9780131000027", "The C Programming Language", "short_loan", "linna", "60.00", {}),
    ("czech", "C0001", "isbn:9788020000017", "Babička", "book", "main", "300.00", {}),
    ("czech", "C0002", "isbn:9788020000024", "Krysař", "book", "main", "250.00", {}),
    ("czech", "C0003", "mvs:2026-0001", "Meziknihovní výpůjčka: Válka s mloky", "interlibrary_loan", "main",
     "400.00", {"holdable": False}),
]
# card → (library, category, home branch, channels, guardian card, loans as (barcode, days ago))
PATRONS: list[tuple[str, str, str, str, list[str], str | None, list[tuple[str, int]]]] = [
    ("2000000001", "lumme", "adult", "mikkeli", ["email"], None, [("L0001", 10), ("L0004", 40)]),
    ("2000000005", "lumme", "child", "mikkeli", ["email"], "2000000001", [("L0003", 48)]),
    ("2000000002", "outi", "adult", "oulu_main", ["email", "letter"], None, [("O0001", 63)]),
    ("2000000003", "tampere", "student", "linna", ["email"], None, [("T0001", 5)]),
    ("2000000004", "czech", "adult", "main", [], None, [("C0001", 36)]),
]


def load_demo(session: Session, now: datetime) -> dict[str, int]:
    created = {"circulation libraries": 0, "circulation items": 0, "circulation patrons": 0}
    for code, name, preset, accounts_code, branches in LIBRARIES:
        accounts_id = session.scalar(select(Library.id).where(Library.code == accounts_code)) if accounts_code else None
        if session.scalar(select(CircLibrary.id).where(CircLibrary.code == code)) is None:
            created["circulation libraries"] += 1
        service.create_library(session, code=code, name=name, preset=preset, now=now, accounts_library_id=accounts_id)
        for branch_code, branch_name, week, holidays in branches:
            branch = service.add_branch(session, library_code=code, code=branch_code, name=branch_name)
            if not session.scalar(select(CalendarVersionRow.id).where(CalendarVersionRow.branch_id == branch.id)):
                service.add_calendar_version(session, branch_id=branch.id, valid_from=date(2020, 1, 1), weekly=week,
                                             closed_dates=holidays, now=now, actor=ACTOR)
    for library, barcode, record_key, title, material, home, price, extra in ITEMS:
        if session.scalar(select(Item.id).where(Item.barcode == barcode)) is None:
            currency = "CZK" if library == "czech" else "EUR"
            service.add_item(session, library_code=library, barcode=barcode, record_key=record_key, title=title,
                             material_type=material, home_branch=home, replacement_price=Money.parse(price, currency),
                             now=now, **extra)
            created["circulation items"] += 1
    for card, library, category, home, channels, guardian_card, loans in PATRONS:
        patron = session.scalar(select(Patron).where(Patron.card_number == card))
        if patron is not None and library == "czech":
            patron.language = "cs"  # the Czech library's patrons read Czech (its preset's language)
        if patron is None or session.get(PatronCirculation, patron.id) is not None:
            continue
        guardian = session.scalar(select(Patron.id).where(Patron.card_number == guardian_card)) if guardian_card else None
        service.enrol_patron(session, patron_id=patron.id, library_code=library, category=category, home_branch=home,
                             notice_channels=channels, postal_address="Kirjastokatu 1, 50100 Mikkeli"
                             if "letter" in channels else "", responsible_patron_id=guardian, now=now, actor=ACTOR,
                             card_expires_on=now.date() + timedelta(days=3 * 365))
        created["circulation patrons"] += 1
        for barcode, days_ago in loans:
            branch = session.scalar(select(Branch.code).join(Item, Item.home_branch_id == Branch.id)
                                    .where(Item.barcode == barcode))
            service.checkout(session, patron_id=patron.id, item_barcode=barcode, branch=branch,
                             now=now - timedelta(days=days_ago), actor=ACTOR)
        if card == "2000000001":  # a hold on a title whose only free copy is at another branch
            service.set_notice_preferences(session, patron.id, now=now, actor=ACTOR, advance_notice_days=3)
            service.place_hold(session, patron_id=patron.id, record_key="ean:0711719000042", now=now, actor=ACTOR)
    return created
