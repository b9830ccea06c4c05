"""One search interface, two implementations: SQLite FTS5 (``catalogue_fts``) and PostgreSQL ``tsvector``
(GIN indexes over ``simple``, ``finnish`` and ``swedish`` vectors of ``search_text``).

``search(session, SearchQuery)`` answers the ids of one page of records, the total and the facets. A
query that is one identifier (ISBN with or without hyphens, ISBN-10 or -13, ISSN, EAN, a copy's barcode,
a control number) is looked up exactly first; full text is searched only if it matches nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Select, and_, case, desc, func, literal_column, or_, select, text
from sqlalchemy.orm import Session

from app.catalogue.marc import identifier_forms
from app.catalogue.models import Holding, Record, RecordIdentifier
from app.circulation.models import Branch, Item

SORTS = ("relevance", "newest", "title")
MAX_WORDS = 12
YEAR_BUCKETS = ((2020, 2099), (2010, 2019), (2000, 2009), (1990, 1999), (0, 1989))


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    material_type: str = ""
    language: str = ""
    available_at: str = ""  # a branch code: only records with a copy on its shelf now
    years: str = ""  # "2010-2019"
    age_rating: int | None = None  # at most this age limit
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20


@dataclass
class SearchResult:
    ids: list[int]
    total: int
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    identifier_match: bool = False


def words(query: str) -> list[str]:
    """The query's words, lower case, letters and digits only (whatever the user typed)."""
    return [w for w in re.findall(r"\w+", query.lower().replace("_", " "))][:MAX_WORDS]


class TextBackend(Protocol):
    def matches(self, terms: list[str]) -> Any:
        """A subquery of (record_id, rank) for the records that contain every term (by prefix); lower rank
        is better. Joined only for the page's ordering."""

    def ids(self, terms: list[str]) -> Any:
        """A select of the ids of the same records, for ``IN`` (counts and facets: evaluated once)."""


class SqliteFts:
    """FTS5, tokenizer unicode61 with diacritics kept apart (ä is not a); bm25 ranks (lower is better)."""

    @staticmethod
    def _expression(terms: list[str]) -> str:
        return " ".join(f'"{t}"*' for t in terms)

    def matches(self, terms: list[str]) -> Any:
        return (text("SELECT rowid AS record_id, bm25(catalogue_fts, 10.0) AS rank FROM catalogue_fts "
                     "WHERE catalogue_fts MATCH :fts")
                .bindparams(fts=self._expression(terms))
                .columns(literal_column("record_id"), literal_column("rank"))
                .subquery("fts"))

    def ids(self, terms: list[str]) -> Any:
        return (text("SELECT rowid FROM catalogue_fts WHERE catalogue_fts MATCH :fts_ids")
                .bindparams(fts_ids=self._expression(terms)).columns(literal_column("rowid")))


class PostgresTsvector:
    """Every term matches by prefix in the ``simple`` vector or by stem in the Finnish or Swedish one;
    ts_rank over the simple vector ranks (negated, so lower is better as in SQLite)."""

    def _parts(self, terms: list[str]) -> tuple[Any, Any, Any]:
        simple = func.to_tsvector(literal_column("'simple'::regconfig"), Record.search_text)
        finnish = func.to_tsvector(literal_column("'finnish'::regconfig"), Record.search_text)
        swedish = func.to_tsvector(literal_column("'swedish'::regconfig"), Record.search_text)
        prefix = func.to_tsquery(literal_column("'simple'::regconfig"), " & ".join(f"{t}:*" for t in terms))
        plain = " ".join(terms)
        condition = or_(simple.op("@@")(prefix),
                        finnish.op("@@")(func.plainto_tsquery(literal_column("'finnish'::regconfig"), plain)),
                        swedish.op("@@")(func.plainto_tsquery(literal_column("'swedish'::regconfig"), plain)))
        return simple, prefix, condition

    def matches(self, terms: list[str]) -> Any:
        simple, prefix, condition = self._parts(terms)
        return (select(Record.id.label("record_id"), (-func.ts_rank(simple, prefix)).label("rank"))
                .where(condition).subquery("fts"))

    def ids(self, terms: list[str]) -> Any:
        return select(Record.id).where(self._parts(terms)[2])


def backend(session: Session) -> TextBackend:
    return PostgresTsvector() if session.get_bind().dialect.name == "postgresql" else SqliteFts()


