"""The patron's circulation pages ("My account" [003]): loans with renewal, holds, fines and online payment,
profile and notice settings, library cards — for herself or, explicitly and audited, for a child or an
institution she answers for (``?for=<patron id>``). Business rules live in the service; these views own
the transaction."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_translations
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import clock, db, gate
from app.accounts.auth import patron_required
from app.circulation import account_forms as forms
from app.circulation import account_loans, service, service_account
from app.circulation import service_requests as requests
from app.circulation.api_json import REASONS
from app.circulation.desk import stack_requests as desk_stack_requests
from app.circulation.paytrail import provider_from_config
from app.errors import DomainError
from app.platform.bodies import is_storable
from app.security import CSP

bp = Blueprint("circulation_account", __name__, url_prefix="/account")
gate.declare(bp, "web_library")
# The desk's list of stack retrieval requests, registered with these pages (it serves their requests).
bp.record_once(lambda state: state.app.register_blueprint(desk_stack_requests.bp))

PG_INT_MAX = 2**31 - 1
# Texts of the reasons only these pages give (the others are the API's, api_json.REASONS).
PAGE_REASONS: dict[str, Any] = {
    "hold_not_waiting": _l("This can be done only while the hold is waiting for a copy."),
    "hold_not_suspended": _l("The hold is not paused."),
    "suspension_date_invalid": _l("Choose a day after today and at most a year ahead."),
    "ready_hold_cancelled_by_library": _l("This hold is waiting for you on the hold shelf and can no longer be "
                                          "cancelled online. Contact the library to cancel it."),
    "already_requested": _l("You have already asked for this title from the closed stacks."),
    "already_on_loan": _l("You already have this title on loan."),
    "no_stack_copy": _l("No copy of this title can be fetched from the closed stacks now."),
    "stack_request_not_cancellable": _l("The library is already fetching this copy or it waits for you: contact "
                                        "the library to cancel the request."),
}
STACK_STATES: dict[str, Any] = {
    "requested": _l("Requested"),
    "processing": _l("Being processed"),
    "ready": _l("Ready for pickup"),
    "cancelled": _l("Cancelled"),
    "collected": _l("Collected"),
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
    "item_processing": _l("Processing fee (lost or damaged item)"),
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
                           reason_text=reason_text, fee_kinds=FEE_KINDS, hold_states=HOLD_STATES,
                           stack_states=STACK_STATES, **context)


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


def _loans_page(who: Subject, summary: service.AccountSummary, form: forms.RenewForm, results: Any) -> Any:
    """The loans page: the library's loans and, for the patron herself, her loans from the other lending
    services (audiobooks, registered by those domains in ``account_loans``), all in one list by due date."""
    others = [] if who.acting_for else account_loans.other_loans(current_app, db.session(), who.patron_id,
                                                                 clock.now())
    rows = account_loans.merged(summary.loans, others, now=clock.now(),
                                due_soon_days=_config_int("CIRCULATION_DUE_SOON_DAYS", 3))
    # Texts every row repeats, looked up once per page rather than once per row (a patron may have a hundred
    # loans): the translations object, and each distinct due date written once.
    translations = get_translations()
    date_text = current_app.jinja_env.filters["date"]
    due_dates: dict[Any, str] = {}
    for row in rows:
        if row.due_at.date() not in due_dates:
            due_dates[row.due_at.date()] = date_text(row.due_at)
    texts = {"renew": translations.gettext("Renew %(title)s"), "of": translations.gettext("%(done)s of %(max)s")}
    return _page("loans.html", who, summary=summary, form=form, results=results, rows=rows, texts=texts,
                 due_dates=due_dates)


@bp.get("/loans")
@patron_required
def loans() -> Any:
    who = subject("loans")
    summary = summary_of(who.patron_id)
    db.session().commit()  # the acting-for audit event
    return _loans_page(who, summary, _renew_form(summary), None)


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
        return _loans_page(who, summary, form, None), 400
    ids = None if renew_all else list(form.loan_id.data)
    results = service_account.renew_loans_at_once(db.session(), patron_id=who.patron_id, loan_ids=ids,
                                                  now=clock.now(), actor=current_user, channel="web")
    db.session().commit()
    summary = summary_of(who.patron_id)
    titles = {line.loan_id: line.title for line in summary.loans}
    return _loans_page(who, summary, _renew_form(summary),
                       [(titles.get(r.loan_id, r.item_barcode), r) for r in results])


# -- holds ---------------------------------------------------------------------------------------


def _holds_form(summary: service.AccountSummary) -> forms.HoldsForm:
    form = forms.HoldsForm()
    form.hold_id.choices = [(line.hold_id, line.title) for line in summary.holds]
    return form


def _holds_page(who: Subject, summary: service.AccountSummary, form: forms.HoldsForm | None = None,
                results: list[tuple[str, service.Decision]] | None = None) -> Any:
    branches = service.pickup_branches(db.session(), who.patron_id)
    stack = requests.patron_stack_requests(
        db.session(), who.patron_id, now=clock.now(),
        cancelled_visible_days=_config_int("CIRCULATION_CANCELLED_HOLDS_VISIBLE_DAYS", 3))
    return _page("holds.html", who, summary=summary, form=form or _holds_form(summary), results=results,
                 branches=branches, stack_requests=stack)


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


# -- stack retrieval requests [003] -------------------------------------------------------------


@bp.app_template_global("stack_request_offer")
def stack_request_offer(record: Any) -> requests.StackOffer | None:
    """For the catalogue's record page (``circulation/account/_stack_request.html``): what the logged-in
    patron may request of the record from her library's closed stacks; None for anyone else."""
    key = getattr(record, "record_key", None)
    if not key or not current_user.is_authenticated or getattr(current_user, "is_staff", True):
        return None
    return requests.stack_offer(db.session(), current_user.id, key)


