"""The catalogue's rules: store imported records (idempotent by control number), keep circulation's copies
in step with the holdings, index lending's audiobooks, and tell where copies are.

Functions take ``session`` and ``now`` (and ``actor`` where something changes hands); they flush, never
commit: the CLI, job or view owns the transaction.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from app.catalogue import marc
from app.catalogue.models import Holding, Record, RecordIdentifier
from app.catalogue.search import SearchQuery, SearchResult, search
from app.circulation import service as circulation
from app.circulation import service_items
from app.circulation.models import ACTIVE_HOLD_STATES, Branch, CircLibrary, Hold, Item, Loan
from app.circulation.service_common import local_today
from app.errors import DomainError

__all__ = ["SearchQuery", "SearchResult", "search"]

# Catalogue material → circulation's vocabulary (a preset lists the ones it lends).
CIRCULATION_MATERIAL = {"book": "book", "large_print": "book", "audiobook_cd": "audiobook", "daisy": "audiobook",
                        "e_audiobook": "audiobook", "dvd": "dvd", "bluray": "bluray", "music_cd": "music_cd",
                        "magazine": "magazine", "object": "object", "console_game": "console_game_child"}
ADULT_GAME_AGE = 16  # PEGI/K 16 and 18 games lend as adults' games


@dataclass
class ImportReport:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    items_created: int = 0
    items_updated: int = 0
    skipped: list[marc.Unreadable] = field(default_factory=list)

    def add(self, other: ImportReport) -> None:
        for name in ("read", "created", "updated", "unchanged", "items_created", "items_updated"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.skipped += other.skipped


def search_text(values: dict[str, Any]) -> str:
    parts = [values["title"], values.get("subtitle", ""), values.get("responsibility", ""),
             *(a["name"] for a in values.get("authors", [])), *values.get("subjects", []), *values.get("genres", []),
             *values.get("series", []), *values.get("notes", []), values.get("publisher", ""),
             *values.get("isbns", []), *values.get("issns", []), *values.get("eans", []), values["control_number"]]
    return "\n".join(p for p in parts if p)[:20000]


def identifiers_of(values: dict[str, Any]) -> list[str]:
    out = [values["control_number"]]
    if ":" in values["control_number"]:
        out.append(values["control_number"].split(":", 1)[1])
    for isbn in values.get("isbns", []):
        out += marc.identifier_forms(isbn)
    out += values.get("issns", []) + values.get("eans", [])
    return list(dict.fromkeys(v[:200] for v in out if v))


def _hash(values: dict[str, Any], holdings: Iterable[marc.Holding] = ()) -> str:
    data = json.dumps([values, [h.__dict__ for h in holdings]], sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()


def _store(session: Session, record: Record | None, values: dict[str, Any], digest: str, now: datetime) -> Record:
    if record is None:
        record = Record(created_at=now, **values)
        session.add(record)
    else:
        for key, value in values.items():
            setattr(record, key, value)
    record.search_text = search_text(values)
    record.content_hash = digest
    record.updated_at = now
    session.flush()
    session.execute(delete(RecordIdentifier).where(RecordIdentifier.record_id == record.id))
    session.add_all(RecordIdentifier(record_id=record.id, value=v) for v in identifiers_of(values))
    return record


def _skip_reason(err: DomainError) -> str:
    detail = ", ".join(f"{k}={v}" for k, v in err.params.items())
    return f"{err.code}" + (f" ({detail})" if detail else "")


def _item_material(parsed: marc.Parsed) -> str:
    """Circulation's material type for a record's copies when the holding names none the library lends."""
    wanted = CIRCULATION_MATERIAL.get(parsed.material_type, "book")
    if wanted == "console_game_child" and (parsed.age_rating or 0) >= ADULT_GAME_AGE:
        wanted = "console_game_adult"
    return wanted


def _copies(reads: list[marc.Read]) -> tuple[list[service_items.ItemUpsert], list[int]]:
    """The copies of these records as circulation's item descriptions, and the record (index) of each."""
    items, owner = [], []
    for n, r in enumerate(reads):
        parsed = r.parsed
        fallback = _item_material(parsed)
        for h in parsed.holdings:
            items.append(service_items.ItemUpsert(
                barcode=h.barcode, home_branch=h.branch, record_key=parsed.record_key, title=parsed.title[:300],
                material_type=h.material_type, fallback_material_type=fallback, price=h.price,
                age_rating=parsed.age_rating))
            owner.append(n)
    return items, owner


def _record_row(parsed: marc.Parsed, now: datetime, values: dict[str, Any] | None = None) -> dict[str, Any]:
    values = values or marc.as_dict(parsed)
    return values | {"search_text": search_text(values), "content_hash": parsed.content_hash(), "updated_at": now}


