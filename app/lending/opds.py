"""OPDS 2.0 for standard reader apps: the catalogue (new titles, search), one publication, the loans
shelf and the Authentication for OPDS document. Feeds are readable anonymously; with credentials
(bearer token or card+PIN) the patron's own loans show as "ready" with their until."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, json, request
from flask_babel import gettext as _

from app import clock, db, gate
from app.cors import allow_any_origin
from app.i18n import current_language
from app.lending import documents, service
from app.lending.auth import Locked, challenge_headers, current_closure, reader_from_request
from app.lending.documents import OPDS_AUTH, OPDS_FEED, OPDS_PUBLICATION
from app.lending.http import policy

bp = Blueprint("lending_opds", __name__, url_prefix="/opds")
allow_any_origin(bp)  # web-based OPDS readers fetch feeds from other origins
PAGE_SIZE = 50


def opds(doc: dict[str, Any], mimetype: str = OPDS_FEED, status: int = 200, headers: dict[str, str] | None = None
         ) -> Response:
    resp = Response(json.dumps(doc), status=status, mimetype=mimetype, headers=headers or {})
    resp.headers["Vary"] = "Authorization, Accept-Language"
    return resp


def optional_reader() -> Any:
    try:
        return reader_from_request()
    except Locked:
        return None


def loans_by_book() -> dict[int, Any]:
    """The reader's active loans by book id, each with ``renewable`` set (whether a renewal is possible now)."""
    patron = optional_reader()
    if patron is None:
        return {}
    return renewable_loans(patron, service.active_loans(db.session(), patron.id, clock.now()))


def renewable_loans(patron: Any, loans: list[Any]) -> dict[int, Any]:
    now, rules = clock.now(), policy()
    return {loan.audiobook_id: (loan, service.renewal_decision(loan, patron, rules, now).allowed) for loan in loans}


def publication_of(book: Any, loans: dict[int, Any]) -> dict[str, Any]:
    loan, renewable = loans.get(book.id, (None, False))
    return documents.publication(book, loan, renewable=renewable)


def page_number() -> int:
    value = request.args.get("page", "1")
    return max(1, int(value)) if value.isdigit() else 1


@bp.get("")
@gate.component("search")
def catalogue() -> Any:
    books, total = service.find_books(db.session(), limit=PAGE_SIZE)
    loans = loans_by_book()
    db.session().commit()
    return opds(documents.catalogue([publication_of(b, loans) for b in books], total))


def _listing(title: str, endpoint: str, query: str = "") -> Response:
    page = page_number()
    books, total = service.find_books(db.session(), query=query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    loans = loans_by_book()
    db.session().commit()
    args = {"query": query} if query else {}
    next_url = documents.url(endpoint, page=page + 1, **args) if page * PAGE_SIZE < total else None
    pubs = [publication_of(b, loans) for b in books]
    return opds(documents.feed(title, documents.url(endpoint, page=page, **args), pubs, total=total,
                               next_url=next_url))


@bp.get("/new")
@gate.component("search")
def new_titles() -> Any:
    return _listing(_("New titles"), "lending_opds.new_titles")


@bp.get("/search")
@gate.component("search")
def search() -> Any:
    query = request.args.get("query", request.args.get("q", "")).strip()[:200]
    return _listing(_("Search results for “%(query)s”", query=query), "lending_opds.search", query)


@bp.get("/books/<int:book_id>")
@gate.always_open
def publication(book_id: int) -> Any:
    book = service.get_book(db.session(), book_id)
    loans = loans_by_book()
    db.session().commit()
    return opds(publication_of(book, loans), OPDS_PUBLICATION)


@bp.get("/loans")
@db.read_only
@gate.always_open
def loans() -> Any:
    try:
        patron = reader_from_request()
    except Locked as locked:
        return opds(auth_document(), OPDS_AUTH, 401, {**challenge_headers(), "Retry-After": str(locked.seconds)})
    if patron is None:  # Authentication for OPDS: a 401 carries the authentication document
        return opds(auth_document(), OPDS_AUTH, 401, challenge_headers())
    active = service.active_loans(db.session(), patron.id, clock.now())
    db.session().commit()
    loans = renewable_loans(patron, active)
    pubs = [publication_of(loan.audiobook, loans) for loan in active]
    return opds(documents.feed(_("My loans"), documents.url("lending_opds.loans"), pubs, total=len(pubs)))


def auth_document() -> dict[str, Any]:
    return documents.authentication_document(current_closure("reader_apps", current_language()))


@bp.get("/auth", endpoint="auth_document")
@gate.always_open
def auth_document_view() -> Any:
    return opds(auth_document(), OPDS_AUTH)
