"""Demo data with fixed credentials (listed in the README). Loading twice changes nothing."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import db
from app.accounts import service
from app.accounts.models import Patron, StaffUser

DEMO_PASSWORD = "kuulo-demo-2026"
DEMO_PIN = "1234"
LIBRARIES = [
    ("helmet-helsinki", "Helsingin kaupunginkirjasto", "Helsinki"),
    ("tampere", "Tampereen kaupunginkirjasto", "Tampere"),
    ("outi-oulu", "Oulun kaupunginkirjasto (OUTI)", "Oulu"),
    ("lumme-kuopio", "Kuopion kaupunginkirjasto (Lumme)", "Kuopio"),
]
STAFF = [
    ("librarian@demo.kuulo.test", "Liisa Kirjastonhoitaja", ["librarian"], "helmet-helsinki"),
    ("reviewer@demo.kuulo.test", "Raimo Käsittelijä", ["reviewer"], None),
    ("producer@demo.kuulo.test", "Pirjo Tuottaja", ["producer"], None),
    ("editor@demo.kuulo.test", "Eero Tiedottaja", ["status_editor"], None),
    ("admin@demo.kuulo.test", "Aino Ylläpitäjä", ["admin"], None),
    ("desk@demo.kuulo.test", "Tiina Tiskivirkailija", ["circulation", "circulation-supervisor"], "lumme-kuopio"),
]
PATRONS = [
    ("2000000001", "Maija Meikäläinen", "maija@demo.kuulo.test", "fi"),
    ("2000000002", "Sven Svensson", "sven@demo.kuulo.test", "sv"),
    ("2000000003", "Emily Reader", "emily@demo.kuulo.test", "en"),
    ("2000000004", "Matti Virtanen", "", "fi"),
    ("2000000005", "Kaisa Koululainen", "kaisa@demo.kuulo.test", "fi"),
]
ACTOR = "system:demo"

# Each domain appends a loader: fn(session, now) -> dict of counts. Run in order, one transaction.
LOADERS: list[Callable[[Session, datetime], dict[str, Any]]] = []


def load_accounts(session: Session, now: datetime) -> dict[str, Any]:
    libs = {code: service.get_or_create_library(session, code, name, town) for code, name, town in LIBRARIES}
    created_staff = created_patrons = 0
    for email, name, roles, lib in STAFF:
        if session.scalar(select(StaffUser).where(StaffUser.email == email)) is None:
            service.create_staff_user(session, email=email, name=name, password=DEMO_PASSWORD, roles=roles,
                                      library=libs[lib] if lib else None, now=now, actor=ACTOR)
            created_staff += 1
    for card, name, email, lang in PATRONS:
        if session.scalar(select(Patron).where(Patron.card_number == card)) is None:
            service.create_patron(session, name=name, email=email, language=lang, pin=DEMO_PIN, now=now,
                                  actor=ACTOR, card_number=card, home_library=libs["helmet-helsinki"])
            created_patrons += 1
    return {"libraries": len(libs), "new staff": created_staff, "new patrons": created_patrons}


LOADERS.append(load_accounts)


def load_demo(app: Flask, now: datetime) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    from app import domains

    with db.get_sessionmaker(app).begin() as session:
        for loader in LOADERS + domains.demo_loaders():
            summary.update(loader(session, now))
    return summary
