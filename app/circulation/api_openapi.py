"""The circulation API in the OpenAPI description (/api/openapi.json)."""
from __future__ import annotations

from typing import Any

from app import openapi

STAFF = [{"bearer": []}]
TAGS_DESK, TAGS_PATRON, TAGS_PAYMENT = ["circulation desk"], ["circulation: my account"], ["payments"]
REFUSED = openapi.problem_response(
    "Refused: `type` is …/circulation-<reason> and `reason` the code (billing_ban, reserved, max_renewals, "
    "item_not_available, age_rating, limit_total, limit_group, card_expired, membership_revalidation_due, "
    "premises_ban, not_holdable, below_minimum, replacement_fee_outstanding, …); `details` has the numbers")


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _op(summary: str, tags: list[str], responses: dict[str, Any], body: dict[str, Any] | None = None,
        security: list[dict[str, Any]] | None = None, parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "tags": tags, "responses": {
        **responses, "401": openapi.problem_response("No valid token"),
        "404": openapi.problem_response("Unknown patron, item, branch, loan or hold")}}
    if security is not None:
        op["security"] = security
    if body is not None:
        op["requestBody"] = {"required": True, **_json(body)}
    if parameters:
        op["parameters"] = parameters
    return op


def _obj(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


STR, INT, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
CARD = {"name": "card_number", "in": "path", "required": True, "schema": STR}
HOLD_ID = {"name": "hold_id", "in": "path", "required": True, "schema": INT}
HOLD_BODY = _obj([], record_key=STR, item_barcode=STR, pickup_branch={
    "type": "string", "description": "Branch code (or library/branch); default: the patron's home branch"})
RENEW_BODY = _obj([], loan_ids={"type": "array", "items": INT, "description": "Omit to renew every loan"})
SCHEMAS = {
    "Money": _obj(["amount", "currency", "minor"], amount={"type": "string", "example": "1.50"},
                  currency={"type": "string", "enum": ["EUR", "CZK"]}, minor=INT),
    "RenewalResults": _obj(["results"], results={"type": "array", "items": _obj(
        ["loan_id", "renewed", "due_at"], loan_id=INT, barcode=STR, renewed=BOOL,
        reason={"type": ["string", "null"], "enum": [None, "reserved", "max_renewals", "borrowing_suspended",
                                                     "too_soon", "item_not_available"]},
        message=STR, due_at={"type": "string", "format": "date-time"},
        fine_registered={"anyOf": [_ref("Money"), {"type": "null"}]})}),
    "AccountSummary": _obj(
        ["loans", "holds", "fees", "balance", "billing_ban"],
        patron=_obj([], card_number=STR, name=STR, library=STR, preset=STR, category=STR),
        loans={"type": "array", "items": _obj([], loan_id=INT, barcode=STR, title=STR, due_at=STR,
                                              due_state={"type": "string", "enum": ["on_time", "due_soon", "overdue"]},
                                              accruing_fine=_ref("Money"), renewals=INT, max_renewals=INT)},
        holds={"type": "array", "items": _obj([], hold_id=INT, title=STR, state={
            "type": "string", "enum": ["waiting", "in_transit", "ready", "cancelled"]},
            queue_position={"type": ["integer", "null"]}, pickup_branch=STR, last_pickup_day={"type": ["string", "null"]},
            hold_identifier={"type": ["string", "null"]})},
        fees={"type": "array", "items": _obj([], fee_id=INT, kind=STR, reason=STR, amount=_ref("Money"),
                                             outstanding=_ref("Money"))},
        balance=_ref("Money"), accruing_fines=_ref("Money"),
        billing_ban=_obj([], banned=BOOL, in_collection=BOOL, threshold=_ref("Money"), comparison=STR),
        online_payment=_obj([], allowed=BOOL, reason={"type": ["string", "null"]})),
}


def describe() -> None:
    ok = {"description": "Done"}
    openapi.add_paths({
        "/api/v1/circulation/checkouts": {"post": _op(
            "Lend an item at a desk or self-service station", TAGS_DESK,
            {"201": {"description": "Loan made", **_json(_obj(["loan_id", "due_at"], loan_id=INT, barcode=STR,
                                                              due_at=STR))}, "409": REFUSED},
            _obj(["card_number", "item_barcode", "branch"], card_number=STR, item_barcode=STR, branch=STR,
                 channel={"type": "string", "enum": ["desk", "self_service"]}), STAFF)},
        "/api/v1/circulation/renewals": {"post": _op(
            "Renew a patron's loans; one answer per item", TAGS_DESK,
            {"200": {"description": "Per-item results", **_json(_ref("RenewalResults"))}},
            {**RENEW_BODY, "required": ["card_number"],
             "properties": {**RENEW_BODY["properties"], "card_number": STR}}, STAFF)},
        "/api/v1/circulation/checkins": {"post": _op(
            "Return an item at any branch of its consortium; book-drop returns are dated to the next opening day",
            TAGS_DESK, {"200": {"description": "Returned and routed (shelf, hold_shelf, transit)"}, "409": REFUSED},
            _obj(["item_barcode", "branch"], item_barcode=STR, branch=STR, book_drop=BOOL), STAFF)},
        "/api/v1/circulation/holds": {"post": _op(
            "Place a hold for a patron", TAGS_DESK, {"201": {"description": "Hold placed"}, "409": REFUSED},
            {**HOLD_BODY, "required": ["card_number"], "properties": {**HOLD_BODY["properties"], "card_number": STR}},
            STAFF)},
        "/api/v1/circulation/holds/{hold_id}": {"delete": _op(
            "Cancel a hold (library: also one waiting on the shelf, free of charge)", TAGS_DESK,
            {"204": ok, "409": REFUSED}, security=STAFF, parameters=[HOLD_ID])},
        "/api/v1/circulation/patrons/{card_number}/account": {"get": _op(
            "A patron's loans, holds, fees and ban state", TAGS_DESK,
            {"200": {"description": "Summary", **_json(_ref("AccountSummary"))}}, security=STAFF, parameters=[CARD])},
        "/api/v1/circulation/patrons/{card_number}/payments": {"post": _op(
            "Record a payment at the desk", TAGS_DESK, {"201": ok, "422": openapi.problem_response("Bad amount")},
            _obj(["amount"], amount={"type": "string", "example": "5.00"}), STAFF, [CARD])},
        "/api/v1/circulation/me/account": {"get": _op(
            "My account: loans (due soon / overdue), holds with queue position, fees, ban state", TAGS_PATRON,
            {"200": {"description": "Summary", **_json(_ref("AccountSummary"))}}, security=STAFF)},
        "/api/v1/circulation/me/renewals": {"post": _op(
            "Renew my loans (all, or the listed ones); one answer per item", TAGS_PATRON,
            {"200": {"description": "Per-item results", **_json(_ref("RenewalResults"))}}, RENEW_BODY, STAFF)},
        "/api/v1/circulation/me/holds": {
            "get": _op("My holds", TAGS_PATRON, {"200": {"description": "Holds"}}, security=STAFF),
            "post": _op("Place a hold (pickup at my home branch unless chosen)", TAGS_PATRON,
                        {"201": {"description": "Hold placed"}, "409": REFUSED}, HOLD_BODY, STAFF)},
        "/api/v1/circulation/me/holds/{hold_id}": {"delete": _op(
            "Cancel my hold (not one waiting for pickup: ask the library)", TAGS_PATRON, {"204": ok, "409": REFUSED},
            security=STAFF, parameters=[HOLD_ID])},
        "/api/v1/circulation/me/payments": {"post": _op(
            "Start paying my whole payable balance online; returns the payment page (href)", TAGS_PAYMENT,
            {"201": {"description": "Go to href"}, "409": REFUSED,
             "503": openapi.problem_response("Payment provider or online payment unavailable")}, security=STAFF)},
        "/api/v1/circulation/payments/paytrail/callback": {"get": _op(
            "Paytrail's server-to-server callback (signed checkout-* parameters); books the payment once",
            TAGS_PAYMENT, {"200": {"description": "Handled (booked, already_booked, failed, pending)"}}, security=[])},
        "/api/v1/circulation/payments/paytrail/return": {"get": _op(
            "The patron's browser returning from Paytrail (signed); books the payment once and redirects",
            TAGS_PAYMENT, {"303": {"description": "To the account page with ?payment=<outcome>"}}, security=[])},
    }, SCHEMAS)
