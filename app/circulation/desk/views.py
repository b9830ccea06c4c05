"""Pages of the circulation desk (role circulation; supervisors also circulation-supervisor).

Every form works without JavaScript (POST, then a redirect to the page, which shows the answer); the
small script ``static/desk.js`` sends the same forms in the background and swaps in the new page
parts, so the barcode field keeps focus and the answer is read out from a live region. Answers of
a POST are kept in the session for the page that follows (like flashed messages).
"""
from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app import clock, db
from app.accounts.auth import staff_required
from app.circulation import service
from app.circulation.desk import forms, slips, words
from app.circulation.models import Branch, Hold, Item
from app.circulation.money import Money
from app.errors import DomainError
from app.navigation import StaffLink, add_staff_link
from app.platform.bodies import is_storable

DESK_ROLES = ("circulation", "circulation-supervisor")
RESULTS_KEPT = 6

bp = Blueprint("desk", __name__, url_prefix="/staff/desk")
# The desk's script, public like the app's other static files (outside /staff, which needs a login).
assets = Blueprint("desk_assets", __name__, static_folder="static", static_url_path="/static/desk")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(assets)
    add_staff_link(StaffLink("desk.lookup", words.LINK_LOOKUP, DESK_ROLES))
    add_staff_link(StaffLink("desk.checkin_page", words.LINK_CHECKIN, DESK_ROLES))
    add_staff_link(StaffLink("desk.holds_page", words.LINK_HOLDS, DESK_ROLES))


# -- helpers ----------------------------------------------------------------------------------------


def _staff() -> Any:
    return current_user._get_current_object()


def _library_id() -> int | None:
    library = service.desk_library(db.session(), _staff())
    return library.id if library is not None else None


def _branch() -> Branch | None:
    return service.desk_branch(db.session(), _staff())


def _need_branch() -> Branch:
    branch = _branch()
    if branch is None:
        flash(_("Choose the branch of your desk first."), "error")
        abort(redirect(url_for("desk.lookup")))
    return branch


def _patron(card: str) -> Any:
    if len(card) > 20 or not is_storable(card):
        abort(404)
    try:
        return service.patron_in_library(db.session(), card, _library_id())
    except DomainError:
        abort(404)


def _end_reads() -> None:
    """End the request's transaction before rendering (nothing is left to write), so that the parts of the
    page that read on their own (the status banner) never wait for this request's lock."""
    db.session().commit()


def _results(key: str, scope: str = "") -> list[dict[str, Any]]:
    """The answers kept for this page (``scope``: the patron's card): one list per kind, so the session
    cookie stays small however many patrons the desk serves."""
    return [e for e in session.get(key, []) if e.get("scope") == scope]


def _remember(key: str, entry: dict[str, Any], scope: str = "") -> None:
    entry = {**entry, "text": str(entry.get("text", ""))[:240], "scope": scope}
    session[key] = [entry, *_results(key, scope)][:RESULTS_KEPT]


def _branch_form() -> forms.BranchForm:
    form = forms.BranchForm()
    form.branch.choices = [(b.id, b.name) for b in service.desk_branches(db.session(), _staff())]
    current = _branch()
    if current is not None and not form.is_submitted():
        form.branch.data = current.id
    return form


# -- lookup and desk branch -------------------------------------------------------------------------


@bp.get("")
@db.read_only
@staff_required(*DESK_ROLES)
def lookup() -> Any:
    form = forms.LookupForm(request.args)
    matches = None
    if request.args and form.validate():
        matches = service.find_patrons(db.session(), form.q.data, library_id=_library_id())
        if len(matches) == 1 and matches[0].card_number == form.q.data.strip():
            return redirect(url_for("desk.patron_page", card=matches[0].card_number))
    branch, branch_form = _branch(), _branch_form()
    _end_reads()
    return render_template("desk/lookup.html", form=form, matches=matches, branch=branch, branch_form=branch_form)


@bp.post("/branch")
@staff_required(*DESK_ROLES)
def choose_branch() -> Any:
    form = _branch_form()
    if form.validate_on_submit():
        branch = service.set_desk_branch(db.session(), _staff(), form.branch.data, now=clock.now())
        db.session().commit()
        flash(_("Your desk is now at %(branch)s.", branch=branch.name), "success")
    else:
        flash(_("Choose one of the branches listed."), "error")
    return redirect(url_for("desk.lookup"))


