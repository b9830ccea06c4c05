"""JSON API of the circulation core: desk operations for library systems (staff bearer token),
the patron's own account, renewals, holds and online payment (reader-app device token), and the
payment provider's signed return and callback."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g
from flask_babel import gettext as _
from pydantic import BaseModel

from app import clock, db, gate
from app.accounts.auth import api_patron_or_session, api_staff
from app.circulation import api_json, schemas, service
from app.circulation.money import Money
from app.circulation.paytrail import provider_from_config
from app.errors import DomainError, validation_problem
from app.platform.bodies import is_storable
from app.platform.contract import MESSAGES, Reply, operation

bp = Blueprint("circulation_api", __name__, url_prefix="/api/v1/circulation")
patron_bp = Blueprint("circulation_patron_api", __name__, url_prefix="/api/v1/circulation/me")
gate.declare(patron_bp, "web_library")

DESK, MINE, PAYMENTS = ["circulation desk"], ["circulation: my account"], ["payments"]
UNKNOWN = "No patron with this card number, no item with this barcode, or no such branch (`what` says which)"
NOT_BORROWER = "You are not a borrower of a library in Kuulo"
AMBIGUOUS = "Field errors (`errors`), or `type` …/branch-ambiguous: a bare branch code that several libraries use"
CALENDAR = "`type` …/calendar-missing: the branch has no opening-hours calendar yet"


def refusals(model: type[BaseModel], reasons: tuple[str, ...], also: str = "") -> Reply:
    """The documented 409 of an operation: the refusals it can give (``model`` validates them), and ``also``."""
    text = f"Refused: `type` …/circulation-<reason>, `reason` one of {', '.join(reasons)}; `details` has the numbers"
    return Reply(text + (f" — or {also}" if also else ""), model, content_type="application/problem+json")


def _patron_id(card_number: str) -> int:
    return service.patron_of_card(db.session(), card_number).id


def _summary(patron_id: int) -> service.AccountSummary:
    config = current_app.config
    return service.patron_account_summary(
        db.session(), patron_id, now=clock.now(), due_soon_days=int(config.get("CIRCULATION_DUE_SOON_DAYS", 3)),
        cancelled_visible_days=int(config.get("CIRCULATION_CANCELLED_HOLDS_VISIBLE_DAYS", 3)))


def _unsafe_card(card_number: str) -> Response | None:
    """A card number in the path that no database can hold (a NUL byte): 422 naming it, not a driver error."""
    if is_storable(card_number):
        return None
    return validation_problem({"card_number": [str(MESSAGES["unsafe_text"])]})


# -- desk (staff bearer token) -----------------------------------------------------------------


@bp.post("/checkouts")
@api_staff("librarian", "circulation")
@operation("Lend an item at a desk or self-service station", tags=DESK, body=schemas.CheckoutRequest,
           responses={201: (schemas.LoanMade, "Lent: the due time"), 404: UNKNOWN, 422: AMBIGUOUS,
                      409: refusals(schemas.CheckoutConflict, schemas.CHECKOUT_REASONS, CALENDAR)})
def checkout(body: schemas.CheckoutRequest) -> Any:
    result = service.checkout(db.session(), patron_id=_patron_id(body.card_number), item_barcode=body.item_barcode,
                              branch=body.branch, channel=body.channel, now=clock.now(), actor=g.api_user)
    if result.loan is None:
        return api_json.refusal(result.decision, schemas.CheckoutConflict)
    db.session().commit()
    return schemas.LoanMade(loan_id=result.loan.id, barcode=body.item_barcode,
                            due_at=result.decision.details["due_at"])


@bp.post("/renewals")
@api_staff("librarian", "circulation")
@operation("Renew a patron's loans (all, or the listed ones); one answer per item", tags=DESK,
           body=schemas.DeskRenewalRequest,
           responses={200: (schemas.Renewals, "Per-item results: renewed, or refused with a `reason`"),
                      404: "No patron with this card number, or a listed loan is not the patron's open loan",
                      409: CALENDAR})
def renew_for_patron(body: schemas.DeskRenewalRequest) -> Any:
    results = service.renew_loans(db.session(), patron_id=_patron_id(body.card_number), loan_ids=body.loan_ids,
                                  now=clock.now(), actor=g.api_user, channel="desk")
    db.session().commit()
    return api_json.renewals(results)


@bp.post("/checkins")
@api_staff("librarian", "circulation")
@operation("Return an item at any branch of its consortium; book-drop returns are dated to the next opening day",
           tags=DESK, body=schemas.CheckinRequest,
           responses={200: (schemas.CheckinDone, "Returned and routed (shelf, hold_shelf, transit)"),
                      404: "No item with this barcode, or no such branch", 422: AMBIGUOUS,
                      409: refusals(schemas.CheckinConflict, schemas.CHECKIN_REASONS, CALENDAR)})
def checkin(body: schemas.CheckinRequest) -> Any:
    result = service.checkin(db.session(), item_barcode=body.item_barcode, branch=body.branch,
                             book_drop=body.book_drop, now=clock.now(), actor=g.api_user)
    if not result.decision.allowed:
        return api_json.refusal(result.decision, schemas.CheckinConflict)
    db.session().commit()
    return api_json.checkin(result)


HOLD_PROBLEMS: dict[int, Any] = {
    422: "Field errors (`errors`; `record_key` when neither record_key nor item_barcode is given), or "
         "`type` …/branch-ambiguous",
    409: refusals(schemas.HoldRefused, schemas.HOLD_REASONS)}


@bp.post("/holds")
@api_staff("librarian", "circulation")
@operation("Place a hold for a patron", tags=DESK, body=schemas.DeskHoldRequest, responses={
    201: (schemas.HoldPlaced, "Hold placed"), 404: UNKNOWN + ", or no copy of the title",
    **HOLD_PROBLEMS})
def place_hold_for_patron(body: schemas.DeskHoldRequest) -> Any:
    return _place_hold(_patron_id(body.card_number), body, g.api_user)


@bp.delete("/holds/<int:hold_id>")
@api_staff("librarian", "circulation")
@operation("Cancel a hold (library: also one waiting on the shelf, free of charge)", tags=DESK, responses={
    204: Reply("Cancelled"),
    409: refusals(schemas.LibraryCancelRefused, schemas.LIBRARY_CANCEL_REASONS)})
def cancel_hold_by_library(hold_id: int) -> Any:
    decision = service.cancel_hold(db.session(), hold_id, by="library", now=clock.now(), actor=g.api_user)
    if not decision.allowed:
        return api_json.refusal(decision, schemas.LibraryCancelRefused)
    db.session().commit()
    return Response(status=204)


@bp.get("/patrons/<card_number>/account")
@api_staff("librarian", "circulation")
@operation("A patron's loans, holds, fees and ban state", tags=DESK, responses={
    200: (schemas.AccountSummary, "The account"), 404: "No patron with this card number, or not a borrower",
    422: "The card number holds a character that cannot be stored (`errors` names card_number)"})
def patron_account(card_number: str) -> Any:
    if (unsafe := _unsafe_card(card_number)) is not None:
        return unsafe
    return api_json.summary(_summary(_patron_id(card_number)))


@bp.post("/patrons/<card_number>/payments")
@api_staff("librarian", "circulation")
@operation("Record a payment at the desk", tags=DESK, body=schemas.DeskPaymentRequest, responses={
    201: (schemas.DeskPaid, "Paid: allocated to the oldest fees first"),
    404: "No patron with this card number, or not a borrower",
    422: "Field errors (`errors`: `amount` not an amount of the library's currency, or `card_number`), or "
         "`type` …/invalid-amount: not more than zero"})
def desk_payment(card_number: str, body: schemas.DeskPaymentRequest) -> Any:
    if (unsafe := _unsafe_card(card_number)) is not None:
        return unsafe
    patron_id = _patron_id(card_number)
    currency = service.currency_of(db.session(), patron_id)
    try:
        amount = Money.parse(body.amount, currency)
    except ValueError:
        return validation_problem({"amount": [_("An amount such as 5.00.")]})
    payment = service.pay_at_desk(db.session(), patron_id=patron_id, amount=amount, now=clock.now(), actor=g.api_user)
    db.session().commit()
    return schemas.DeskPaid(payment_id=payment.id, amount=api_json.money(amount))


# -- the patron's own account (device token) ---------------------------------------------------


@patron_bp.get("/account")
@api_patron_or_session
@operation("My account: loans (due soon / overdue), holds with queue position, fees, ban state", tags=MINE,
           responses={200: (schemas.AccountSummary, "The account"), 404: NOT_BORROWER})
def my_account() -> Any:
    return api_json.summary(_summary(g.api_patron.id))


@patron_bp.post("/renewals")
@api_patron_or_session
@operation("Renew my loans (all, or the listed ones); one answer per item", tags=MINE, body=schemas.RenewalRequest,
           body_required=False, description="No body, or no `loan_ids`: every loan is renewed that can be.",
           responses={200: (schemas.Renewals, "Per-item results: renewed, or refused with a `reason`"),
                      404: NOT_BORROWER + ", or a listed loan is not your open loan", 409: CALENDAR})
def my_renewals(body: schemas.RenewalRequest) -> Any:
    results = service.renew_loans(db.session(), patron_id=g.api_patron.id, loan_ids=body.loan_ids, now=clock.now(),
                                  actor=g.api_patron, channel="web")
    db.session().commit()
    return api_json.renewals(results)


@patron_bp.get("/holds")
@api_patron_or_session
@operation("My holds (cancelled ones stay listed for a few days)", tags=MINE,
           responses={200: (schemas.Holds, "The holds"), 404: NOT_BORROWER})
def my_holds() -> Any:
    return schemas.Holds(holds=[api_json.hold(line) for line in _summary(g.api_patron.id).holds])


@patron_bp.post("/holds")
@api_patron_or_session
@operation("Place a hold (pickup at my home branch unless chosen)", tags=MINE, body=schemas.HoldRequest, responses={
    201: (schemas.HoldPlaced, "Hold placed"), 404: NOT_BORROWER + ", no such title, item or branch",
    **HOLD_PROBLEMS})
def my_new_hold(body: schemas.HoldRequest) -> Any:
    return _place_hold(g.api_patron.id, body, g.api_patron)


@patron_bp.delete("/holds/<int:hold_id>")
@api_patron_or_session
@operation("Cancel my hold (not one waiting for pickup: ask the library)", tags=MINE, responses={
    204: Reply("Cancelled"),
    409: refusals(schemas.PatronCancelRefused, schemas.PATRON_CANCEL_REASONS)})
def my_cancelled_hold(hold_id: int) -> Any:
    decision = service.cancel_hold(db.session(), hold_id, by="patron", patron_id=g.api_patron.id, now=clock.now(),
                                   actor=g.api_patron)
    if not decision.allowed:
        return api_json.refusal(decision, schemas.PatronCancelRefused)
    db.session().commit()
    return Response(status=204)


# Functions (session, record id) -> record key or None, added by a catalogue (circulation imports none).
RECORD_RESOLVERS: list[Callable[[Any, int], str | None]] = []


def add_record_resolver(resolver: Callable[[Any, int], str | None]) -> None:
    if resolver not in RECORD_RESOLVERS:
        RECORD_RESOLVERS.append(resolver)


def record_key_of(record_id: int) -> str:
    """The record key of a catalogue record (404 when no catalogue knows the id)."""
    key = next((k for resolve in RECORD_RESOLVERS if (k := resolve(db.session(), record_id))), None)
    if key is None:
        raise DomainError("not-found", 404, what="record", record_id=record_id)
    return key


def _record_key(body: schemas.HoldRequest) -> str | None:
    if body.record_id is None:
        return body.record_key or None
    return record_key_of(body.record_id)


def _place_hold(patron_id: int, body: schemas.HoldRequest, actor: Any) -> Any:
    if not body.record_key and not body.item_barcode and body.record_id is None:
        return validation_problem({"record_key": [_("Give record_key, item_barcode or record_id.")]})
    result = service.place_hold(db.session(), patron_id=patron_id, record_key=_record_key(body),
                                item_barcode=body.item_barcode or None, pickup_branch=body.pickup_branch or None,
                                now=clock.now(), actor=actor)
    if result.hold is None:
        return api_json.refusal(result.decision, schemas.HoldRefused)
    db.session().commit()
    return schemas.HoldPlaced(hold_id=result.hold.id, state=result.hold.state,
                        queue_position=result.decision.details.get("queue_position"))


@patron_bp.post("/payments")
@api_patron_or_session
@gate.component("online_payment")
@operation("Start paying my whole payable balance online; returns the payment page (href)", tags=PAYMENTS,
           responses={201: (schemas.PaymentStarted, "Go to href"), 404: NOT_BORROWER,
                      409: refusals(schemas.PaymentRefused, schemas.PAYMENT_REASONS),
                      503: "`type` …/payment-provider-unavailable: the payment provider cannot be reached (`detail` "
                           "says why; nothing was kept, try again later); or online payment is closed for a "
                           "maintenance break, or the database cannot be reached (Retry-After)"})
def my_online_payment() -> Any:
    base = current_app.config["BASE_URL"].rstrip("/")
    result = service.start_online_payment(
        db.session(), patron_id=g.api_patron.id, provider=provider_from_config(current_app.config),
        return_url=f"{base}/api/v1/circulation/payments/paytrail/return",
        callback_url=f"{base}/api/v1/circulation/payments/paytrail/callback", now=clock.now(), actor=g.api_patron,
        language=g.api_patron.language or "fi")
    if result.payment is None:
        return api_json.refusal(result.decision, schemas.PaymentRefused)
    db.session().commit()
    return schemas.PaymentStarted(payment_id=result.payment.id, href=result.href,
                            amount=api_json.money(Money(result.payment.amount_minor, result.payment.currency)),
                            allowed=True, reason=None, details=api_json.details(result.decision.details))


# -- the payment provider (signed parameters, no token) ----------------------------------------

BAD_SIGNATURE = ("`type` …/invalid-signature: the signature does not match the parameters (tampered, unsigned, "
                 "another merchant or a parameter missing)")
SIGNED = ("Called with Paytrail's signed `checkout-*` parameters and `signature`; no token. The payment is booked "
          "once, whichever of the return and the callback comes first.")


def _book(query: schemas.PaytrailQuery) -> service.BookingResult:
    result = service.book_online_payment(db.session(), query.params(),
                                         provider=provider_from_config(current_app.config), now=clock.now())
    if result.payment is not None and result.outcome in ("booked", "already_booked"):
        service.enqueue_payment_receipt(db.session(), result.payment.id, now=clock.now())  # once: keyed
    return result


@bp.get("/payments/paytrail/callback")
@gate.always_open
@operation("Paytrail's server-to-server callback: books the payment once", tags=PAYMENTS, query=schemas.PaytrailQuery,
           security=(), description=SIGNED,
           responses={200: (schemas.PaymentOutcome, "Handled (also when already booked)"), 401: BAD_SIGNATURE})
def paytrail_callback(query: schemas.PaytrailQuery) -> Any:
    outcome = _book(query).outcome
    db.session().commit()
    return schemas.PaymentOutcome(outcome=outcome)


@bp.get("/payments/paytrail/return")
@gate.always_open
@operation("The patron's browser returning from Paytrail: books the payment once and redirects", tags=PAYMENTS,
           query=schemas.PaytrailQuery, security=(), description=SIGNED,
           responses={303: Reply("To the account page (CIRCULATION_PAYMENT_DONE_URL) with ?payment=<outcome>",
                                 headers=("Location",)), 401: BAD_SIGNATURE})
def paytrail_return(query: schemas.PaytrailQuery) -> Any:
    outcome = _book(query).outcome
    db.session().commit()
    target = current_app.config.get("CIRCULATION_PAYMENT_DONE_URL", "/")
    return Response(status=303, headers={"Location": f"{target}?{urlencode({'payment': outcome})}"})


from app.circulation import api_me  # noqa: E402,F401  (more `me` endpoints, on patron_bp)
