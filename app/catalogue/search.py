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

from sqlalchemy import and_, case, column, desc, func, literal_column, or_, select, table, text
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


# A broad query (two common words in a million records match tens of thousands) must not cost time in
# proportion to its matches: relevance is computed for the RANK_LIMIT most recently added matches (every match
# of a query matching fewer, i.e. exact for typical queries), and the facets are counted over the first
# FACET_SAMPLE matches — exactly when there are no more, else scaled to the exact total (an estimate, as the
# facet list of a search engine's broad query is). The total is always exact.
RANK_LIMIT = 1000
FACET_SAMPLE = 2000


class TextBackend(Protocol):
    def condition(self, terms: list[str]) -> Any:
        """The records that contain every term (by prefix): a condition on ``Record`` for any query."""

    def ids(self, terms: list[str]) -> Any:
        """A select of the ids of the same records (for ``IN``)."""

    def ranked(self, terms: list[str], filters: list[Any], offset: int, limit: int) -> Any:
        """A select of the ids of one page of the matching records that meet ``filters``, best first."""


FTS = table("catalogue_fts", column("rowid"))


class SqliteFts:
    """FTS5, tokenizer unicode61 with diacritics kept apart (ä is not a); bm25 ranks (lower is better)."""

    @staticmethod
    def _expression(terms: list[str]) -> str:
        return " ".join(f'"{t}"*' for t in terms)

    def ids(self, terms: list[str]) -> Any:
        return (text("SELECT rowid FROM catalogue_fts WHERE catalogue_fts MATCH :fts_ids")
                .bindparams(fts_ids=self._expression(terms)).columns(literal_column("rowid")))

    def condition(self, terms: list[str]) -> Any:
        return Record.id.in_(self.ids(terms))

    def newest(self, terms: list[str], filters: list[Any], limit: int) -> Any:
        """The ids of the ``limit`` most recently added matches: FTS5 walks its index from the newest and stops."""
        return (select(FTS.c.rowid.label("id")).join_from(FTS, Record, Record.id == FTS.c.rowid)
                .where(text("catalogue_fts MATCH :fts_new").bindparams(fts_new=self._expression(terms)), *filters)
                .order_by(FTS.c.rowid.desc()).limit(limit))

    def ranked(self, terms: list[str], filters: list[Any], offset: int, limit: int) -> Any:
        newest = self.newest(terms, filters, max(RANK_LIMIT, offset + limit)).subquery("newest")
        candidates = (select(newest.c.id, literal_column("bm25(catalogue_fts, 10.0)").label("rank"))
                      .join_from(FTS, newest, newest.c.id == FTS.c.rowid)
                      .where(text("catalogue_fts MATCH :fts").bindparams(fts=self._expression(terms)))
                      .subquery("candidates"))
        return (select(candidates.c.id).order_by(candidates.c.rank, desc(candidates.c.id))
                .offset(offset).limit(limit))