# -- the patron page: checkout, renewals, payments, notes -------------------------------------------


def _contact_form(view: Any) -> forms.ContactForm:
    return forms.ContactForm(formdata=None, email=view.patron.email, phone=view.patron.phone,
                             postal_address=view.circ.postal_address,
                             notice_channels=list(view.circ.notice_channels or []),
                             receipts_by_email=view.circ.receipts_by_email)


def _render_patron(card: str, *, checkout_form: forms.CheckoutForm | None = None,
                   contact_form: forms.ContactForm | None = None, status: int = 200) -> Any:
    patron = _patron(card)
    view = service.desk_patron(db.session(), patron.id, now=clock.now())
    context = dict(branch=_branch(), supervisor=service.is_supervisor(_staff()))
    _end_reads()
    return render_template(
        "desk/patron.html", view=view, checkout_form=checkout_form or forms.CheckoutForm(),
        action_form=forms.ActionForm(), payment_form=forms.PaymentForm(), write_off_form=forms.WriteOffForm(),
        note_form=forms.NoteForm(), contact_form=contact_form or _contact_form(view),
        scans=_results("desk_scans", card), renewals=_results("desk_renewals", card), words=words, **context), status


@bp.get("/patrons/<card>")
@db.read_only
@staff_required(*DESK_ROLES)
def patron_page(card: str) -> Any:
    return _render_patron(card)


@bp.post("/patrons/<card>/checkout")
@staff_required(*DESK_ROLES)
def checkout(card: str) -> Any:
    patron = _patron(card)
    branch = _need_branch()
    form = forms.CheckoutForm()
    if not form.validate_on_submit():
        return _render_patron(card, checkout_form=form, status=422)
    reason = (form.override_reason.data or "").strip() or None
    if reason and not service.is_supervisor(_staff()):
        form.override_reason.errors.append(_("Only a circulation supervisor can override a refusal."))
        return _render_patron(card, checkout_form=form, status=403)
    result = service.desk_checkout(db.session(), patron_id=patron.id, item_barcode=form.barcode.data, branch=branch,
                                   now=clock.now(), actor=_staff(), override_reason=reason,
                                   due_on=form.due_on.data)
    db.session().commit()
    _remember("desk_scans", words.checkout_entry(result), card)
    return redirect(url_for("desk.patron_page", card=card) + "#desk-scan")


@bp.post("/patrons/<card>/renew")
@staff_required(*DESK_ROLES)
def renew(card: str) -> Any:
    patron = _patron(card)
    form = forms.ActionForm()
    chosen = [int(v) for v in request.form.getlist("loan") if v.isdigit() and len(v) < 10]
    if not form.validate_on_submit() or not chosen:
        flash(_("Choose the loans to renew."), "error")
        return redirect(url_for("desk.patron_page", card=card) + "#loans")
    try:
        results = service.renew_loans(db.session(), patron_id=patron.id, loan_ids=chosen, now=clock.now(),
                                      actor=_staff(), channel="desk")
    except DomainError:
        abort(404)
    db.session().commit()
    session["desk_renewals"] = [{**words.renewal_entry(r), "scope": card} for r in results][:RESULTS_KEPT * 2]
    return redirect(url_for("desk.patron_page", card=card) + "#renewals")


@bp.post("/patrons/<card>/pay")
@staff_required(*DESK_ROLES)
def pay(card: str) -> Any:
    patron = _patron(card)
    form = forms.PaymentForm()
    chosen = [int(v) for v in request.form.getlist("fee") if v.isdigit() and len(v) < 10]
    target = url_for("desk.patron_page", card=card) + "#fees"
    if not form.validate_on_submit():
        flash(_("Choose how the payment was made."), "error")
        return redirect(target)
    amount = None
    if form.amount.data:
        try:
            amount = Money.parse(form.amount.data.replace(",", "."), service.currency_of(db.session(), patron.id))
        except ValueError:
            flash(_("Give the amount as e.g. 5.00."), "error")
            return redirect(target)
        if not amount.is_positive:
            flash(_("Give the amount as e.g. 5.00."), "error")
            return redirect(target)
    result = service.desk_pay(db.session(), patron_id=patron.id, fee_ids=chosen or None, amount=amount,
                              method=form.method.data, now=clock.now(), actor=_staff())
    db.session().commit()
    flash(words.payment_text(result), "success" if result.decision.allowed else "error")
    return redirect(target)