def identifier_ids(session: Session, query: str) -> list[int]:
    """Records one identifier names exactly: ISBN (any form), ISSN, EAN, control number or a copy's barcode."""
    value = query.strip()
    if not value or len(value) > 200 or " " in value.strip():
        return []
    forms = identifier_forms(value) + [value]
    ids = set(session.scalars(select(RecordIdentifier.record_id).where(RecordIdentifier.value.in_(forms))))
    ids |= set(session.scalars(select(Holding.record_id).where(Holding.barcode == value)))
    key = session.scalar(select(Item.record_key).where(Item.barcode == value))
    if key:
        ids |= set(session.scalars(select(Record.id).where(Record.record_key == key)))
    return sorted(ids)


def _available_at(branch_code: str) -> Any:
    copies = (select(Item.record_key).join(Branch, Branch.id == Item.current_branch_id)
              .where(Branch.code == branch_code, Item.status == "available"))
    return Record.record_key.in_(copies)


def _filters(q: SearchQuery) -> list[Any]:
    out: list[Any] = []
    if q.material_type:
        out.append(Record.material_type == q.material_type)
    if q.language:
        out.append(Record.language == q.language)
    if q.available_at:
        out.append(_available_at(q.available_at))
    if q.age_rating is not None:
        out.append(or_(Record.age_rating.is_(None), Record.age_rating <= q.age_rating))
    if q.years and (m := re.fullmatch(r"(\d{1,4})-(\d{1,4})", q.years)):
        out.append(and_(Record.year >= int(m.group(1)), Record.year <= int(m.group(2))))
    return out


def search(session: Session, q: SearchQuery, *, with_facets: bool = True) -> SearchResult:
    base: Select[Any] = select(Record.id)
    rank: Any = None
    identifier_match = False
    ids = identifier_ids(session, q.text) if q.text else []
    if ids:
        base = base.where(Record.id.in_(ids))
        identifier_match = True
    elif q.text:
        terms = words(q.text)
        if not terms:
            return SearchResult([], 0, {})
        text_backend = backend(session)
        base = base.where(Record.id.in_(text_backend.ids(terms)))
        fts = text_backend.matches(terms)
        rank = fts.c.rank
    filters = _filters(q)
    filtered = base.where(*filters)
    total = session.scalar(select(func.count()).select_from(filtered.subquery())) or 0
    if q.sort == "title":
        order = [func.lower(Record.title), Record.id]
    elif q.sort == "newest" or rank is None:
        order = [desc(func.coalesce(Record.year, 0)), desc(Record.id)]
    else:
        order = [rank, desc(Record.id)]
    page = filtered if rank is None or q.sort != "relevance" else \
        select(Record.id).join(fts, fts.c.record_id == Record.id).where(*filters)
    page_ids = list(session.scalars(page.order_by(*order).limit(q.per_page)
                                    .offset((max(q.page, 1) - 1) * q.per_page)))
    facets = _facets(session, base.where(*filters)) if with_facets and total else {}
    return SearchResult(page_ids, total, facets, identifier_match)


def _facets(session: Session, filtered: Select[Any]) -> dict[str, list[tuple[str, int]]]:
    matching = filtered.subquery("matching")
    inside = Record.id.in_(select(matching.c.id))
    facets: dict[str, list[tuple[str, int]]] = {}
    for name, column in (("material_type", Record.material_type), ("language", Record.language)):
        rows = session.execute(select(column, func.count()).where(inside, column != "").group_by(column)
                               .order_by(desc(func.count()), column).limit(30))
        facets[name] = [(str(v), int(c)) for v, c in rows]
    bucket = case(*[(and_(Record.year >= lo, Record.year <= hi), f"{lo}-{hi}") for lo, hi in YEAR_BUCKETS], else_="")
    rows = session.execute(select(bucket, func.count()).where(inside, Record.year.is_not(None)).group_by(bucket))
    order = {f"{lo}-{hi}": n for n, (lo, hi) in enumerate(YEAR_BUCKETS)}
    facets["years"] = sorted(((str(v), int(c)) for v, c in rows if v), key=lambda vc: order.get(vc[0], 99))
    rows = session.execute(select(Record.age_rating, func.count()).where(inside, Record.age_rating.is_not(None))
                           .group_by(Record.age_rating).order_by(Record.age_rating))
    facets["age_rating"] = [(str(v), int(c)) for v, c in rows]
    on_shelf = (select(Branch.code, func.count(func.distinct(Record.id)))
                .join(Item, Item.current_branch_id == Branch.id).join(Record, Record.record_key == Item.record_key)
                .where(inside, Item.status == "available").group_by(Branch.code).order_by(Branch.code))
    facets["available_at"] = [(str(v), int(c)) for v, c in session.execute(on_shelf)]
    return facets
