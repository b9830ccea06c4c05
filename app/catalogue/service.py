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

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.catalogue import marc
from app.catalogue.models import Holding, Record, RecordIdentifier
from app.catalogue.search import SearchQuery, SearchResult, search
from app.circulation import service as circulation
from app.circulation.models import ACTIVE_HOLD_STATES, Branch, CircLibrary, Hold, Item, Loan
from app.circulation.money import Money
from app.circulation.service_common import local_today, policy_of
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


def _branch(session: Session, code: str, library_code: str | None) -> tuple[Branch, CircLibrary]:
    query = select(Branch, CircLibrary).join(CircLibrary, CircLibrary.id == Branch.library_id).where(Branch.code == code)
    if library_code:
        query = query.where(CircLibrary.code == library_code)
    rows = list(session.execute(query).all())
    if len(rows) != 1:
        raise DomainError("catalogue-unknown-branch" if not rows else "branch-ambiguous", 422, branch=code)
    return rows[0]


def _item_material(parsed: marc.Parsed, holding: marc.Holding, lent: list[str]) -> str:
    if holding.material_type in lent:
        return holding.material_type
    wanted = CIRCULATION_MATERIAL.get(parsed.material_type, "book")
    if wanted == "console_game_child" and (parsed.age_rating or 0) >= ADULT_GAME_AGE:
        wanted = "console_game_adult"
    if wanted not in lent:
        raise DomainError("unknown-material-type", 422, material_type=holding.material_type or wanted)
    return wanted


def _holdings(session: Session, record: Record, parsed: marc.Parsed, *, now: datetime, library_code: str | None,
              report: ImportReport, branches: dict[str, tuple[Branch, CircLibrary]]) -> None:
    """Create or update circulation's copy for each holding (barcode, branch, material type, price)."""
    for h in parsed.holdings:
        if h.branch not in branches:
            branches[h.branch] = _branch(session, h.branch, library_code)
        branch, library = branches[h.branch]
        policy = policy_of(library)
        material = _item_material(parsed, h, list(policy.material_types))
        try:
            price = Money.parse(h.price.replace(",", ".") or "0", policy.currency)
        except ValueError:
            raise DomainError("invalid-amount", 422, currency=policy.currency) from None
        item = session.scalar(select(Item).where(Item.barcode == h.barcode))
        title = parsed.title[:300]
        if item is None:
            circulation.add_item(session, library_code=library.code, barcode=h.barcode, record_key=record.record_key,
                                 title=title, material_type=material, home_branch=branch.code, replacement_price=price,
                                 now=now, age_rating=parsed.age_rating)
            report.items_created += 1
        else:
            if item.library_id != library.id:
                raise DomainError("catalogue-barcode-in-other-library", 422, barcode=h.barcode)
            wanted = {"record_key": record.record_key, "title": title, "material_type": material,
                      "replacement_price_minor": price.minor, "age_rating": parsed.age_rating}
            changed = {k: v for k, v in wanted.items() if getattr(item, k) != v}
            if item.home_branch_id != branch.id:
                if item.status == "available" and item.current_branch_id == item.home_branch_id:
                    item.current_branch_id = branch.id
                item.home_branch_id = branch.id
                changed["home_branch_id"] = branch.id
            for key, value in changed.items():
                setattr(item, key, value)
            report.items_updated += 1 if changed else 0
        shelf = session.scalar(select(Holding).where(Holding.barcode == h.barcode))
        if shelf is None:
            session.add(Holding(barcode=h.barcode, record_id=record.id, shelf_location=h.location,
                                call_number=h.call_number))
        else:
            shelf.record_id, shelf.shelf_location, shelf.call_number = record.id, h.location, h.call_number
    session.flush()


def import_batch(session: Session, batch: list[marc.Read | marc.Unreadable], *, now: datetime,
                 library_code: str | None = None) -> ImportReport:
    """Store one batch of read records. A record whose holdings are refused (unknown branch, material type
    or price) is skipped with its reason, in a savepoint; any other error fails the whole batch."""
    report = ImportReport()
    readable = [r for r in batch if isinstance(r, marc.Read)]
    report.skipped = [r for r in batch if isinstance(r, marc.Unreadable)]
    report.read = len(batch)
    known = {r.control_number: r for r in session.scalars(
        select(Record).where(Record.control_number.in_([r.parsed.control_number for r in readable])))}
    seen: set[str] = set()
    branches: dict[str, tuple[Branch, CircLibrary]] = {}  # looked up once a batch
    for item in readable:
        parsed = item.parsed
        values = marc.as_dict(parsed)
        digest = _hash(values, parsed.holdings)
        existing = known.get(parsed.control_number)
        if existing is not None and existing.content_hash == digest:
            if parsed.control_number not in seen:
                report.unchanged += 1
            continue
        try:
            with session.begin_nested():
                record = _store(session, existing, values, digest, now)
                _holdings(session, record, parsed, now=now, library_code=library_code, report=report,
                          branches=branches)
        except DomainError as err:
            detail = ", ".join(f"{k}={v}" for k, v in err.params.items())
            report.skipped.append(marc.Unreadable(item.position, parsed.control_number,
                                                  f"{err.code}" + (f" ({detail})" if detail else "")))
            continue
        known[parsed.control_number] = record
        if existing is None and parsed.control_number not in seen:
            report.created += 1
        elif parsed.control_number not in seen:
            report.updated += 1
        seen.add(parsed.control_number)
    session.flush()
    return report


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