@bp.post("/patrons/<card>/fees/<int:fee_id>/write-off")
@staff_required("circulation-supervisor")
def write_off(card: str, fee_id: int) -> Any:
    patron = _patron(card)
    form = forms.WriteOffForm()
    target = url_for("desk.patron_page", card=card) + "#fees"
    if not form.validate_on_submit():
        flash(_("Give a reason for the write-off."), "error")
        return redirect(target)
    try:
        result = service.write_off(db.session(), patron_id=patron.id, fee_id=fee_id, reason=form.reason.data,
                                   now=clock.now(), actor=_staff())
    except DomainError:
        abort(404)
    db.session().commit()
    flash(words.write_off_text(result), "success")
    return redirect(target)


@bp.post("/patrons/<card>/contact")
@staff_required(*DESK_ROLES)
def contact(card: str) -> Any:
    patron = _patron(card)
    form = forms.ContactForm()
    if form.validate_on_submit():
        try:
            changed = service.update_contact_at_desk(
                db.session(), patron.id, email=form.email.data or "", phone=form.phone.data or "",
                postal_address=form.postal_address.data or "", notice_channels=list(form.notice_channels.data or []),
                receipts_by_email=bool(form.receipts_by_email.data), now=clock.now(), actor=_staff())
        except DomainError as error:
            if error.code != "channel-without-contact":
                raise
            db.session().rollback()
            form.notice_channels.errors = [_("Each chosen channel needs its contact detail (email address, phone "
                                             "or postal address).")]
        else:
            db.session().commit()
            flash(_("The contact details are saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for("desk.patron_page", card=card) + "#contact")
    return _render_patron(card, contact_form=form, status=422)


@bp.post("/patrons/<card>/notes")
@staff_required(*DESK_ROLES)
def add_note(card: str) -> Any:
    patron = _patron(card)
    form = forms.NoteForm()
    if form.validate_on_submit():
        service.add_note(db.session(), patron.id, form.text.data, now=clock.now(), actor=_staff())
        db.session().commit()
        flash(_("The note is saved."), "success")
    else:
        flash(_("Write the note first."), "error")
    return redirect(url_for("desk.patron_page", card=card) + "#notes")


@bp.post("/patrons/<card>/notes/<int:note_id>/remove")
@staff_required(*DESK_ROLES)
def remove_note(card: str, note_id: int) -> Any:
    patron = _patron(card)
    if forms.ActionForm().validate_on_submit():
        try:
            service.remove_note(db.session(), patron.id, note_id, now=clock.now(), actor=_staff())
        except DomainError:
            abort(404)
        db.session().commit()
        flash(_("The note is removed."), "success")
    return redirect(url_for("desk.patron_page", card=card) + "#notes")


# -- check-in ---------------------------------------------------------------------------------------


@bp.get("/checkin")
@db.read_only
@staff_required(*DESK_ROLES)
def checkin_page(form: forms.CheckinForm | None = None, status: int = 200) -> Any:
    form = form or forms.CheckinForm(book_drop=bool(session.get("desk_book_drop")))
    branch = _branch()
    _end_reads()
    return render_template("desk/checkin.html", form=form, branch=branch, returns=_results("desk_returns"),
                           words=words), status


@bp.post("/checkin")
@staff_required(*DESK_ROLES)
def checkin() -> Any:
    branch = _need_branch()
    form = forms.CheckinForm()
    if not form.validate_on_submit():
        return checkin_page(form, 422)
    session["desk_book_drop"] = bool(form.book_drop.data)
    result = service.desk_checkin(db.session(), item_barcode=form.barcode.data, branch=branch, now=clock.now(),
                                  actor=_staff(), book_drop=bool(form.book_drop.data), note=form.note.data or "")
    db.session().commit()
    _remember("desk_returns", words.checkin_entry(result))
    return redirect(url_for("desk.checkin_page") + "#desk-scan")


def _hold_of_desk(hold_id: int) -> tuple[Hold, Item, Branch]:
    s = db.session()
    hold = s.get(Hold, hold_id)
    library_id = _library_id()
    if hold is None or hold.item_id is None or (library_id is not None and hold.library_id != library_id):
        abort(404)
    item, pickup = s.get(Item, hold.item_id), s.get(Branch, hold.pickup_branch_id)
    if item is None or pickup is None:
        abort(404)
    return hold, item, pickup


def _pdf(data: bytes, name: str) -> Response:
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-store"})


@bp.get("/slips/hold/<int:hold_id>.pdf")
@db.read_only
@staff_required(*DESK_ROLES)
def hold_slip(hold_id: int) -> Any:
    hold, item, pickup = _hold_of_desk(hold_id)
    if hold.state != "ready":
        abort(404)
    return _pdf(slips.hold_slip(hold, item, pickup), f"hold-{hold.id}.pdf")


@bp.get("/slips/transit/<int:hold_id>.pdf")
@db.read_only
@staff_required(*DESK_ROLES)
def transit_slip(hold_id: int) -> Any:
    hold, item, pickup = _hold_of_desk(hold_id)
    if hold.state != "in_transit":
        abort(404)
    here = db.session().get(Branch, item.current_branch_id)
    return _pdf(slips.transit_slip(hold, item, pickup, here), f"transit-{hold.id}.pdf")


# -- the holds shelf --------------------------------------------------------------------------------


@bp.get("/holds")
@db.read_only
@staff_required(*DESK_ROLES)
def holds_page() -> Any:
    branch = _branch()
    shelf = service.holds_shelf(db.session(), branch, now=clock.now()) if branch is not None else None
    _end_reads()
    return render_template("desk/holds.html", branch=branch, shelf=shelf, form=forms.ActionForm())


@bp.post("/holds/clear")
@staff_required(*DESK_ROLES)
def clear_holds() -> Any:
    branch = _need_branch()
    form = forms.ActionForm()
    chosen = [int(v) for v in request.form.getlist("hold") if v.isdigit() and len(v) < 10]
    if not form.validate_on_submit() or not chosen:
        flash(_("Choose the expired holds to clear."), "error")
        return redirect(url_for("desk.holds_page"))
    count = service.clear_expired_holds(db.session(), branch, chosen, now=clock.now(), actor=_staff())
    db.session().commit()
    flash(_("%(count)d expired holds cleared; the uncollected-hold fee is charged where the rules say so.",
            count=count), "success")
    return redirect(url_for("desk.holds_page"))


# -- items ------------------------------------------------------------------------------------------


def _item(barcode: str) -> Item:
    if len(barcode) > 40 or not is_storable(barcode):
        abort(404)
    try:
        return service.item_of_desk(db.session(), barcode, _library_id())
    except DomainError:
        abort(404)


@bp.get("/items/<barcode>")
@db.read_only
@staff_required(*DESK_ROLES)
def item_page(barcode: str, form: forms.ItemStatusForm | None = None, status: int = 200) -> Any:
    item = _item(barcode)
    form = form or forms.ItemStatusForm(formdata=None, status=item.status)
    branch = _branch()
    _end_reads()
    return render_template("desk/item.html", item=item, form=form, branch=branch,
                           price=Money(item.replacement_price_minor, item.currency)), status


@bp.post("/items/<barcode>/status")
@staff_required(*DESK_ROLES)
def item_status(barcode: str) -> Any:
    item = _item(barcode)
    form = forms.ItemStatusForm()
    if not form.validate_on_submit():
        return item_page(barcode, form, 422)
    decision = service.set_item_status(db.session(), barcode=item.barcode, status=form.status.data,
                                       library_id=_library_id(), now=clock.now(), actor=_staff())
    db.session().commit()
    flash(_("The status is saved.") if decision.allowed else words.item_status_refusal(decision.reason),
          "success" if decision.allowed else "error")
    return redirect(url_for("desk.item_page", barcode=item.barcode))


@bp.get("/items/<barcode>/label.pdf")
@db.read_only
@staff_required(*DESK_ROLES)
def item_label(barcode: str) -> Any:
    item = _item(barcode)
    return _pdf(slips.barcode_labels([item]), f"label-{item.id}.pdf")
