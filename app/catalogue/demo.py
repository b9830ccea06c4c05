"""Demo records: a MARC 21 file that pymarc writes for the demo's circulation items (one record per title,
its copies as 952 holdings), imported like any library's export; and lending's audiobooks indexed.
Loading twice changes nothing (records match by control number, copies by barcode)."""
from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from pymarc import Record
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalogue import marc, service
from app.circulation.models import Branch, Item

# record key → (author, year, language, subjects, leader type, carrier, age rating, 008 changes, shelf location)
DETAILS: dict[str, tuple[str, int, str, list[str], str, str, int | None, dict[int, str], str]] = {
    "isbn:9789510000011": ("Linna, Väinö", 1954, "fin", ["sota", "jatkosota", "sotilaat"], "a", "", None, {},
                           "Aikuisten romaanit"),
    "isbn:9789510000028": ("Jansson, Tove", 1946, "fin", ["muumit", "komeetat"], "a", "", None, {}, "Lasten osasto"),
    "ean:6417832000035": ("Laine, Edvin", 1955, "fin", ["sota", "jatkosota", "elokuvat"], "g", "DVD-videolevy", 16,
                          {}, "Elokuvat"),
    "ean:0711719000042": ("", 2024, "eng", ["autopelit", "kilpa-ajo"], "m", "Nintendo Switch game", 3, {26: "g"},
                          "Pelit"),
    "isbn:9789510000059": ("Dekkaristi, Dora", 2026, "fin", ["rikosromaanit", "poliisit"], "a", "", None, {},
                           "Pikalainat"),
    "isbn:9789510000066": ("Kivi, Aleksis", 1870, "fin", ["veljekset", "maaseutu"], "a", "", None, {}, "Klassikot"),
    "isbn:9789510000073": ("", 1950, "fin", ["lukeminen", "aakkoset"], "a", "", None, {}, "Lasten osasto"),
    "isbn:9789510000080": ("Lönnrot, Elias", 1849, "fin", ["kansanrunous", "mytologia"], "a", "", None, {}, "Runot"),
    "isbn:9780262000019": ("Abelson, Harold", 1996, "eng", ["programming", "computer science", "lisp"], "a", "",
                           None, {}, "QA76"),
    "isbn:9780131000027": ("Kernighan, Brian W.", 1988, "eng", ["programming", "c language"], "a", "", None, {},
                           "QA76 short loan"),
    "isbn:9788020000017": ("Němcová, Božena", 1855, "cze", ["venkov", "babičky"], "a", "", None, {}, "Beletrie"),
    "isbn:9788020000024": ("Dyk, Viktor", 1915, "cze", ["pověsti", "krysaři"], "a", "", None, {}, "Beletrie"),
}


def demo_records(session: Session) -> list[Record]:
    """One MARC record per title of the demo's circulation items, with their copies as holdings."""
    titles: dict[str, list[tuple[Item, Branch]]] = {}
    for item, branch in session.execute(select(Item, Branch).join(Branch, Branch.id == Item.home_branch_id)
                                        .order_by(Item.barcode)).all():
        if item.record_key in DETAILS:
            titles.setdefault(item.record_key, []).append((item, branch))
    records = []
    for key, copies in titles.items():
        author, year, language, subjects, kind, carrier, age, fixed, shelf = DETAILS[key]
        scheme, number = key.split(":", 1)
        holdings = [marc.Holding(barcode=i.barcode, branch=b.code, material_type=i.material_type,
                                 price=f"{i.replacement_price_minor / 100:.2f}", location=shelf) for i, b in copies]
        records.append(marc.build(control=f"demo-{number}", title=copies[0][0].title, author=author,
                                  isbn=number if scheme == "isbn" else "", ean=number if scheme == "ean" else "",
                                  leader_type=kind, language=language, year=year, subjects=subjects, carrier=carrier,
                                  age_rating=age, holdings=holdings, fixed_extra=fixed))
    return records


def load(session: Session, now: datetime) -> dict[str, Any]:
    data = marc.to_marc(demo_records(session))
    batch = list(marc.read(io.BytesIO(data)))
    report = service.import_batch(session, batch, now=now)
    counts = service.index_audiobooks(session, now)
    return {"catalogue records": report.created + report.updated + report.unchanged,
            "new or updated catalogue records": report.created + report.updated,
            "catalogue audiobooks": counts["indexed"]}
