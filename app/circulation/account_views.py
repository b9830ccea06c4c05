"""The patron's circulation pages ("My account" [003]): loans with renewal, holds, fines and online payment,
profile and notice settings, library cards — for herself or, explicitly and audited, for a child or an
institution she answers for (``?for=<patron id>``). Business rules live in the service; these views own
the transaction."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import clock, db, gate
from app.accounts.auth import patron_required
from app.circulation import account_forms as forms
from app.circulation import service
from app.circulation.api_json import REASONS
from app.circulation.paytrail import provider_from_config
from app.errors import DomainError
from app.platform.bodies import is_storable

bp = Blueprint("circulation_account", __name__, url_prefix="/account")
gate.declare(bp, "web_library")

PG_INT_MAX = 2**31 - 1
# Texts of the reasons only these pages give (the others are the API's, api_json.REASONS).
PAGE_REASONS: dict[str, Any] = {
    "hold_not_waiting": _l("This can be done only while the hold is waiting for a copy."),
    "hold_not_suspended": _l("The hold is not paused."),
    "suspension_date_invalid": _l("Choose a day after today and at most a year ahead."),
    "ready_hold_cancelled_by_library": _l("This hold is waiting for you on the hold shelf and can no longer be "
                                          "cancelled online. Contact the library to cancel it."),
}
FEE_KINDS: dict[str, Any] = {  # policy.FEE_KINDS, in words
    "overdue_fine": _l("Overdue fine"),
    "notice_fee": _l("Reminder fee"),
    "invoice_fee": _l("Invoicing fee"),
    "uncollected_hold": _l("Hold not picked up"),
    "interlibrary_loan": _l("Interlibrary loan"),
    "replacement_card": _l("New library card"),
    "lost_item_replacement": _l("Replacement of a lost item"),
    "damaged_item": _l("Damaged item"),
    "other": _l("Other fee"),
}
HOLD_STATES: dict[str, Any] = {
    "waiting": _l("Waiting for a copy"),
    "in_transit": _l("On its way to the pickup branch"),
    "ready": _l("Ready for pickup"),
    "cancelled": _l("Cancelled"),
    "suspended": _l("Paused"),
}
CHANNELS = (("email", "by_email"), ("sms", "by_sms"), ("letter", "by_letter"))


def reason_text(code: str | None) -> str:
    if code is None:
        return ""
    return str(PAGE_REASONS.get(code) or REASONS.get(code) or code)


def _config_int(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


class Subject:
    """Whose account a page shows: the patron's own, or a dependant's ("acting for")."""

    def __init__(self, patron_id: int, acting_for: service.Dependant | None) -> None:
        self.patron_id = patron_id
        self.acting_for = acting_for

    @property
    def query(self) -> dict[str, int]:
        return {"for": self.patron_id} if self.acting_for else {}


def subject(what: str) -> Subject:
    """The account this request is about: ``?for=<id>`` switches to a dependant (404 unless the patron answers
    for them; audited with ``what``)."""
    raw = request.args.get("for", "")
    if not raw:
        return Subject(current_user.id, None)
    if not raw.isdigit() or not 0 < int(raw) <= PG_INT_MAX:
        abort(404)
    dependant = service.act_for(db.session(), patron_id=current_user.id, dependant_id=int(raw), now=clock.now(),
                                actor=current_user, what=what)
    return Subject(dependant.patron_id, dependant)


def summary_of(patron_id: int) -> service.AccountSummary:
    return service.patron_account_summary(
        db.session(), patron_id, now=clock.now(), due_soon_days=_config_int("CIRCULATION_DUE_SOON_DAYS", 3),
        cancelled_visible_days=_config_int("CIRCULATION_CANCELLED_HOLDS_VISIBLE_DAYS", 3))


def overview(patron: Any) -> dict[str, Any] | None:
    """The "next things to do" of /account (a template global): counts, the amount owed and a ban; None when
    the patron borrows nothing from a physical library."""
    try:
        summary = summary_of(patron.id)
    except DomainError:
        return None
    return {"summary": summary, "overdue": sum(1 for line in summary.loans if line.due_state == "overdue"),
            "due_soon": sum(1 for line in summary.loans if line.due_state == "due_soon"),
            "ready": sum(1 for line in summary.holds if line.state == "ready"),
            "dependants": service.dependants(db.session(), patron.id)}


def _page(template: str, who: Subject, **context: Any) -> Any:
    return render_template(f"circulation/account/{template}", who=who,
                           dependants=service.dependants(db.session(), current_user.id),
                           reason_text=reason_text, fee_kinds=FEE_KINDS, hold_states=HOLD_STATES, **context)


def _not_borrower() -> Any:
    return render_template("circulation/account/not_borrower.html")


@bp.errorhandler(DomainError)
def _domain_error(err: DomainError) -> Any:
    """A card without borrowing rights gets a plain answer; anything else the application's error page."""
    if err.code == "not-found" and err.params.get("what") == "borrower":
        return _not_borrower()
    return current_app.error_handler_spec[None][None][DomainError](err)


