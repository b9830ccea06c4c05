"""The desk's list of stack retrieval requests (/staff/desk/stack-requests) [003]: the patrons' requests for
copies kept in the closed stacks, oldest first — take one into processing, put it out for pickup with the
place and the last day, or close it (collected, or cancelled by the library); and the copies kept in the
closed stacks (put a copy there by its barcode, or back on the open shelves). The rules are in
``app/circulation/service_requests.py``; this module only speaks HTTP and HTML. Its blueprint is registered
with My account's (``account_views``), whose requests it serves."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import clock, db
from app.accounts.auth import staff_required
from app.circulation import service
from app.circulation import service_requests as requests
from app.circulation.account_forms import PayForm
from app.circulation.desk.views import DESK_ROLES
from app.errors import DomainError
from app.navigation import StaffLink, add_staff_link
from app.platform.bodies import is_storable

bp = Blueprint("desk_stack_requests", __name__, url_prefix="/staff/desk/stack-requests")
PG_INT_MAX = 2**31 - 1
REFUSALS: dict[str, Any] = {
    "stack_request_state": _l("The request has already moved on (someone else handled it): see its state below."),
    "pickup_place_missing": _l("Give the pickup place."),
    "pickup_day_invalid": _l("Give a last pickup day from today to 60 days ahead."),
}

add_staff_link(StaffLink("desk_stack_requests.page", _l("Circulation desk: requests from the closed stacks"),
                         DESK_ROLES))


def _library_id() -> int:
    library = service.desk_library(db.session(), current_user._get_current_object())
    if library is None:
        abort(404)
    return library.id


def _request_id(raw: int) -> int:
    if raw > PG_INT_MAX:
        abort(404)
    return raw


def _checked() -> None:
    if not PayForm().validate_on_submit():  # the CSRF token only
        abort(400)


def _done(decision: Any, message: str) -> Any:
    if decision.allowed:
        db.session().commit()
        flash(message, "success")
    else:
        db.session().rollback()
        flash(str(REFUSALS.get(decision.reason, decision.reason)), "error")
    return redirect(url_for(".page"))


@bp.get("")
@db.read_only
@staff_required(*DESK_ROLES)
def page() -> Any:
    library_id = _library_id()
    session = db.session()
    lines = requests.library_stack_requests(session, library_id)
    copies = requests.closed_stack_copies(session, library_id)
    places = requests.library_branches(session, library_id)
    branch = service.desk_branch(session, current_user._get_current_object())
    db.session().commit()
    return render_template("desk/stack_requests.html", lines=lines, copies=copies, places=places, branch=branch,
                           today=clock.now().date())


@bp.post("/<int:request_id>/processing")
@staff_required(*DESK_ROLES)
def stack_request_processing(request_id: int) -> Any:
    _checked()
    decision = requests.start_processing(db.session(), _request_id(request_id), library_id=_library_id(),
                                         now=clock.now(), actor=current_user._get_current_object())
    return _done(decision, _("The request is being processed."))


@bp.post("/<int:request_id>/ready")
@staff_required(*DESK_ROLES)
def stack_request_ready(request_id: int) -> Any:
    _checked()
    place = request.form.get("place", "")[:300]
    try:
        last_day = date.fromisoformat(request.form.get("last_day", "")[:10])
    except ValueError:
        flash(str(REFUSALS["pickup_day_invalid"]), "error")
        return redirect(url_for(".page"))
    if not is_storable(place):
        flash(_("This field contains a character that cannot be saved."), "error")
        return redirect(url_for(".page"))
    decision = requests.mark_ready(db.session(), _request_id(request_id), library_id=_library_id(), place=place,
                                   last_day=last_day, now=clock.now(), actor=current_user._get_current_object())
    return _done(decision, _("The copy waits for the patron; she sees the place and the last day in My account."))


@bp.post("/<int:request_id>/close")
@staff_required(*DESK_ROLES)
def stack_request_close(request_id: int) -> Any:
    _checked()
    outcome = request.form.get("outcome", "")
    if outcome not in ("collected", "cancelled"):
        abort(400)
    decision = requests.close_stack_request(db.session(), _request_id(request_id), library_id=_library_id(),
                                            outcome=outcome, now=clock.now(),
                                            actor=current_user._get_current_object())
    return _done(decision, _("The request is closed."))


@bp.post("/copies")
@staff_required(*DESK_ROLES)
def closed_stacks_place() -> Any:
    _checked()
    barcode = request.form.get("barcode", "").strip()[:40]
    location = request.form.get("location", "").strip()[:300]
    if not barcode or not location or not is_storable(barcode + location):
        flash(_("Give the copy's barcode and its place in the closed stacks."), "error")
        return redirect(url_for(".page"))
    try:
        requests.place_in_closed_stacks(db.session(), library_id=_library_id(), barcode=barcode, location=location,
                                        now=clock.now(), actor=current_user._get_current_object())
    except DomainError as err:
        db.session().rollback()
        flash(_("No copy of your library has this barcode.") if err.code == "not-found"
              else _("Give the copy's barcode and its place in the closed stacks."), "error")
        return redirect(url_for(".page"))
    db.session().commit()
    flash(_("The copy %(barcode)s is now in the closed stacks: patrons request it from its title's page.",
            barcode=barcode), "success")
    return redirect(url_for(".page"))


@bp.post("/copies/<int:item_id>/remove")
@staff_required(*DESK_ROLES)
def closed_stacks_remove(item_id: int) -> Any:
    _checked()
    requests.remove_from_closed_stacks(db.session(), library_id=_library_id(), item_id=_request_id(item_id),
                                       now=clock.now(), actor=current_user._get_current_object())
    db.session().commit()
    flash(_("The copy is back on the open shelves."), "success")
    return redirect(url_for(".page"))