class PostgresTsvector:
    """Every term matches by prefix in the ``simple`` vector or by stem in the Finnish or Swedish one (each
    a GIN expression index); ts_rank over the simple vector ranks."""

    @staticmethod
    def _prefix(terms: list[str]) -> Any:
        return func.to_tsquery(literal_column("'simple'::regconfig"), " & ".join(f"{t}:*" for t in terms))

    @staticmethod
    def _vector(config: str, column: Any = Record.search_text) -> Any:
        return func.to_tsvector(literal_column(f"'{config}'::regconfig"), column)

    def condition(self, terms: list[str]) -> Any:
        plain = " ".join(terms)
        return or_(self._vector("simple").op("@@")(self._prefix(terms)),
                   self._vector("finnish").op("@@")(func.plainto_tsquery(literal_column("'finnish'::regconfig"), plain)),
                   self._vector("swedish").op("@@")(func.plainto_tsquery(literal_column("'swedish'::regconfig"), plain)))

    def ids(self, terms: list[str]) -> Any:
        return select(Record.id).where(self.condition(terms))

    def ranked(self, terms: list[str], filters: list[Any], offset: int, limit: int) -> Any:
        candidates = (select(Record.id, Record.search_text).where(self.condition(terms), *filters)
                      .order_by(desc(Record.id)).limit(max(RANK_LIMIT, offset + limit)).subquery("candidates"))
        rank = func.ts_rank(self._vector("simple", candidates.c.search_text), self._prefix(terms))
        return select(candidates.c.id).order_by(desc(rank), desc(candidates.c.id)).offset(offset).limit(limit)


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
    """One page of records, the total and the facets. The matching set is named once (the identifiers, or the
    full-text match as a subquery the database evaluates once per statement); the total and the facets over
    material type, language, year range and age rating come from one grouped query over it, the branches
    with a copy on the shelf from one more, and the page from a third (ranked by relevance through the
    full-text index's own rank)."""
    matching: Any = None
    terms: list[str] = []
    identifier_match = False
    ids = identifier_ids(session, q.text) if q.text else []
    if ids:
        matching = Record.id.in_(ids)
        identifier_match = True
    elif q.text:
        terms = words(q.text)
        if not terms:
            return SearchResult([], 0, {})
        matching = backend(session).condition(terms)
    filters = _filters(q)
    conditions = ([matching] if matching is not None else []) + filters
    sample = None
    if terms and isinstance(backend(session), SqliteFts):
        sample = SqliteFts().newest(terms, filters, FACET_SAMPLE + 1).scalar_subquery()
    facets, total, exact = _facets(session, conditions, sample) if with_facets else ({}, 0, False)
    if not exact:
        sampled = total
        total = session.scalar(select(func.count()).select_from(Record).where(*conditions)) or 0
        if facets:  # counted over the first FACET_SAMPLE + 1 matches: scaled to the whole
            facets = _scaled(facets, total, sampled)
    if not total:
        return SearchResult([], 0, {}, identifier_match)
    offset = (max(q.page, 1) - 1) * q.per_page
    if terms and q.sort == "relevance":
        page = backend(session).ranked(terms, filters, offset, q.per_page)
    else:
        order = [func.lower(Record.title), Record.id] if q.sort == "title" else \
            [desc(func.coalesce(Record.year, 0)), desc(Record.id)]
        page = select(Record.id).where(*conditions).order_by(*order).offset(offset).limit(q.per_page)
    return SearchResult(list(session.scalars(page)), total, facets, identifier_match)


def _scaled(facets: dict[str, list[tuple[str, int]]], total: int, sampled: int) -> dict[str, list[tuple[str, int]]]:
    return {name: [(v, max(1, round(c * total / sampled))) for v, c in values] for name, values in facets.items()}


def _facets(session: Session, conditions: list[Any],
            sample: Any = None) -> tuple[dict[str, list[tuple[str, int]]], int, bool]:
    """The facets of the records meeting ``conditions`` (one grouped query for the record's own columns, one
    for the branches with a copy on the shelf) over the first FACET_SAMPLE + 1 of them; how many those were,
    and whether they were all (else the caller counts them all and scales the facets)."""
    if sample is None:
        sample = select(Record.id).where(*conditions).limit(FACET_SAMPLE + 1).scalar_subquery()
    bucket = case(*[(and_(Record.year >= lo, Record.year <= hi), f"{lo}-{hi}") for lo, hi in YEAR_BUCKETS], else_="")
    counts: dict[str, dict[Any, int]] = {"material_type": {}, "language": {}, "years": {}, "age_rating": {}}
    total = 0
    rows = session.execute(select(Record.material_type, Record.language, bucket, Record.age_rating, func.count())
                           .where(Record.id.in_(sample))
                           .group_by(Record.material_type, Record.language, bucket, Record.age_rating))
    for material, language, years, age, n in rows:
        total += n
        for name, value in (("material_type", material), ("language", language), ("years", years),
                            ("age_rating", age)):
            if value not in ("", None):
                counts[name][value] = counts[name].get(value, 0) + n
    if not total:
        return {}, 0, True
    exact = total <= FACET_SAMPLE
    facets: dict[str, list[tuple[str, int]]] = {}
    for name in ("material_type", "language"):
        facets[name] = [(str(v), c) for v, c in sorted(counts[name].items(), key=lambda vc: (-vc[1], vc[0]))[:30]]
    order = {f"{lo}-{hi}": n for n, (lo, hi) in enumerate(YEAR_BUCKETS)}
    facets["years"] = sorted(((str(v), c) for v, c in counts["years"].items()), key=lambda vc: order.get(vc[0], 99))
    facets["age_rating"] = [(str(v), c) for v, c in sorted(counts["age_rating"].items())]
    on_shelf = (select(Branch.code, func.count(func.distinct(Record.id)))
                .select_from(Record).join(Item, Item.record_key == Record.record_key)
                .join(Branch, Branch.id == Item.current_branch_id)
                .where(Record.id.in_(sample), Item.status == "available").group_by(Branch.code)
                .order_by(Branch.code))
    facets["available_at"] = [(str(v), int(c)) for v, c in session.execute(on_shelf)]
    return facets, total, exact