@bp.app_template_global("stack_states_text")
def stack_states_text(state: str) -> str:
    return str(STACK_STATES.get(state, state))


@bp.post("/stack-requests")
@patron_required
def request_from_stacks() -> Any:
    form = forms.StackRequestForm()
    if not form.validate_on_submit() or not is_storable(form.record_key.data or ""):
        db.session().rollback()
        flash(_("The request could not be sent. Try again from the title's page."), "error")
        return redirect(url_for(".holds"))
    decision, _request = requests.request_from_stacks(db.session(), patron_id=current_user.id,
                                                      record_key=form.record_key.data, now=clock.now(),
                                                      actor=current_user)
    if decision.allowed:
        db.session().commit()
        flash(_("Your request was sent: the library fetches the copy from the closed stacks. Follow it here."),
              "success")
    else:
        db.session().rollback()
        flash(_("The request was not sent.") + " " + reason_text(decision.reason), "error")
    return redirect(url_for(".holds", _anchor="stack-title"))


@bp.post("/stack-requests/<int:request_id>/cancel")
@patron_required
def cancel_stack_request(request_id: int) -> Any:
    who = subject("cancel stack request")
    if request_id > PG_INT_MAX or not forms.PayForm().validate_on_submit():  # the CSRF token only
        abort(400 if request_id <= PG_INT_MAX else 404)
    decision = requests.cancel_stack_request(db.session(), request_id, patron_id=who.patron_id, now=clock.now(),
                                             actor=current_user)
    return _hold_change_done(who, decision, _("The request was cancelled."))


# -- fines and payments --------------------------------------------------------------------------


@bp.get("/fines")
@patron_required
def fines() -> Any:
    who = subject("fines")
    summary = summary_of(who.patron_id)
    db.session().commit()
    page = make_response(_page("fines.html", who, summary=summary, fees=service.fee_lines(db.session(), who.patron_id),
                               payments=service.payment_history(db.session(), who.patron_id), form=forms.PayForm()))
    # "Pay online" posts here and is redirected to the provider's hosted page: browsers hold a redirect after
    # a form to the page's form-action, so this page (only) lets its forms lead to an https origin.
    # (The provider's own origin too: a test's local fake serves its hosted page over http on loopback.)
    api = urlsplit(str(current_app.config.get("PAYTRAIL_API_URL", "https://services.paytrail.com")))
    page.headers["Content-Security-Policy"] = CSP.replace(
        "form-action 'self'", f"form-action 'self' https: {api.scheme}://{api.netloc}" if api.netloc else
        "form-action 'self' https:")
    return page


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


