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

from app import audit, clock, db
from app.accounts.auth import staff_required
from app.circulation import service, service_desk, service_fees, service_record
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
    audit.describe(words.HISTORY)  # the patron record's history in sentences


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


def _not_found() -> Any:
    """404, ending the request's transaction first (nothing of it is kept)."""
    db.session().rollback()
    abort(404)


def _patron(card: str) -> Any:
    if len(card) > 20 or not is_storable(card):
        abort(404)
    try:
        return service.patron_in_library(db.session(), card, _library_id())
    except DomainError:
        _not_found()


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
    payments = service_fees.paid_payments(db.session(), patron.id, limit=10)
    _end_reads()
    return render_template(
        "desk/patron.html", view=view, checkout_form=checkout_form or forms.CheckoutForm(),
        action_form=forms.ActionForm(), payment_form=forms.PaymentForm(), write_off_form=forms.WriteOffForm(),
        note_form=forms.NoteForm(), contact_form=contact_form or _contact_form(view),
        refund_form=forms.RefundForm(), damaged_form=forms.DamagedForm(), payments=payments,
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


# -- the patron record ------------------------------------------------------------------------------

SUPERVISOR = "circulation-supervisor"
HISTORY_SHOWN = 30


def _record_target(card: str, anchor: str = "") -> str:
    return url_for("desk.record_page", card=card) + (f"#{anchor}" if anchor else "")


def _record_form(view: service_record.RecordView, formdata: Any = None) -> forms.RecordForm:
    circ, patron = view.circ, view.patron
    if formdata is None:
        form = forms.RecordForm(formdata=None, name=patron.name, email=patron.email, phone=patron.phone,
                                postal_address=circ.postal_address, notice_channels=list(circ.notice_channels or []),
                                receipts_by_email=circ.receipts_by_email, category=circ.category,
                                home_branch=circ.home_branch_id)
    else:
        form = forms.RecordForm()
    form.category.choices = [(c, words.category_name(c)) for c in view.categories]
    form.home_branch.choices = [(b.id, b.name) for b in view.branches]
    return form


def _ban_form(view: service_record.RecordView, formdata: bool = False) -> forms.PremisesBanForm:
    form = forms.PremisesBanForm() if formdata else forms.PremisesBanForm(formdata=None)
    form.hearing.choices = [(h.id, words.hearing_label(h)) for h in view.hearings]
    return form


def _history(patron_id: int) -> list[audit.AuditEvent]:
    from sqlalchemy import select

    return list(db.session().scalars(
        select(audit.AuditEvent).where(audit.AuditEvent.record_type == "patron",
                                       audit.AuditEvent.record_id == str(patron_id),
                                       audit.AuditEvent.action.like("circulation.%"))
        .order_by(audit.AuditEvent.at.desc(), audit.AuditEvent.id.desc()).limit(HISTORY_SHOWN)))


def _render_record(card: str, *, record_form: forms.RecordForm | None = None,
                   hearing_form: forms.HearingForm | None = None, ban_form: forms.PremisesBanForm | None = None,
                   status: int = 200) -> Any:
    patron = _patron(card)
    view = service_record.record_view(db.session(), patron.id)
    history = _history(patron.id)
    context = dict(branch=_branch(), supervisor=service.is_supervisor(_staff()))
    _end_reads()
    if ban_form is not None:
        ban_form.hearing.choices = [(h.id, words.hearing_label(h)) for h in view.hearings]
    return render_template(
        "desk/record.html", view=view, record_form=record_form or _record_form(view),
        reason_form=forms.ReasonForm(), revalidate_form=forms.RevalidateForm(), action_form=forms.ActionForm(),
        hearing_form=hearing_form or forms.HearingForm(formdata=None),
        ban_form=ban_form or _ban_form(view), history=history, words=words, **context), status


@bp.get("/patrons/<card>/record")
@db.read_only
@staff_required(*DESK_ROLES)
def record_page(card: str) -> Any:
    return _render_record(card)


@bp.post("/patrons/<card>/record")
@staff_required(*DESK_ROLES)
def record_save(card: str) -> Any:
    patron = _patron(card)
    view = service_record.record_view(db.session(), patron.id)
    form = _record_form(view, formdata=True)
    if form.validate_on_submit():
        try:
            changed = service_record.update_record(
                db.session(), patron.id, name=form.name.data or "", identity_check=form.identity_check.data or "",
                email=form.email.data or "", phone=form.phone.data or "", postal_address=form.postal_address.data or "",
                notice_channels=list(form.notice_channels.data or []), receipts_by_email=bool(form.receipts_by_email.data),
                category=form.category.data, home_branch_id=form.home_branch.data, now=clock.now(), actor=_staff())
        except DomainError as error:
            db.session().rollback()
            target = {"identity-check-required": form.identity_check, "unknown-category": form.category,
                      "unknown-branch": form.home_branch,
                      "channel-without-contact": form.notice_channels}.get(error.code)
            if target is None:
                raise
            target.errors = [words.record_error(error)]
        else:
            db.session().commit()
            flash(_("The record is saved.") if changed else _("Nothing was changed."), "success")
            return redirect(_record_target(card, "details"))
    return _render_record(card, record_form=form, status=422)


def _record_action(card: str, anchor: str, action: Any, success: str, form: Any = None) -> Any:
    """Run a record action that may be refused with a DomainError; flash the outcome in words."""
    form = form if form is not None else forms.ActionForm()
    if not form.validate_on_submit():
        flash(_("Give the reason."), "error")
        return redirect(_record_target(card, anchor))
    try:
        action(form)
    except DomainError as error:
        db.session().rollback()
        if error.status >= 500 or error.code == "not-found":
            raise
        flash(words.record_error(error), "error")
    else:
        db.session().commit()
        flash(success, "success")
    return redirect(_record_target(card, anchor))


@bp.post("/patrons/<card>/pin-link")
@staff_required(*DESK_ROLES)
def pin_link(card: str) -> Any:
    from flask import current_app

    patron = _patron(card)
    config = current_app.config
    sent: list[bool] = []

    def act(_form: Any) -> None:
        sent.append(service_record.resend_pin_link(
            db.session(), patron.id, now=clock.now(), actor=_staff(), base_url=config["BASE_URL"],
            hours=int(config.get("REGISTRATION_LINK_HOURS", 14 * 24))))

    return _record_action(card, "pin", act, _("A link for choosing the PIN is on its way to the patron's email."))


@bp.post("/patrons/<card>/block")
@staff_required(*DESK_ROLES)
def block(card: str) -> Any:
    patron = _patron(card)
    return _record_action(card, "block", lambda f: service_record.block_card(
        db.session(), patron.id, reason=f.reason.data, now=clock.now(), actor=_staff()),
        _("The card is blocked."), forms.ReasonForm())


@bp.post("/patrons/<card>/unblock")
@staff_required(*DESK_ROLES)
def unblock(card: str) -> Any:
    patron = _patron(card)
    return _record_action(card, "block", lambda f: service_record.unblock_card(
        db.session(), patron.id, reason=f.reason.data, now=clock.now(), actor=_staff()),
        _("The card block is lifted."), forms.ReasonForm())


@bp.post("/patrons/<card>/hearings")
@staff_required(*DESK_ROLES)
def hearing(card: str) -> Any:
    patron = _patron(card)
    form = forms.HearingForm()
    if form.validate_on_submit():
        try:
            service_record.record_hearing(db.session(), patron.id, held_on=form.held_on.data,
                                          heard_by=form.heard_by.data, summary=form.summary.data or "",
                                          now=clock.now(), actor=_staff())
        except DomainError as error:
            db.session().rollback()
            form.held_on.errors = [words.record_error(error)]
        else:
            db.session().commit()
            flash(_("The hearing is recorded. A supervisor can now decide on a ban."), "success")
            return redirect(_record_target(card, "premises"))
    return _render_record(card, hearing_form=form, status=422)


@bp.post("/patrons/<card>/premises-bans")
@staff_required(SUPERVISOR)
def premises_ban(card: str) -> Any:
    patron = _patron(card)
    form = forms.PremisesBanForm()
    form.hearing.choices = [(h.id, "") for h in service_record.record_view(db.session(), patron.id).hearings]
    if form.validate_on_submit():
        try:
            service_record.ban_from_premises(
                db.session(), patron.id, hearing_id=form.hearing.data, decided_on=form.decided_on.data,
                decision_maker=form.decision_maker.data, starts_on=form.starts_on.data, ends_on=form.ends_on.data,
                reason=form.reason.data, decision_reference=form.decision_reference.data or "", now=clock.now(),
                actor=_staff())
        except DomainError as error:
            db.session().rollback()
            if error.code == "premises-ban-invalid":
                fields = error.params.get("fields", {})
                for name, problem in fields.items():
                    field_ = getattr(form, name, form.ends_on)
                    field_.errors = [str(words.BAN_PROBLEMS.get(problem, problem))]
            else:
                form.hearing.errors = [words.record_error(error)]
        else:
            db.session().commit()
            flash(_("The ban from the premises is recorded."), "success")
            return redirect(_record_target(card, "premises"))
    elif not form.hearing.choices:
        form.hearing.errors = [str(words.RECORD_ERRORS["hearing-required"])]
    return _render_record(card, ban_form=form, status=422)


@bp.post("/patrons/<card>/premises-bans/<int:ban_id>/lift")
@staff_required(SUPERVISOR)
def lift_premises_ban(card: str, ban_id: int) -> Any:
    patron = _patron(card)

    def act(form: Any) -> None:
        try:
            service_record.lift_ban(db.session(), patron.id, ban_id, reason=form.reason.data, now=clock.now(),
                                    actor=_staff())
        except DomainError as error:
            if error.code == "not-found":
                _not_found()
            raise

    return _record_action(card, "premises", act, _("The ban from the premises is lifted."), forms.ReasonForm())


@bp.post("/patrons/<card>/revalidate")
@staff_required(*DESK_ROLES)
def revalidate(card: str) -> Any:
    patron = _patron(card)
    return _record_action(card, "membership", lambda f: service_record.revalidate_membership(
        db.session(), patron.id, note=f.note.data or "", now=clock.now(), actor=_staff()),
        _("The membership is revalidated."), forms.RevalidateForm())


@bp.post("/patrons/<card>/close")
@staff_required(SUPERVISOR)
def close_account(card: str) -> Any:
    patron = _patron(card)
    form = forms.ReasonForm()
    if not form.validate_on_submit():
        flash(_("Give the reason."), "error")
        return redirect(_record_target(card, "close"))
    try:
        closing = service_record.close_account(db.session(), patron.id, reason=form.reason.data, now=clock.now(),
                                               actor=_staff())
    except DomainError as error:
        db.session().rollback()
        flash(words.record_error(error), "error")
        return redirect(_record_target(card, "close"))
    if not closing.closed:
        db.session().rollback()
        flash(words.closing_refusal(closing), "error")
    else:
        db.session().commit()
        flash(_("The account is closed."), "success")
    return redirect(_record_target(card, "close"))


@bp.post("/patrons/<card>/reopen")
@staff_required(SUPERVISOR)
def reopen_account(card: str) -> Any:
    patron = _patron(card)
    return _record_action(card, "close", lambda f: service_record.reopen_account(
        db.session(), patron.id, now=clock.now(), actor=_staff()), _("The account is open again."))


@bp.get("/patrons/<card>/welcome-letter.pdf")
@staff_required(*DESK_ROLES)
def welcome_letter(card: str) -> Any:
    from flask_babel import force_locale

    patron = _patron(card)
    view = service.desk_patron(db.session(), patron.id, now=clock.now())
    library = service_desk.desk_library(db.session(), _staff())
    library_name = library.name if library is not None else ""
    audit.record(db.session(), actor=_staff(), action="circulation.welcome_letter_printed", now=clock.now(),
                 record_type="patron", record_id=patron.id)
    db.session().commit()
    from app.circulation.service_common import local_today

    with force_locale(patron.language or "fi"):
        data = slips.welcome_letter(patron_name=patron.name, postal_address=view.circ.postal_address,
                                    card_number=patron.card_number, library=library_name,
                                    home_branch=view.home_branch.name, has_email=bool(patron.email),
                                    issued_on=local_today(view.home_branch.timezone, clock.now()))
    return _pdf(data, f"welcome-{patron.card_number}.pdf")


# -- payments: refunds, receipts, lost and damaged items --------------------------------------------


def _amount(text: str | None, patron_id: int) -> Money | None:
    """An amount typed at the desk ("5,00" or "5.00"); None for empty; ValueError for nonsense."""
    if not text:
        return None
    amount = Money.parse(text.strip().replace(",", "."), service.currency_of(db.session(), patron_id))
    if not amount.is_positive:
        raise ValueError(text)
    return amount


@bp.post("/patrons/<card>/payments/<int:payment_id>/refund")
@staff_required(SUPERVISOR)
def refund(card: str, payment_id: int) -> Any:
    patron = _patron(card)
    form = forms.RefundForm()
    target = url_for("desk.patron_page", card=card) + "#payments"
    if not form.validate_on_submit():
        flash(_("Give a reason for the refund."), "error")
        return redirect(target)
    try:
        amount = _amount(form.amount.data, patron.id)
    except ValueError:
        flash(_("Give the amount as e.g. 5.00."), "error")
        return redirect(target)
    try:
        decision = service_fees.refund_payment(db.session(), patron_id=patron.id, payment_id=payment_id,
                                               amount=amount, reason=form.reason.data, now=clock.now(),
                                               actor=_staff())
    except DomainError as error:
        if error.code == "not-found":
            _not_found()
        db.session().rollback()
        flash(words.record_error(error), "error")
        return redirect(target)
    db.session().commit()
    if decision.allowed:
        flash(_("%(amount)s refunded.", amount=words.money(decision.details["amount"])), "success")
    else:
        flash(words.refusal(decision.reason, decision.details), "error")
    return redirect(target)


@bp.get("/patrons/<card>/payments/<int:payment_id>/receipt.pdf")
@db.read_only
@staff_required(*DESK_ROLES)
def receipt_pdf(card: str, payment_id: int) -> Any:
    from flask_babel import force_locale

    patron = _patron(card)
    try:
        payment = service_fees.payment_of_patron(db.session(), patron.id, payment_id)
    except DomainError:
        _not_found()
    record = service_fees.payment_record(db.session(), payment)
    library = service_desk.desk_library(db.session(), _staff())
    branch = _branch()
    _end_reads()
    with force_locale(patron.language or "fi"):
        data = slips.payment_receipt(record, patron_name=patron.name, card_number=patron.card_number,
                                     library=library.name if library else "", branch=branch.name if branch else "",
                                     money=words.money)
    return _pdf(data, f"receipt-{payment_id}.pdf")


@bp.post("/patrons/<card>/payments/<int:payment_id>/email")
@staff_required(*DESK_ROLES)
def receipt_email(card: str, payment_id: int) -> Any:
    patron = _patron(card)
    target = url_for("desk.patron_page", card=card) + "#payments"
    if not forms.ActionForm().validate_on_submit():
        return redirect(target)
    library = service_desk.desk_library(db.session(), _staff())
    try:
        sent = service_fees.email_receipt(db.session(), patron_id=patron.id, payment_id=payment_id, now=clock.now(),
                                          actor=_staff(), library_name=library.name if library else "")
    except DomainError as error:
        if error.code == "not-found":
            _not_found()
        db.session().rollback()
        flash(words.record_error(error), "error")
        return redirect(target)
    db.session().commit()
    flash(_("The receipt is on its way to the patron's email.") if sent else _("The receipt was already emailed."),
          "success")
    return redirect(target)


@bp.post("/patrons/<card>/loans/<int:loan_id>/lost")
@staff_required(*DESK_ROLES)
def loan_lost(card: str, loan_id: int) -> Any:
    patron = _patron(card)
    target = url_for("desk.patron_page", card=card) + "#loans"
    if not forms.ActionForm().validate_on_submit():
        return redirect(target)
    try:
        charge = service_desk.charge_lost_at_desk(db.session(), patron_id=patron.id, loan_id=loan_id,
                                                  now=clock.now(), actor=_staff())
    except DomainError:
        _not_found()
    db.session().commit()
    flash(words.item_charge_text(charge, lost=True), "success")
    return redirect(target)


@bp.post("/patrons/<card>/damaged")
@staff_required(*DESK_ROLES)
def item_damaged(card: str) -> Any:
    patron = _patron(card)
    branch = _need_branch()
    form = forms.DamagedForm()
    target = url_for("desk.patron_page", card=card) + "#fees"
    if not form.validate_on_submit():
        flash(_("Scan or type the barcode of the damaged item."), "error")
        return redirect(target)
    try:
        amount = _amount(form.amount.data, patron.id)
    except ValueError:
        flash(_("Give the amount as e.g. 5.00."), "error")
        return redirect(target)
    try:
        charge = service_desk.charge_damaged_at_desk(db.session(), patron_id=patron.id, barcode=form.barcode.data,
                                                     branch=branch, now=clock.now(), actor=_staff(), amount=amount)
    except DomainError as error:
        db.session().rollback()
        flash(_("The patron was not the last borrower of %(barcode)s.", barcode=form.barcode.data)
              if error.code == "not-found" else words.record_error(error), "error")
        return redirect(target)
    db.session().commit()
    flash(words.item_charge_text(charge, lost=False), "success")
    return redirect(target)
