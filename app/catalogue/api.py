"""JSON API of the catalogue (public): search records with availability and facets, read one record.
Placing a hold on a record is circulation's `POST /api/v1/circulation/me/holds` with `record_id`."""
from __future__ import annotations

from typing import Any

from flask import Blueprint

from app import clock, db, gate
from app.catalogue import schemas, service
from app.catalogue.models import Record
from app.catalogue.search import SearchQuery
from app.platform.contract import operation

bp = Blueprint("catalogue_api", __name__, url_prefix="/api/v1/records")
gate.declare(bp, "web_library")
TAGS = ["catalogue"]


def availability_model(a: service.Availability) -> schemas.Availability:
    return schemas.Availability(
        copies=a.copies, available=a.available, holds=a.holds, holdable=a.holdable, transportable=a.transportable,
        online=a.online, branches=[schemas.BranchAvailability(
            code=b.code, name=b.name, library=b.library, copies=b.copies, available=b.available, on_loan=b.on_loan,
            in_transit=b.in_transit, on_hold_shelf=b.on_hold_shelf, shelf_locations=b.locations,
            due_dates=b.due_dates) for b in a.branches])


def summary_fields(r: Record, a: service.Availability) -> dict[str, Any]:
    return {"id": r.id, "title": r.title, "authors": r.author_names(), "year": r.year, "isbns": list(r.isbns or []),
            "material_type": r.material_type, "language": r.language, "availability": availability_model(a)}


@bp.get("")
@db.read_only
@operation("Search the catalogue", tags=TAGS, query=schemas.RecordsQuery,
           description="Words match title, authors, subjects, series, notes and identifiers (every word, by prefix; "
                       "stemmed in Finnish and Swedish on PostgreSQL); one identifier (ISBN in any form, a copy's "
                       "barcode, a control number) is looked up exactly.",
           responses={200: (schemas.Records, "One page of records, the total and the facets")})
def records(query: schemas.RecordsQuery) -> Any:
    session = db.session()
    q = SearchQuery(text=query.q.strip(), material_type=query.material_type or "", language=query.language or "",
                    available_at=query.available_at or "", years=query.years or "", sort=query.sort,
                    page=query.page, per_page=query.per_page)
    result = service.search(session, q)
    found = service.records_by_id(session, result.ids)
    where = service.availability(session, found, clock.now())
    facets = schemas.Facets(**{name: [schemas.FacetValue(value=v, count=c) for v, c in values]
                               for name, values in result.facets.items()})
    return schemas.Records(records=[schemas.RecordSummary(**summary_fields(r, where[r.id])) for r in found],
                           total=result.total, page=query.page, facets=facets)


@bp.get("/<int:record_id>")
@db.read_only
@operation("One record with its availability", tags=TAGS,
           responses={200: (schemas.RecordDetail, "The record"), 404: "No such record"})
def record(record_id: int) -> Any:
    session = db.session()
    r = service.get_record(session, record_id)
    a = service.availability(session, [r], clock.now())[r.id]
    return schemas.RecordDetail(
        **summary_fields(r, a), control_number=r.control_number, record_key=r.record_key, subtitle=r.subtitle,
        responsibility=r.responsibility, contributors=[schemas.Author(name=x.get("name", ""), role=x.get("role", ""))
                                                       for x in r.authors or []],
        publisher=r.publisher, edition=r.edition, issns=list(r.issns or []), subjects=list(r.subjects or []),
        genres=list(r.genres or []), series=list(r.series or []), age_rating=r.age_rating,
        physical_description=r.physical_description, notes=list(r.notes or []), cover_isbn=r.cover_isbn)
