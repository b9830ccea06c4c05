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
from app.lending.http import json_with_etag, loans_answer, policy
from app.lending.messages import problem_detail
from app.lending.schemas import Loan, LoanList, PositionAnswer, PositionUpdate, ReadiumManifest, SavedPosition
from app.lending.streaming import track_response
from app.platform.contract import Reply, operation

bp = Blueprint("lending_api", __name__, url_prefix="/api/v1")
allow_any_origin(bp)  # browser-based reader apps call it from other origins

TAGS = ["reader app"]
STAFF_TOKEN = "a staff API token (this API is for patrons)"
NOT_ON_LOAN = f"Not on loan to this patron (type not-on-loan), or {STAFF_TOKEN}"
LOAN_CHANGE = {403: f"Refused by the loan policy (`reason`: limit_total, max_renewals …), or {STAFF_TOKEN}",
               409: "The book is withdrawn: no new loans or renewals (type not-available)"}


def loan_reply(description: str) -> Reply:
    return Reply(description, Loan, also=(OPDS_PUBLICATION,))


def max_renewals() -> int:
    return service.max_renewals(g.reader, policy(), clock.now())


@bp.errorhandler(DomainError)
def _domain_error(err: DomainError) -> Response:
    return problem(err.status, err.code, problem_detail(err.code, err.params), **err.params)


@bp.get("/loans")
@db.read_only
@gate.always_open
@operation(
    "The patron's active loans, each with its absolute `until`",
    description="Reader apps poll this: send If-None-Match with the last ETag and an unchanged list is a 304 "
                "without a body. A bearer token or card number + PIN (HTTP Basic).",
    tags=TAGS, security=("bearer", "cardPin"),
    responses={200: Reply("The loans", LoanList, headers=("ETag",)),
               304: Reply("Not modified since the ETag sent in If-None-Match", headers=("ETag",)),
               403: f"Sent {STAFF_TOKEN}"})
def loans() -> Any:
    """One query with a bearer token (token, patron and loans together); the encoded answer is remembered."""
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
    """The loan as JSON, or as an OPDS 2.0 publication when the Accept header prefers one."""
    if request.accept_mimetypes.best_match([OPDS_PUBLICATION, "application/json"]) == OPDS_PUBLICATION:
        renewable = service.renewal_decision(loan, g.reader, policy(), clock.now()).allowed
        resp = jsonify(documents.publication(loan.audiobook, loan, renewable=renewable))
        resp.mimetype = OPDS_PUBLICATION
    else:
        resp = jsonify(documents.loan_json(service.LoanView.of(loan), max_renewals()))
    resp.status_code = status
    return resp


@bp.post("/books/<int:book_id>/borrow")
@gate.component("reader_apps")
@reader_required
@operation(
    "Borrow a book (POST to the href of the OPDS borrow link); borrowing it again answers the same loan",
    description=f"The answer is a Loan, or the book as an OPDS 2.0 publication ({OPDS_PUBLICATION}, defined by "
                "the OPDS 2.0 schema) with its acquisition and revoke links when the Accept header prefers it.",
    tags=TAGS,
    responses={201: loan_reply("New loan"), 200: loan_reply("Already on loan: the existing loan"), **LOAN_CHANGE})
def borrow(book_id: int) -> Any:
    book = service.get_book(db.session(), book_id)
    result = service.borrow(db.session(), g.reader, book, now=clock.now(), policy=policy())
    db.session().commit()
    return _loan_answer(result.loan, 201 if result.created else 200)


@bp.post("/books/<int:book_id>/renew")
@gate.component("reader_apps")
@reader_required
@operation(
    "Renew a loan: a new loan period from now, within the renewal limit and window",
    description=f"Answers like borrowing: a Loan, or an OPDS 2.0 publication when Accept prefers {OPDS_PUBLICATION}.",
    tags=TAGS,
    responses={200: loan_reply("Renewed"),
               403: f"Not on loan (type not-on-loan), refused by the loan policy (`reason`: max_renewals …), "
                    f"or {STAFF_TOKEN}",
               409: "Not yet: renewing now would not move the end by a day or the loan is not in its last week "
                    "(type renewal-refused, `reason` too_soon, `renewable_from`: when it becomes possible; "
                    "nothing was used up), or the book is withdrawn (type not-available)"})
def renew(book_id: int) -> Any:
    book = service.get_book(db.session(), book_id)
    loan = service.renew(db.session(), g.reader, book, now=clock.now(), policy=policy())
    db.session().commit()
    return _loan_answer(loan, 200)


@bp.post("/books/<int:book_id>/return")
@gate.component("reader_apps")
@reader_required
@operation("Return a book early (idempotent: a book not on loan is already returned)", tags=TAGS,
           responses={204: Reply("Not on loan any more"), 403: f"Sent {STAFF_TOKEN}"})
def return_book(book_id: int) -> Any:
    book = service.get_book(db.session(), book_id)
    service.return_loan(db.session(), g.reader, book, now=clock.now())
    db.session().commit()
    return "", 204


