"""Staff page for the audiobook catalogue: find a book (withdrawn ones too), withdraw it from new
loans or bring it back. Role: producer (admin passes every check)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import clock, db, gate
from app.accounts.auth import staff_required
from app.lending import service

bp = Blueprint("lending_staff", __name__, url_prefix="/staff/audiobooks")
gate.declare(bp, "web_library")
PAGE_SIZE = 50


@bp.get("")
@staff_required("producer")
def books() -> Any:
    query = request.args.get("q", "").strip()[:200]
    page = max(1, request.args.get("page", 1, type=int) or 1)
    session, now = db.session(), clock.now()
    found, total = service.find_books(session, query=query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
                                      include_withdrawn=True)
    loans = service.active_loan_counts(session, [book.id for book in found], now)
    return render_template("lending/staff_books.html", books=found, loans=loans, total=total, query=query,
                           page=page, pages=max(1, -(-total // PAGE_SIZE)))


@bp.post("/<int:book_id>/withdraw")
@staff_required("producer")
def withdraw(book_id: int) -> Any:
    return _set_available(book_id, False)


@bp.post("/<int:book_id>/restore")
@staff_required("producer")
def restore(book_id: int) -> Any:
    return _set_available(book_id, True)


def _set_available(book_id: int, available: bool) -> Any:
    book = service.set_available(db.session(), book_id, available, now=clock.now(), actor=current_user)
    db.session().commit()
    if available:
        flash(_("“%(title)s” is in the catalogue again and can be borrowed.", title=book.title), "success")
    else:
        flash(_("“%(title)s” was withdrawn: it is no longer in the catalogue and cannot be borrowed or renewed. "
                "Current loans run to their due date.", title=book.title), "success")
    return redirect(url_for("lending_staff.books", q=request.form.get("q") or None))