# -- loans ---------------------------------------------------------------------------------------


def _renew_form(summary: service.AccountSummary) -> forms.RenewForm:
    form = forms.RenewForm()
    form.loan_id.choices = [(line.loan_id, line.title) for line in summary.loans]
    return form


@bp.get("/loans")
@patron_required
def loans() -> Any:
    who = subject("loans")
    summary = summary_of(who.patron_id)
    db.session().commit()  # the acting-for audit event
    return _page("loans.html", who, summary=summary, form=_renew_form(summary), results=None)


@bp.post("/loans/renew")
@patron_required
def renew() -> Any:
    who = subject("renew")
    summary = summary_of(who.patron_id)
    form = _renew_form(summary)
    renew_all = "renew_all" in request.form
    if not form.validate_on_submit() or (not renew_all and not form.loan_id.data):
        db.session().rollback()
        if not form.errors:
            form.loan_id.errors = [_("Choose at least one loan to renew, or renew all.")]
        return _page("loans.html", who, summary=summary, form=form, results=None), 400
    ids = None if renew_all else list(form.loan_id.data)
    results = service.renew_loans(db.session(), patron_id=who.patron_id, loan_ids=ids, now=clock.now(),
                                  actor=current_user, channel="web")
    db.session().commit()
    summary = summary_of(who.patron_id)
    titles = {line.loan_id: line.title for line in summary.loans}
    return _page("loans.html", who, summary=summary, form=_renew_form(summary),
                 results=[(titles.get(r.loan_id, r.item_barcode), r) for r in results])


# -- holds ---------------------------------------------------------------------------------------


def _holds_form(summary: service.AccountSummary) -> forms.HoldsForm:
    form = forms.HoldsForm()
    form.hold_id.choices = [(line.hold_id, line.title) for line in summary.holds]
    return form


def _holds_page(who: Subject, summary: service.AccountSummary, form: forms.HoldsForm | None = None,
                results: list[tuple[str, service.Decision]] | None = None) -> Any:
    branches = service.pickup_branches(db.session(), who.patron_id)
    return _page("holds.html", who, summary=summary, form=form or _holds_form(summary), results=results,
                 branches=branches)


@bp.get("/holds")
@patron_required
def holds() -> Any:
    who = subject("holds")
    summary = summary_of(who.patron_id)
    db.session().commit()
    return _holds_page(who, summary)


@bp.post("/holds/cancel")
@patron_required
def cancel_holds() -> Any:
    who = subject("cancel holds")
    summary = summary_of(who.patron_id)
    form = _holds_form(summary)
    if not form.validate_on_submit() or not form.hold_id.data:
        db.session().rollback()
        if not form.errors:
            form.hold_id.errors = [_("Choose at least one hold to cancel.")]
        return _holds_page(who, summary, form), 400
    titles = {line.hold_id: line.title for line in summary.holds}
    results = [(titles[hold_id], service.cancel_hold(db.session(), hold_id, by="patron", patron_id=who.patron_id,
                                                     now=clock.now(), actor=current_user))
               for hold_id in form.hold_id.data]
    db.session().commit()
    return _holds_page(who, summary_of(who.patron_id), results=results)