def _json(value: Any) -> str:
    return json.dumps(value) if value else "[]"


RECORD_UPDATED = ("record_key", "title", "subtitle", "responsibility", "authors", "publisher", "year", "edition",
                  "language", "isbns", "issns", "eans", "subjects", "genres", "series", "material_type", "age_rating",
                  "physical_description", "notes", "cover_isbn", "search_text", "marcxml", "content_hash",
                  "updated_at")
RECORD_JSON = frozenset({"authors", "isbns", "issns", "eans", "subjects", "genres", "series", "notes"})
RECORD_INSERTED = ("control_number", "source", *RECORD_UPDATED[:-1])


def _insert_records(session: Session, parsed: list[marc.Parsed], values: list[dict[str, Any]],
                    now: datetime) -> dict[str, int]:
    """New records with one driver-level executemany (SQLite: the FTS5 triggers index them in the same
    statement) or COPY (PostgreSQL: the GIN indexes compute the tsvectors); their ids by control number."""
    table = Record.__table__
    stamp = service_items.driver_value(session, table.c.created_at, now)
    rows = []
    for p, v in zip(parsed, values, strict=True):
        row = _record_row(p, now, v) | {"source": "marc"}
        rows.append(tuple(_json(row[k]) if k in RECORD_JSON else row[k] for k in RECORD_INSERTED) + (stamp, stamp))
    service_items.insert_rows(session, table, (*RECORD_INSERTED, "created_at", "updated_at"), rows)
    return {cn: rid for rid, cn in session.execute(select(table.c.id, table.c.control_number).where(
        table.c.control_number.in_([p.control_number for p in parsed])))}


def import_batch(session: Session, batch: list[marc.Read | marc.Unreadable], *, now: datetime,
                 library_code: str | None = None) -> ImportReport:
    """Store one batch of read records with a handful of statements (whatever the batch's size): the known
    control numbers and their content hashes in one query, new records in one multi-row INSERT, changed ones
    in one executemany UPDATE, their identifiers and shelf places likewise, and the copies through
    circulation's bulk item service. Unchanged records are not touched. A record whose copies are refused
    (unknown branch, material type or price, a barcode of another library) is skipped with its reason before
    anything is written; any other error fails the whole batch (the caller rolls it back)."""
    report = ImportReport(read=len(batch), skipped=[r for r in batch if isinstance(r, marc.Unreadable)])
    readable = [r for r in batch if isinstance(r, marc.Read)]
    if not readable:
        return report
    table = Record.__table__
    known: dict[str, tuple[int, str]] = {
        cn: (rid, digest) for rid, cn, digest in session.execute(
            select(table.c.id, table.c.control_number, table.c.content_hash)
            .where(table.c.control_number.in_(sorted({r.parsed.control_number for r in readable}))))}
    unchanged: set[str] = set()
    changed: list[marc.Read] = []
    for r in readable:
        old = known.get(r.parsed.control_number)
        if old is not None and old[1] == r.parsed.content_hash():
            unchanged.add(r.parsed.control_number)
        else:
            changed.append(r)
    items, owner = _copies(changed)
    plan = service_items.plan_items(session, items, library_code=library_code)
    refused: dict[int, DomainError] = {}
    for n, err in sorted(plan.refused.items()):
        refused.setdefault(owner[n], err)
    final: dict[str, int] = {}  # control number → the last acceptable description of it in the batch
    for n, r in enumerate(changed):
        if n in refused:
            report.skipped.append(marc.Unreadable(r.position, r.parsed.control_number, _skip_reason(refused[n])))
        else:
            final[r.parsed.control_number] = n
    chosen = sorted(final.values())
    if len(chosen) != len(changed):  # some left out: the copies are planned again from the chosen records
        changed = [changed[n] for n in chosen]
        items, owner = _copies(changed)
        plan = service_items.plan_items(session, items, library_code=library_code)
    report.unchanged = len(unchanged - set(final))
    report.skipped.sort(key=lambda u: u.position)
    if not changed:
        return report
    new = [r.parsed for r in changed if r.parsed.control_number not in known]
    old = [r.parsed for r in changed if r.parsed.control_number in known]
    report.created, report.updated = len(new), len(old)
    ids = {p.control_number: known[p.control_number][0] for p in old}
    values = {p.control_number: marc.as_dict(p) for p in new + old}
    if new:
        ids.update(_insert_records(session, new, [values[p.control_number] for p in new], now))
    if old:
        session.execute(update(table).where(table.c.id == bindparam("new_id"))
                        .values({k: bindparam(f"new_{k}") for k in RECORD_UPDATED}),
                        [{f"new_{k}": v for k, v in _record_row(p, now, values[p.control_number]).items()
                          if k in RECORD_UPDATED}
                         | {"new_id": ids[p.control_number]} for p in old])
        session.execute(delete(RecordIdentifier).where(RecordIdentifier.record_id.in_([ids[p.control_number]
                                                                                       for p in old])))
    service_items.insert_rows(session, RecordIdentifier.__table__, ("record_id", "value"), [
        (ids[p.control_number], v) for p in new + old for v in identifiers_of(values[p.control_number])])
    report.items_created, report.items_updated = service_items.apply_items(session, plan, now=now)
    _shelves(session, [(ids[r.parsed.control_number], h) for r in changed for h in r.parsed.holdings])
    return report