def _contact_form(data: service.Profile) -> forms.ContactForm:
    return forms.ContactForm(formdata=None, email=data.email, phone=data.phone, postal_address=data.postal_address)


@bp.get("/profile")
@patron_required
def profile() -> Any:
    data = service.profile_of(db.session(), current_user.id)
    return _profile_page(data, _contact_form(data), _notice_form(data))


@bp.post("/profile/contact")
@patron_required
def save_contact() -> Any:
    data = service.profile_of(db.session(), current_user.id)
    form = forms.ContactForm()
    texts = (form.email.data, form.phone.data, form.postal_address.data)
    if not form.validate_on_submit() or not all(is_storable(v or "") for v in texts):
        if not form.errors:
            form.phone.errors = [_("The text holds a character that cannot be saved.")]
        return _profile_page(data, form, _notice_form(data)), 400
    # The address only where the preset lets the patron change it (the field is not shown otherwise).
    address = ("\n".join(line.strip() for line in (form.postal_address.data or "").splitlines() if line.strip())
               if data.may_change_address else None)
    service.update_contact(db.session(), current_user.id, email=(form.email.data or "").strip(),
                           phone=(form.phone.data or "").strip(), now=clock.now(), actor=current_user,
                           postal_address=address)
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
    return _profile_page(data, _contact_form(data), form), 400


# -- cards ---------------------------------------------------------------------------------------


from app.circulation import cards_forms, service_cards  # noqa: E402  (this section's own)

CARD_STATES: dict[str, Any] = {
    "active": _l("In use"),
    "lost": _l("Reported lost: blocked"),
    "expired": _l("Expired"),
    "replaced": _l("Replaced by a new card"),
}


def _cards_page(lost_form: cards_forms.CardLostForm | None = None, confirm: int | None = None) -> Any:
    """The account's cards; with ``confirm``, the step that asks whether that card really is lost."""
    lines = service_cards.patron_cards(db.session(), current_user.id, now=clock.now())
    if confirm is not None and not any(c.card_id == confirm and c.status == "active" for c in lines):
        abort(404)
    page = _page("cards.html", Subject(current_user.id, None), cards=lines, card_states=CARD_STATES,
                 confirm=confirm, lost_form=lost_form or cards_forms.CardLostForm(),
                 replacement_fee=service_cards.replacement_fee(db.session(), current_user.id))
    db.session().commit()  # the primary card's row, made the first time the cards are looked at
    return page


@bp.get("/cards")
@patron_required
def cards() -> Any:
    return _cards_page()


@bp.get("/cards/<int:card_id>/lost")
@patron_required
def confirm_card_lost(card_id: int) -> Any:
    return _cards_page(confirm=card_id)


@bp.post("/cards/<int:card_id>/lost")
@patron_required
def card_lost(card_id: int) -> Any:
    form = cards_forms.CardLostForm()
    if not form.validate_on_submit():
        db.session().rollback()
        return _cards_page(form, confirm=card_id), 400
    try:
        decision = service_cards.report_card_lost(db.session(), current_user.id, card_id, now=clock.now(),
                                                  actor=current_user)
    except DomainError as err:
        if err.code != "not-found" or err.params.get("what") != "card":
            raise
        abort(404)
    if not decision.allowed:
        db.session().rollback()
        flash(_("This card is not in use, so there is nothing to block."), "error")
        return redirect(url_for(".cards"))
    db.session().commit()
    flash(_("The card is blocked: nobody can borrow or log in with it any more. Get a new card at the library "
            "desk."), "success")
    return redirect(url_for(".cards"))


from app.circulation import account_history  # noqa: E402,F401  (the loan history pages, on this blueprint)

# The desk's cards page (routes on the desk blueprint); imported here, after the models are complete — from
# app/circulation/desk/__init__.py it would run while circulation.models is still importing the desk's models.
from app.circulation.desk import cards as desk_cards  # noqa: E402,F401
