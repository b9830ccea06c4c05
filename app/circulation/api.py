"""JSON API of the circulation core: desk operations for library systems (staff bearer token),
the patron's own account, renewals, holds and online payment (reader-app device token), and the
payment provider's signed return and callback."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, g, jsonify, redirect, request

from app import clock, db, gate
from app.accounts.auth import api_patron, api_staff
from app.circulation import service
from app.circulation.api_json import (
    checkin_json,
    decision_json,
    money_json,
    refusal,
    renewal_json,
    summary_json,
)
from app.circulation.api_openapi import describe
from app.circulation.money import Money
from app.circulation.paytrail import provider_from_config
from app.errors import validation_problem

bp = Blueprint("circulation_api", __name__, url_prefix="/api/v1/circulation")
patron_bp = Blueprint("circulation_patron_api", __name__, url_prefix="/api/v1/circulation/me")
gate.declare(patron_bp, "web_library")


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _required(data: dict[str, Any], *names: str) -> dict[str, list[str]]:
    return {name: ["This field is required."] for name in names if not isinstance(data.get(name), str)
            or not data[name].strip()}


def _loan_ids(data: dict[str, Any]) -> list[int] | None:
    ids = data.get("loan_ids")
    if ids is None:
        return None
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ValueError("loan_ids")
    return ids


def _patron_id(card_number: str) -> int:
    return service.patron_of_card(db.session(), card_number).id


def _summary(patron_id: int) -> service.AccountSummary:
    config = current_app.config
    return service.patron_account_summary(
        db.session(), patron_id, now=clock.now(), due_soon_days=int(config.get("CIRCULATION_DUE_SOON_DAYS", 3)),
        cancelled_visible_days=int(config.get("CIRCULATION_CANCELLED_HOLDS_VISIBLE_DAYS", 3)))


# -- desk (staff bearer token) -----------------------------------------------------------------


@bp.post("/checkouts")
@api_staff("librarian")
def checkout() -> Any:
    data = _body()
    errors = _required(data, "card_number", "item_barcode", "branch")
    if data.get("channel", "desk") not in ("desk", "self_service"):
        errors["channel"] = ["Use desk or self_service."]
    if errors:
        return validation_problem(errors)
    result = service.checkout(db.session(), patron_id=_patron_id(data["card_number"]), item_barcode=data["item_barcode"],
                              branch=data["branch"], channel=data.get("channel", "desk"), now=clock.now(),
                              actor=g.api_user)
    if result.loan is None:
        return refusal(result.decision)
    db.session().commit()
    return jsonify({"loan_id": result.loan.id, "barcode": data["item_barcode"],
                    "due_at": result.decision.details["due_at"].isoformat()}), 201


@bp.post("/renewals")
@api_staff("librarian")
def renew_for_patron() -> Any:
    data = _body()
    errors = _required(data, "card_number")
    try:
        loan_ids = _loan_ids(data)
    except ValueError:
        errors["loan_ids"] = ["A list of loan ids."]
    if errors:
        return validation_problem(errors)
    results = service.renew_loans(db.session(), patron_id=_patron_id(data["card_number"]), loan_ids=loan_ids,
                                  now=clock.now(), actor=g.api_user, channel="desk")
    db.session().commit()
    return jsonify({"results": [renewal_json(result) for result in results]})


@bp.post("/checkins")
@api_staff("librarian")
def checkin() -> Any:
    data = _body()
    errors = _required(data, "item_barcode", "branch")
    if not isinstance(data.get("book_drop", False), bool):
        errors["book_drop"] = ["true or false."]
    if errors:
        return validation_problem(errors)
    result = service.checkin(db.session(), item_barcode=data["item_barcode"], branch=data["branch"],
                             book_drop=data.get("book_drop", False), now=clock.now(), actor=g.api_user)
    if not result.decision.allowed:
        return refusal(result.decision)
    db.session().commit()
    return jsonify(checkin_json(result))


@bp.post("/holds")
@api_staff("librarian")
def place_hold_for_patron() -> Any:
    data = _body()
    errors = _required(data, "card_number")
    if not data.get("record_key") and not data.get("item_barcode"):
        errors["record_key"] = ["Give record_key or item_barcode."]
    if errors:
        return validation_problem(errors)
    return _place_hold(_patron_id(data["card_number"]), data, g.api_user)


@bp.delete("/holds/<int:hold_id>")
@api_staff("librarian")
def cancel_hold_by_library(hold_id: int) -> Any:
    decision = service.cancel_hold(db.session(), hold_id, by="library", now=clock.now(), actor=g.api_user)
    if not decision.allowed:
        return refusal(decision)
    db.session().commit()
    return "", 204


@bp.get("/patrons/<card_number>/account")
@api_staff("librarian")
def patron_account(card_number: str) -> Any:
    return jsonify(summary_json(_summary(_patron_id(card_number))))


@bp.post("/patrons/<card_number>/payments")
@api_staff("librarian")
def desk_payment(card_number: str) -> Any:
    data = _body()
    patron_id = _patron_id(card_number)
    currency = service.currency_of(db.session(), patron_id)
    try:
        amount = Money.parse(str(data.get("amount", "")), currency)
    except ValueError:
        return validation_problem({"amount": ["An amount such as 5.00."]})
    payment = service.pay_at_desk(db.session(), patron_id=patron_id, amount=amount, now=clock.now(), actor=g.api_user)
    db.session().commit()
    return jsonify({"payment_id": payment.id, "amount": money_json(amount)}), 201


# -- the patron's own account (device token) ---------------------------------------------------


@patron_bp.get("/account")
@api_patron
def my_account() -> Any:
    return jsonify(summary_json(_summary(g.api_patron.id)))


@patron_bp.post("/renewals")
@api_patron
def my_renewals() -> Any:
    try:
        loan_ids = _loan_ids(_body())
    except ValueError:
        return validation_problem({"loan_ids": ["A list of loan ids."]})
    results = service.renew_loans(db.session(), patron_id=g.api_patron.id, loan_ids=loan_ids, now=clock.now(),
                                  actor=g.api_patron, channel="web")
    db.session().commit()
    return jsonify({"results": [renewal_json(result) for result in results]})


@patron_bp.get("/holds")
@api_patron
def my_holds() -> Any:
    body = summary_json(_summary(g.api_patron.id))
    return jsonify({"holds": body["holds"]})


@patron_bp.post("/holds")
@api_patron
def my_new_hold() -> Any:
    data = _body()
    if not data.get("record_key") and not data.get("item_barcode"):
        return validation_problem({"record_key": ["Give record_key or item_barcode."]})
    return _place_hold(g.api_patron.id, data, g.api_patron)


@patron_bp.delete("/holds/<int:hold_id>")
@api_patron
def my_cancelled_hold(hold_id: int) -> Any:
    decision = service.cancel_hold(db.session(), hold_id, by="patron", patron_id=g.api_patron.id, now=clock.now(),
                                   actor=g.api_patron)
    if not decision.allowed:
        return refusal(decision)
    db.session().commit()
    return "", 204


def _place_hold(patron_id: int, data: dict[str, Any], actor: Any) -> Any:
    result = service.place_hold(db.session(), patron_id=patron_id, record_key=data.get("record_key") or None,
                                item_barcode=data.get("item_barcode") or None,
                                pickup_branch=data.get("pickup_branch") or None, now=clock.now(), actor=actor)
    if result.hold is None:
        return refusal(result.decision)
    db.session().commit()
    return jsonify({"hold_id": result.hold.id, "state": result.hold.state,
                    "queue_position": result.decision.details.get("queue_position")}), 201


@patron_bp.post("/payments")
@api_patron
@gate.component("online_payment")
def my_online_payment() -> Any:
    base = current_app.config["BASE_URL"].rstrip("/")
    result = service.start_online_payment(
        db.session(), patron_id=g.api_patron.id, provider=provider_from_config(current_app.config),
        return_url=f"{base}/api/v1/circulation/payments/paytrail/return",
        callback_url=f"{base}/api/v1/circulation/payments/paytrail/callback", now=clock.now(), actor=g.api_patron,
        language=g.api_patron.language or "fi")
    if result.payment is None:
        return refusal(result.decision)
    db.session().commit()
    return jsonify({"payment_id": result.payment.id, "href": result.href,
                    "amount": money_json(Money(result.payment.amount_minor, result.payment.currency)),
                    **decision_json(result.decision)}), 201


# -- the payment provider (signed parameters, no token) ----------------------------------------


def _book() -> service.BookingResult:
    params = {key: value for key, value in request.args.items()}
    return service.book_online_payment(db.session(), params, provider=provider_from_config(current_app.config),
                                       now=clock.now())


@bp.get("/payments/paytrail/callback")
@gate.always_open
def paytrail_callback() -> Any:
    """Server-to-server: 200 when handled (also when already booked), 401 for a bad signature."""
    outcome = _book().outcome
    db.session().commit()
    return jsonify({"outcome": outcome})


@bp.get("/payments/paytrail/return")
@gate.always_open
def paytrail_return() -> Any:
    """The patron's browser comes back here; book (if the callback has not) and show the result."""
    outcome = _book().outcome
    db.session().commit()
    target = current_app.config.get("CIRCULATION_PAYMENT_DONE_URL", "/")
    return redirect(f"{target}?{urlencode({'payment': outcome})}", code=303)


describe()