def _shelves(session: Session, holdings: list[tuple[int, marc.Holding]]) -> None:
    """Each copy's shelf place and call number (the last description of a barcode wins)."""
    wanted = {h.barcode: (record_id, h.location, h.call_number) for record_id, h in holdings}
    if not wanted:
        return
    table = Holding.__table__
    existing = {barcode: (hid, (rid, where, number)) for hid, barcode, rid, where, number in session.execute(
        select(table.c.id, table.c.barcode, table.c.record_id, table.c.shelf_location, table.c.call_number)
        .where(table.c.barcode.in_(sorted(wanted))))}
    inserts = [(b, *v) for b, v in wanted.items() if b not in existing]
    updates = [{"new_id": existing[b][0], "new_record_id": v[0], "new_shelf_location": v[1], "new_call_number": v[2]}
               for b, v in wanted.items() if b in existing and existing[b][1] != v]
    service_items.insert_rows(session, table, ("barcode", "record_id", "shelf_location", "call_number"), inserts)
    if updates:
        session.execute(update(table).where(table.c.id == bindparam("new_id")).values(
            record_id=bindparam("new_record_id"), shelf_location=bindparam("new_shelf_location"),
            call_number=bindparam("new_call_number")), updates)


def export_xml(session: Session) -> Iterable[str]:
    """Every imported record's MARCXML, in id order (lending's audiobooks are not MARC records)."""
    last = 0
    while True:
        rows = list(session.execute(select(Record.id, Record.marcxml).where(Record.id > last, Record.source == "marc")
                                    .order_by(Record.id).limit(500)).all())
        if not rows:
            return
        for _id, xml in rows:
            yield xml
        last = rows[-1][0]


# -- lending's audiobooks ------------------------------------------------------------------------

def index_audiobooks(session: Session, now: datetime) -> dict[str, int]:
    """Records of material type e-audiobook for lending's available audiobooks (read through lending's
    service); withdrawn books leave the catalogue. Unchanged books are left alone."""
    from app.lending import service as lending

    counts = {"indexed": 0, "removed": 0}
    books, offset = [], 0
    while True:
        page, total = lending.find_books(session, query="", limit=200, offset=offset)
        books += page
        offset += len(page)
        if not page or offset >= total:
            break
    wanted = {b.id: b for b in books if b.available}
    existing = {r.lending_book_id: r for r in session.scalars(select(Record).where(Record.source == "lending"))}
    for book_id, record in existing.items():
        if book_id not in wanted:
            session.delete(record)
            counts["removed"] += 1
    for book in wanted.values():
        identifier = book.identifier
        isbn = marc.compact_isbn13(identifier.removeprefix("urn:isbn:")) if identifier.startswith("urn:isbn:") else None
        authors = [{"name": book.author, "role": "author"}] if book.author else []
        if book.narrator:
            authors.append({"name": book.narrator, "role": "narrator"})
        language = {"fi": "fin", "sv": "swe", "en": "eng", "se": "sme"}.get(book.language.split("-")[0], "")
        values = {"control_number": f"lending:{identifier}"[:200], "title": book.title[:500], "authors": authors,
                  "language": language, "isbns": [isbn] if isbn else [], "material_type": "e_audiobook",
                  "year": book.added_at.year if book.added_at else None,
                  "record_key": f"lending:{book.id}", "source": "lending", "lending_book_id": book.id,
                  "subtitle": "", "responsibility": "", "publisher": "", "edition": "", "issns": [], "eans": [],
                  "subjects": [], "genres": [], "series": [], "age_rating": None, "physical_description": "",
                  "notes": [], "cover_isbn": isbn or "", "marcxml": ""}
        digest = _hash(values)
        record = existing.get(book.id)
        if record is None or record.content_hash != digest:
            _store(session, record, values, digest, now)
            counts["indexed"] += 1
    session.flush()
    return counts


# -- records, availability and holds --------------------------------------------------------------

