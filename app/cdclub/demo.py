"""Demo clubs and members (idempotent: loading twice changes nothing)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import Patron
from app.cdclub import catalogue, production, service, settings
from app.cdclub.models import Club
from app.errors import DomainError

ACTOR = "system:demo"
CLUBS = [
    service.ClubData(
        code="dekkariklubi",
        names={"fi": "Dekkariklubi", "sv": "Deckarklubben", "en": "Crime Club"},
        descriptions={"fi": "Kolme uutta dekkaria kuukaudessa CD-levyillä kotiin.",
                      "sv": "Tre nya deckare i månaden på cd-skivor hem till dig.",
                      "en": "Three new crime novels a month on CD, delivered to your home."},
        books_per_period=3, disc_cap=14, delivery_format="cd"),
    service.ClubData(
        code="tietokirjaklubi",
        names={"fi": "Tietokirjaklubi", "sv": "Faktaboksklubben", "en": "Non-fiction Club"},
        descriptions={"fi": "Kaksi kiinnostavaa tietokirjaa kuukaudessa CD-levyillä.",
                      "sv": "Två intressanta faktaböcker i månaden på cd-skivor.",
                      "en": "Two interesting non-fiction books a month on CD."},
        books_per_period=2, disc_cap=10, delivery_format="cd"),
    service.ClubData(
        code="romaaniklubi-verkossa",
        names={"fi": "Romaaniklubi verkossa", "sv": "Romanklubben på nätet", "en": "Novel Club online"},
        descriptions={"fi": "Kolme romaania kuukaudessa suoraan lukusovelluksen hyllyyn.",
                      "sv": "Tre romaner i månaden direkt till läsappens hylla.",
                      "en": "Three novels a month straight onto your reader-app shelf."},
        books_per_period=3, disc_cap=14, delivery_format="online"),
]
MEMBERS = [
    ("2000000001", "dekkariklubi", service.Address("Maija Meikäläinen", "Mannerheimintie 5 A 12", "", "00100",
                                                   "Helsinki", "FI")),
    ("2000000002", "dekkariklubi", service.Address("Sven Svensson", "Storgatan 5 B 3", "", "65100", "Vasa", "FI")),
    ("2000000002", "tietokirjaklubi", service.Address("Sven Svensson", "Storgatan 5 B 3", "", "65100", "Vasa",
                                                      "FI")),
    ("2000000003", "romaaniklubi-verkossa", service.Address()),
    ("2000000004", "tietokirjaklubi", service.Address("Matti Virtanen", "Hämeenkatu 10", "c/o Virtanen",
                                                      "33100", "Tampere", "FI")),
]


def load(session: Session, now: datetime) -> dict[str, Any]:
    conf = settings.current()
    clubs = {c.code: c for c in service.list_clubs(session)}
    new_clubs = new_members = titles = 0
    for data in CLUBS:
        if data.code not in clubs:
            clubs[data.code] = service.create_club(session, data, actor=ACTOR, now=now)
            new_clubs += 1
    for card, code, address in MEMBERS:
        patron = session.scalar(select(Patron).where(Patron.card_number == card))
        if patron is None or service.membership(session, clubs[code], patron) is not None:
            continue
        service.join_club(session, clubs[code], patron, address=address, now=now, actor=ACTOR, settings=conf)
        new_members += 1
    titles = _pick_titles(session, list(clubs.values()), now, conf)
    return {"clubs": len(clubs), "new club members": new_members, "new clubs": new_clubs,
            "new club titles": titles}


def _pick_titles(session: Session, clubs: list[Club], now: datetime, conf: settings.ClubSettings) -> int:
    """Fill the next period still open for picking with books from the catalogue, if it has any."""
    books = catalogue.search(session, "", limit=10)
    added = 0
    for offset, club in enumerate(clubs):
        plan = next((p for p in production.club_plans(session, club, conf, conf.local_date(now)) if p.editable), None)
        if plan is None or plan.titles:
            continue
        for book in (books[offset:] + books[:offset])[:club.books_per_period]:
            try:
                production.add_title(session, club, plan.period.key, book.id, now=now, actor=ACTOR, settings=conf)
                added += 1
            except DomainError:
                continue
    return added
