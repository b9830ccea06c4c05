"""Web library for patrons: browse and search the audiobooks, borrow, see loans, listen in the browser.

Pages belong to ``web_library``; borrowing and renewing are e-lending as well, so they also honour
a ``reader_apps`` closure ("no new loans during the break"). The player's track stream and
position sync stay open through any break, like the reader-app API.
"""
from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from app import clock, db, gate, storage
from app.accounts.auth import patron_required
from app.errors import DomainError, validation_problem
from app.i18n import current_language, format_moment, in_lang
from app.lending import documents, service
from app.lending.auth import current_closure
from app.lending.http import etag_response, policy
from app.lending.messages import refusal_text
from app.lending.schemas import PositionUpdate
from app.lending.streaming import track_response
from app.platform.contract import read_body

bp = Blueprint("lending", __name__, url_prefix="/library")
gate.declare(bp, "web_library")
PAGE_SIZE = 20


def patron_loans() -> dict[int, Any]:
    if not current_user.is_authenticated or current_user.is_staff:
        return {}
    return {loan.audiobook_id: loan for loan in service.active_loans(db.session(), current_user.id, clock.now())}


@bp.get("")
def catalogue() -> Any:
    query = request.args.get("q", "").strip()[:200]
    page = max(1, request.args.get("page", 1, type=int) or 1)
    books, total = service.find_books(db.session(), query=query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render_template("lending/catalogue.html", books=books, total=total, query=query, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)), loans=patron_loans())


@bp.get("/books/<int:book_id>")
def book(book_id: int) -> Any:
    found = service.get_book(db.session(), book_id, with_tracks=True)
    return render_template("lending/book.html", book=found, loan=patron_loans().get(book_id))


def closed_for_new_loans() -> Any:
    closure = current_closure("reader_apps", current_language())
    if closure is None:
        return None
    return render_template("errors/closed.html", closure=closure), 503, {"Retry-After": gate.retry_after(
        closure, clock.now())}


def change_loan(book_id: int, action: str) -> Any:
    """Borrow, renew or return through the same service functions as the reader-app API."""
    closed = closed_for_new_loans() if action != "return" else None
    if closed is not None:
        return closed
    session, now = db.session(), clock.now()
    found = service.get_book(session, book_id)
    try:
        if action == "borrow":
            service.borrow(session, current_user, found, now=now, policy=policy())
            message = Markup(escape(_("You borrowed %(title)s."))) % {"title": in_lang(found.title, found.language)}
        elif action == "renew":
            loan = service.renew(session, current_user, found, now=now, policy=policy())
            message = _("The loan is renewed until %(date)s.", date=format_moment(loan.until))
        else:
            service.return_loan(session, current_user, found, now=now)
            message = Markup(escape(_("You returned %(title)s."))) % {"title": in_lang(found.title, found.language)}
    except DomainError as err:
        flash(refusal_text(err.code, err.params) or _("That did not work. Please try again."), "error")
        return redirect(safe_back(url_for("lending.book", book_id=book_id)))
    session.commit()
    flash(message, "success")
    return redirect(url_for("lending.listen", book_id=book_id) if action == "borrow" else url_for("lending.loans"))


def safe_back(default: str) -> str:
    target = request.form.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else default


@bp.post("/books/<int:book_id>/borrow")
@patron_required
def borrow(book_id: int) -> Any:
    return change_loan(book_id, "borrow")


@bp.post("/books/<int:book_id>/renew")
@patron_required
def renew(book_id: int) -> Any:
    return change_loan(book_id, "renew")


@bp.post("/books/<int:book_id>/return")
@patron_required
def return_book(book_id: int) -> Any:
    return change_loan(book_id, "return")


@bp.get("/books/<int:book_id>/return")
@patron_required
def confirm_return(book_id: int) -> Any:
    """Returning ends the loan at once: the patron confirms first (a page of its own, no script needed)."""
    found = service.get_book(db.session(), book_id)
    loan = service.active_loan(db.session(), current_user.id, book_id, clock.now())
    if loan is None:
        flash(_("You do not have this audiobook on loan."), "error")
        return redirect(url_for("lending.loans"))
    return render_template("lending/return.html", book=found, loan=loan)


@bp.get("/loans")
@patron_required
def loans() -> Any:
    now, rules = clock.now(), policy()
    active = service.active_loans(db.session(), current_user.id, now)
    return render_template("lending/loans.html", loans=active, now=now,
                           max_renewals=service.max_renewals(current_user, rules, now),
                           renewal={loan.id: service.renewal_decision(loan, current_user, rules, now) for loan in active},
                           days_left={loan.id: service.days_left(loan.until, now, rules) for loan in active})


@bp.get("/books/<int:book_id>/listen")
@patron_required
def listen(book_id: int) -> Any:
    loan = service.active_loan(db.session(), current_user.id, book_id, clock.now())
    if loan is None:
        flash(_("Borrow the audiobook first to listen to it."), "error")
        return redirect(url_for("lending.book", book_id=book_id))
    found = service.get_book(db.session(), book_id, with_tracks=True)
    track = min(max(request.args.get("track", 1, type=int) or 1, 1), len(found.tracks))
    start = max(request.args.get("t", 0.0, type=float) or 0.0, 0.0)
    return render_template("lending/player.html", book=found, loan=loan, track=track, start=start,
                           explicit_start="track" in request.args, seconds=documents.seconds)


@bp.get("/books/<int:book_id>/cover")
@db.read_only
@gate.always_open  # reader apps show the covers of their shelf through a break, too
def cover(book_id: int) -> Any:
    """The book's cover image, for OPDS and Readium clients and the pages; cached by browsers and apps."""
    found = service.get_book(db.session(), book_id)
    if found.cover_key is None:
        abort(404)
    etag = hashlib.sha256(found.cover_key.encode()).hexdigest()[:32]  # the key names the stored version
    if request.if_none_match.contains(etag):
        return etag_response(b"", etag, public_seconds=86400)  # 304 without reading the store
    return etag_response(storage.store().get_bytes(found.cover_key), etag, found.cover_type, public_seconds=86400)


@bp.get("/books/<int:book_id>/tracks/<int:number>")
@gate.always_open
@patron_required
def track(book_id: int, number: int) -> Any:
    now = clock.now()
    loan = service.require_loan(db.session(), current_user.id, book_id, now)
    found = next((t for t in service.get_book(db.session(), book_id, with_tracks=True).tracks if t.number == number),
                 None)
    if found is None:
        abort(404)
    return track_response(storage.store(), found, until=loan.until, now=now)


@bp.route("/books/<int:book_id>/position", methods=["GET", "PUT"])
@gate.always_open
@patron_required
def position(book_id: int) -> Any:
    session = db.session()
    found = service.get_book(session, book_id, with_tracks=True)
    if not service.has_borrowed(session, current_user.id, book_id):
        abort(403)
    if request.method == "GET":
        current = service.get_position(session, current_user.id, book_id)
        return jsonify({"position": documents.position_json(current, found)})
    update = read_body(PositionUpdate)  # the reader-app API's body and rules (app/lending/api.py)
    if not isinstance(update, PositionUpdate):
        return update
    try:
        values = update.values(clock.now())
    except ValueError as exc:
        return validation_problem(exc.args[0])
    saved = service.save_position(session, current_user, found, now=clock.now(), **values)
    session.commit()
    return jsonify({"position": documents.position_json(saved, found)})