def get_record(session: Session, record_id: int) -> Record:
    record = session.get(Record, record_id)
    if record is None:
        raise DomainError("not-found", 404, what="record")
    return record


def records_by_id(session: Session, ids: list[int]) -> list[Record]:
    found = {r.id: r for r in session.scalars(select(Record).where(Record.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found]


def record_key_of(session: Session, record_id: int) -> str | None:
    """The key circulation places holds on (None: no such record, or one circulation does not lend)."""
    record = session.get(Record, record_id)
    return record.record_key if record is not None and record.source == "marc" else None


@dataclass
class BranchAvailability:
    code: str
    name: str
    library: str
    copies: int = 0
    available: int = 0
    on_loan: int = 0
    in_transit: int = 0
    on_hold_shelf: int = 0
    locations: list[str] = field(default_factory=list)
    due_dates: list[date] = field(default_factory=list)


@dataclass
class Availability:
    copies: int = 0
    available: int = 0
    holds: int = 0
    holdable: bool = False
    transportable: bool = False
    online: bool = False
    branches: list[BranchAvailability] = field(default_factory=list)


def availability(session: Session, records: list[Record], now: datetime) -> dict[int, Availability]:
    """Per record: copies and holds, and per branch what is on the shelf (where), on loan (until which
    local date), in transit and waiting on the hold shelf."""
    keys = {r.record_key for r in records if r.source == "marc"}
    out = {r.id: Availability(online=r.source == "lending") for r in records}
    if not keys:
        return out
    items = list(session.execute(select(Item, Branch, CircLibrary.name)
                                 .join(Branch, Branch.id == Item.current_branch_id)
                                 .join(CircLibrary, CircLibrary.id == Item.library_id)
                                 .where(Item.record_key.in_(keys)).order_by(Branch.name, Item.barcode)).all())
    item_ids = [i.id for i, _b, _l in items]
    due = dict(session.execute(select(Loan.item_id, Loan.due_at).where(Loan.item_id.in_(item_ids),
                                                                      Loan.status == "open")).all()) \
        if item_ids else {}
    shelves = dict(session.execute(select(Holding.barcode, Holding.shelf_location)
                                   .where(Holding.barcode.in_([i.barcode for i, _b, _l in items]))).all()) \
        if items else {}
    holds = dict(session.execute(select(Hold.record_key, func.count()).where(
        Hold.record_key.in_(keys), Hold.state.in_(ACTIVE_HOLD_STATES)).group_by(Hold.record_key)).all())
    by_key: dict[str, list[tuple[Item, Branch, str]]] = defaultdict(list)
    for row in items:
        by_key[row[0].record_key].append(row)
    for record in records:
        if record.source != "marc":
            continue
        result = out[record.id]
        result.holds = int(holds.get(record.record_key, 0))
        branches: dict[int, BranchAvailability] = {}
        for item, branch, library_name in by_key.get(record.record_key, []):
            if item.status in ("lost", "withdrawn"):
                continue
            b = branches.setdefault(branch.id, BranchAvailability(branch.code, branch.name, library_name))
            b.copies += 1
            result.copies += 1
            result.holdable = result.holdable or item.holdable
            result.transportable = result.transportable or item.transportable
            if item.status == "available":
                b.available += 1
                result.available += 1
                if (where := shelves.get(item.barcode)) and where not in b.locations:
                    b.locations.append(where)
            elif item.status == "on_loan":
                b.on_loan += 1
                if item.id in due:
                    b.due_dates.append(local_today(branch.timezone, due[item.id]))
            elif item.status == "in_transit":
                b.in_transit += 1
            elif item.status == "on_hold_shelf":
                b.on_hold_shelf += 1
        for b in branches.values():
            b.due_dates.sort()
        result.branches = list(branches.values())
    return out


def pickup_branches(session: Session, record: Record, patron_id: int) -> tuple[list[Branch], int | None]:
    """The branches of the patron's library where a hold can be picked up, and the patron's home branch."""
    from app.circulation.models import PatronCirculation

    circ = session.get(PatronCirculation, patron_id)
    if circ is None:
        return [], None
    branches = list(session.scalars(select(Branch).where(Branch.library_id == circ.library_id).order_by(Branch.name)))
    return branches, circ.home_branch_id


def place_hold(session: Session, *, record_id: int, patron_id: int, pickup_branch: str | None, now: datetime,
               actor: Any) -> circulation.HoldResult:
    """A hold on the record's title through circulation (its rules and refusals)."""
    key = record_key_of(session, record_id)
    if key is None:
        raise DomainError("not-found", 404, what="record")
    return circulation.place_hold(session, patron_id=patron_id, record_key=key, pickup_branch=pickup_branch,
                                  now=now, actor=actor)