@bp.post("/holds/<int:hold_id>/pickup")
@patron_required
def change_pickup(hold_id: int) -> Any:
    who = subject("change pickup branch")
    form = forms.PickupForm()
    form.branch.choices = service.pickup_branches(db.session(), who.patron_id)
    if not form.validate_on_submit():
        db.session().rollback()
        flash(_("Choose a pickup branch from the list."), "error")
        return redirect(url_for(".holds", **who.query))
    decision = service.change_hold_pickup(db.session(), hold_id, patron_id=who.patron_id, branch_code=form.branch.data,
                                          now=clock.now(), actor=current_user)
    if decision.allowed:
        db.session().commit()
        flash(_("The pickup branch was changed."), "success")
    else:
        db.session().rollback()
        flash(reason_text(decision.reason), "error")
    return redirect(url_for(".holds", **who.query))


@bp.post("/holds/<int:hold_id>/pause")
@patron_required
def pause_hold(hold_id: int) -> Any:
    who = subject("pause hold")
    form = forms.SuspendForm()
    if not form.validate_on_submit():
        db.session().rollback()
        flash(_("Give the day as a date, such as 2027-01-31."), "error")
        return redirect(url_for(".holds", **who.query))
    decision = service.suspend_hold(db.session(), hold_id, patron_id=who.patron_id, until=form.until.data,
                                    now=clock.now(), actor=current_user)
    return _hold_change_done(who, decision, _("The hold is paused."))


@bp.post("/holds/<int:hold_id>/resume")
@patron_required
def resume_hold(hold_id: int) -> Any:
    who = subject("resume hold")
    if not forms.PayForm().validate_on_submit():  # the CSRF token only
        abort(400)
    decision = service.resume_hold(db.session(), hold_id, patron_id=who.patron_id, now=clock.now(),
                                   actor=current_user)
    return _hold_change_done(who, decision, _("The hold waits for a copy again, in its old place in the queue."))


def _hold_change_done(who: Subject, decision: service.Decision, done: str) -> Any:
    if decision.allowed:
        db.session().commit()
        flash(done, "success")
    else:
        db.session().rollback()
        flash(reason_text(decision.reason), "error")
    return redirect(url_for(".holds", **who.query))


# -- fines and payments --------------------------------------------------------------------------


@bp.get("/fines")
@patron_required
def fines() -> Any:
    who = subject("fines")
    summary = summary_of(who.patron_id)
    db.session().commit()
    return _page("fines.html", who, summary=summary, fees=service.fee_lines(db.session(), who.patron_id),
                 payments=service.payment_history(db.session(), who.patron_id), form=forms.PayForm())


@bp.post("/fines/pay")
@patron_required
@gate.component("online_payment")
def pay() -> Any:
    form = forms.PayForm()
    if not form.validate_on_submit():
        abort(400)
    base = current_app.config["BASE_URL"].rstrip("/") or request.host_url.rstrip("/")
    result = service.start_online_payment(
        db.session(), patron_id=current_user.id, provider=provider_from_config(current_app.config),
        return_url=f"{base}{url_for('.payment_return')}",
        callback_url=f"{base}/api/v1/circulation/payments/paytrail/callback", now=clock.now(), actor=current_user,
        language=current_user.language or "fi")
    if result.payment is None:
        db.session().rollback()
        flash(reason_text(result.decision.reason), "error")
        return redirect(url_for(".fines"))
    db.session().commit()
    return redirect(str(result.href), code=303)


@bp.get("/fines/paid")
@gate.always_open
def payment_return() -> Any:
    """The browser back from the payment provider: the signed parameters book the payment (once, whichever of
    this and the provider's callback comes first) and the receipt is shown. No login needed: the signature
    is the proof; the page shows only the amount and the receipt number."""
    params = {key: value for key, value in request.args.items() if key.startswith("checkout-") or key == "signature"}
    try:
        result = service.book_online_payment(db.session(), params, provider=provider_from_config(current_app.config),
                                             now=clock.now())
    except DomainError as err:
        if err.code != "invalid-signature":
            raise
        db.session().rollback()
        return render_template("circulation/account/paid.html", payment=None, outcome="invalid"), 400
    if result.payment is not None and result.outcome in ("booked", "already_booked"):
        service.enqueue_payment_receipt(db.session(), result.payment.id, now=clock.now())
    db.session().commit()
    line = (service.payment_of_patron(db.session(), result.payment.patron_id, result.payment.id)
            if result.payment is not None else None)
    return render_template("circulation/account/paid.html", payment=line, outcome=result.outcome)


