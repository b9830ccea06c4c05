"""Reader-app JSON API: loans, borrow/renew/return, manifests, tracks and listening positions.

Borrowing, renewing and returning are new work (component ``reader_apps``: closed during a
maintenance break). Everything an app needs to keep playing books already on loan — the loans
list, manifests, tracks, positions — stays open through any break (``gate.always_open``).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from app import clock, db, gate, storage
from app.accounts import service as accounts
from app.accounts.auth import bearer_value
from app.cors import allow_any_origin
from app.errors import DomainError, problem, validation_problem
from app.lending import documents, service
from app.lending.auth import reader_required, unauthorized
from app.lending.documents import MANIFEST_TYPE, OPDS_PUBLICATION
from app.lending.http import json_with_etag, loans_answer, parse_position, policy
from app.lending.messages import problem_detail
from app.lending.openapi_paths import register as register_openapi
from app.lending.streaming import track_response

bp = Blueprint("lending_api", __name__, url_prefix="/api/v1")
allow_any_origin(bp)  # browser-based reader apps call it from other origins


def max_renewals() -> int:
    return service.max_renewals(g.reader, policy(), clock.now())


@bp.errorhandler(DomainError)
def _domain_error(err: DomainError) -> Response:
    return problem(err.status, err.code, problem_detail(err.code, err.params), **err.params)


@bp.get("/loans")
@db.read_only
@gate.always_open
def loans() -> Any:
    """Reader apps poll this: with a bearer token it is one query (token, patron and loans together)."""
    raw = bearer_value()
    if raw is None:
        return _loans_by_credentials()
    now = clock.now()
    polled = service.poll_loans(db.engine(), accounts.token_digest(raw), now)
    if polled is None:
        return unauthorized()
    poller, rows = polled
    if accounts.token_use_due(poller.token_last_used_at, now):  # hourly: most polls need no session at all
        accounts.note_token_use(db.session(), poller.token_id, poller.token_last_used_at, now)
    return loans_answer(rows, service.max_renewals(poller, policy(), now))


@reader_required
def _loans_by_credentials() -> Any:
    """The loans list for HTTP Basic (card number and PIN on every request, as OPDS clients do)."""
    rows = service.active_loan_rows(db.session(), g.reader.id, clock.now())
    db.session().commit()
    return loans_answer(rows, max_renewals())


def _loan_answer(loan: Any, status: int) -> Response:
    if request.accept_mimetypes.best_match([OPDS_PUBLICATION, "application/json"]) == OPDS_PUBLICATION:
        resp = jsonify(documents.publication(loan.audiobook, loan))
        resp.mimetype = OPDS_PUBLICATION
    else:
        resp = jsonify(documents.loan_json(service.LoanView.of(loan), max_renewals()))
    resp.status_code = status
    return resp


@bp.route("/books/<int:book_id>/borrow", methods=["POST", "PUT"])
@gate.component("reader_apps")
@reader_required
def borrow(book_id: int) -> Any:
    book = service.get_book(db.session(), book_id)
    result = service.borrow(db.session(), g.reader, book, now=clock.now(), policy=policy())
    db.session().commit()
    return _loan_answer(result.loan, 201 if result.created else 200)


@bp.post("/books/<int:book_id>/renew")
@gate.component("reader_apps")
@reader_required
def renew(book_id: int) -> Any:
    book = service.get_book(db.session(), book_id)
    loan = service.renew(db.session(), g.reader, book, now=clock.now(), policy=policy())
    db.session().commit()
    return _loan_answer(loan, 200)


@bp.route("/books/<int:book_id>/return", methods=["POST", "DELETE"])
@gate.component("reader_apps")
@reader_required
def return_book(book_id: int) -> Any:
    book = service.get_book(db.session(), book_id)
    service.return_loan(db.session(), g.reader, book, now=clock.now())
    db.session().commit()
    return "", 204


@bp.get("/books/<int:book_id>/manifest")
@db.read_only
@gate.always_open
@reader_required
def manifest(book_id: int) -> Any:
    loan = service.require_loan(db.session(), g.reader.id, book_id, clock.now())
    book = service.get_book(db.session(), book_id, with_tracks=True)
    db.session().commit()
    return json_with_etag(documents.manifest(book, loan), MANIFEST_TYPE)


@bp.get("/books/<int:book_id>/tracks/<int:number>")
@db.read_only
@gate.always_open
@reader_required
def track(book_id: int, number: int) -> Any:
    now = clock.now()
    loan = service.require_loan(db.session(), g.reader.id, book_id, now)
    book = service.get_book(db.session(), book_id, with_tracks=True)
    db.session().commit()
    found = next((t for t in book.tracks if t.number == number), None)
    if found is None:
        raise DomainError("not-found", 404)
    return track_response(storage.store(), found, until=loan.until, now=now)


@bp.route("/books/<int:book_id>/position", methods=["GET", "PUT"])
@gate.always_open
@reader_required
def position(book_id: int) -> Any:
    session = db.session()
    book = service.get_book(session, book_id, with_tracks=True)
    if not service.has_borrowed(session, g.reader.id, book_id):
        raise DomainError("not-on-loan", 403)
    if request.method == "GET":
        current = service.get_position(session, g.reader.id, book_id)
        session.commit()
        return jsonify({"position": documents.position_json(current, book)})
    try:
        values = parse_position(request.get_json(silent=True) or {})
    except ValueError as exc:
        return validation_problem(exc.args[0])
    saved = service.save_position(session, g.reader, book, now=clock.now(), **values)
    session.commit()
    accepted = saved.recorded_at == min(values["recorded_at"], clock.now() + service.FUTURE_SKEW)
    return jsonify({"position": documents.position_json(saved, book), "accepted": accepted})


register_openapi()