@bp.get("/books/<int:book_id>/manifest")
@db.read_only
@gate.always_open
@reader_required
@operation(
    "The book's Readium Web Publication Manifest (audiobook profile)",
    description="The document is defined by the Readium schema "
                "(https://readium.org/webpub-manifest/schema/publication.schema.json); only its outline is "
                "described here. The loan's end is in links[rel=self].properties.availability.until; tracks "
                "are in readingOrder, chapters in toc. Send If-None-Match for a 304.",
    tags=TAGS,
    responses={200: Reply("The manifest", ReadiumManifest, content_type=MANIFEST_TYPE, headers=("ETag",)),
               304: Reply("Not modified since the ETag sent in If-None-Match", headers=("ETag",)),
               403: NOT_ON_LOAN})
def manifest(book_id: int) -> Any:
    loan = service.require_loan(db.session(), g.reader.id, book_id, clock.now())
    book = service.get_book(db.session(), book_id, with_tracks=True)
    db.session().commit()
    return json_with_etag(documents.manifest(book, loan), MANIFEST_TYPE)


AUDIO = ("audio/mpeg", "audio/mp4")  # what ingest stores (app/audio.py MEDIA_TYPES); the track's own type


@bp.get("/books/<int:book_id>/tracks/<int:number>")
@db.read_only
@gate.always_open
@reader_required
@operation(
    "Download or stream a track (HTTP Range)",
    description="One byte range per request (`Range: bytes=first-last`, `bytes=first-` or `bytes=-suffix`); "
                "several ranges or another unit get the whole track. The content type is the track's own "
                "(manifest readingOrder[].type). With KUULO_LENDING_TRACK_DELIVERY=redirect and S3 storage the "
                "answer is a 302 to a presigned URL valid for a few minutes, never beyond the loan.",
    tags=TAGS,
    responses={200: Reply("The whole track", content_type=AUDIO[0], also=AUDIO[1:],
                          headers=("ETag", "Accept-Ranges")),
               206: Reply("The requested byte range", content_type=AUDIO[0], also=AUDIO[1:],
                          headers=("Content-Range", "ETag")),
               302: Reply("Presigned URL of the track (S3, redirect mode)", content_type="text/html",
                          headers=("Location",)),
               304: Reply("Not modified since the ETag sent in If-None-Match", headers=("ETag",)),
               403: NOT_ON_LOAN,
               416: "Range not satisfiable (Content-Range: bytes */size)"})
def track(book_id: int, number: int) -> Any:
    now = clock.now()
    loan = service.require_loan(db.session(), g.reader.id, book_id, now)
    book = service.get_book(db.session(), book_id, with_tracks=True)
    db.session().commit()
    found = next((t for t in book.tracks if t.number == number), None)
    if found is None:
        raise DomainError("not-found", 404)
    return track_response(storage.store(), found, until=loan.until, now=now)


def _borrowed_book(book_id: int) -> Any:
    """The book, if this patron has ever borrowed it (positions are kept across loans)."""
    book = service.get_book(db.session(), book_id, with_tracks=True)
    if not service.has_borrowed(db.session(), g.reader.id, book_id):
        raise DomainError("not-on-loan", 403)
    return book


@bp.get("/books/<int:book_id>/position")
@gate.always_open
@reader_required
@operation("The listening position (kept across loans of the same book)", tags=TAGS,
           responses={200: (PositionAnswer, "The position, or null when none is saved"),
                      403: f"Never borrowed by this patron (type not-on-loan), or {STAFF_TOKEN}"})
def position(book_id: int) -> Any:
    book = _borrowed_book(book_id)
    current = service.get_position(db.session(), g.reader.id, book_id)
    db.session().commit()
    return jsonify({"position": documents.position_json(current, book)})


@bp.put("/books/<int:book_id>/position")
@gate.always_open
@reader_required
@operation(
    "Save the listening position; the latest recorded_at wins",
    description="The answer is the position that holds afterwards: accepted=false when a position recorded "
                "later was already stored (another device), which is kept.",
    tags=TAGS, body=PositionUpdate,
    responses={200: (SavedPosition, "The winning position"),
               403: f"Never borrowed by this patron (type not-on-loan), or {STAFF_TOKEN}",
               422: "Field errors (`errors`): a missing track or offset, a date-time without its time zone, "
                    "no such track in the book, or an offset beyond the track's end"})
def save_position(book_id: int, body: PositionUpdate) -> Any:
    book, now = _borrowed_book(book_id), clock.now()
    try:
        values = body.values(now)
    except ValueError as err:
        return validation_problem(err.args[0])
    saved = service.save_position(db.session(), g.reader, book, now=now, **values)
    db.session().commit()
    accepted = saved.recorded_at == min(values["recorded_at"], now + service.FUTURE_SKEW)
    return jsonify({"position": documents.position_json(saved, book), "accepted": accepted})