# -- profile -------------------------------------------------------------------------------------


def _profile_page(profile: service.Profile, contact: forms.ContactForm, notices: forms.NoticeForm) -> Any:
    return _page("profile.html", Subject(current_user.id, None), profile=profile, contact=contact, notices=notices,
                 channel_labels={"email": _("email"), "sms": _("text message"), "letter": _("letter")})


def _notice_form(profile: service.Profile, data: Any = None) -> forms.NoticeForm:
    form = forms.NoticeForm(formdata=data)
    if data is None:
        form.by_email.data = "email" in profile.notice_channels
        form.by_sms.data = "sms" in profile.notice_channels
        form.by_letter.data = "letter" in profile.notice_channels
        form.advance_notice_days.data = profile.advance_notice_days
        form.receipts_by_email.data = profile.receipts_by_email
        form.hold_nickname.data = profile.hold_nickname or ""
    return form


@bp.get("/profile")
@patron_required
def profile() -> Any:
    data = service.profile_of(db.session(), current_user.id)
    contact = forms.ContactForm(formdata=None, email=data.email, phone=data.phone)
    return _profile_page(data, contact, _notice_form(data))


@bp.post("/profile/contact")
@patron_required
def save_contact() -> Any:
    data = service.profile_of(db.session(), current_user.id)
    form = forms.ContactForm()
    if not form.validate_on_submit() or not all(is_storable(v or "") for v in (form.email.data, form.phone.data)):
        if not form.errors:
            form.phone.errors = [_("The text holds a character that cannot be saved.")]
        return _profile_page(data, form, _notice_form(data)), 400
    service.update_contact(db.session(), current_user.id, email=(form.email.data or "").strip(),
                           phone=(form.phone.data or "").strip(), now=clock.now(), actor=current_user)
    db.session().commit()
    flash(_("Your contact details are saved."), "success")
    return redirect(url_for(".profile"))


@bp.post("/profile/notices")
@patron_required
def save_notices() -> Any:
    data = service.profile_of(db.session(), current_user.id)
    form = _notice_form(data, request.form)
    if not form.validate_on_submit() or not is_storable(form.hold_nickname.data or ""):
        if not form.errors:
            form.hold_nickname.errors = [_("The text holds a character that cannot be saved.")]
        return _notices_refused(data, form)
    days = form.advance_notice_days.data
    channels = [code for code, name in CHANNELS if getattr(form, name).data]
    try:  # the service knows the preset's range of reminder days; the page only words its refusal
        service.set_notice_preferences(db.session(), current_user.id, now=clock.now(), actor=current_user,
                                       notice_channels=channels, advance_notice_days=days,
                                       clear_advance_notice=days is None,
                                       receipts_by_email=form.receipts_by_email.data,
                                       hold_nickname=form.hold_nickname.data or "")
    except DomainError as err:
        if err.code != "advance-notice-days-invalid":
            raise
        db.session().rollback()
        allowed = err.params.get("allowed") or []
        form.advance_notice_days.errors = [
            _("Choose a number from %(low)s to %(high)s.", low=allowed[0], high=allowed[1]) if allowed
            else _("Your library sends no due-date reminders you can choose.")]
        return _notices_refused(data, form)
    db.session().commit()
    flash(_("Your notice settings are saved."), "success")
    return redirect(url_for(".profile"))


def _notices_refused(data: Any, form: Any) -> Any:
    """The profile page again with the notice form's errors (the contact form as stored)."""
    return _profile_page(data, forms.ContactForm(formdata=None, email=data.email, phone=data.phone), form), 400


# -- cards ---------------------------------------------------------------------------------------


@bp.get("/cards")
@patron_required
def cards() -> Any:
    data = service.profile_of(db.session(), current_user.id)
    library = service.library_of_patron(db.session(), current_user.id)
    return _page("cards.html", Subject(current_user.id, None), profile=data, library=library)
