"""JSON shapes of circulation answers and the problem+json for refusals (reason codes)."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from flask import Response
from flask_babel import lazy_gettext as _l

from app.circulation.decisions import Decision
from app.circulation.money import Money
from app.circulation.service import (
    AccountSummary,
    CheckinResult,
    HoldLine,
    LoanLine,
    OutstandingDebit,
    RenewalResult,
)
from app.circulation.service_holds import RoutingResult
from app.errors import problem

# The texts behind the reason codes; the code itself travels in `reason` for programs.
REASONS: dict[str, Any] = {
    "premises_ban": _l("The patron is banned from the library premises."),
    "card_expired": _l("The library card has expired."),
    "membership_revalidation_due": _l("The membership must be revalidated at the library (every 10 years)."),
    "billing_ban": _l("Borrowing rights are suspended until enough of the fees are paid."),
    "borrowing_suspended": _l("Borrowing rights are suspended."),
    "item_not_available": _l("The item is not available."),
    "age_rating": _l("The item's age limit is higher than the patron's age."),
    "limit_total": _l("The patron has the maximum number of loans."),
    "limit_group": _l("The patron has the maximum number of loans of this kind of material."),
    "other_library": _l("The item belongs to another library."),
    "reserved": _l("The item is reserved for another patron."),
    "max_renewals": _l("The maximum number of renewals has been reached."),
    "too_soon": _l("Renewing now would not give a later due date."),
    "not_holdable": _l("This item cannot be reserved."),
    "already_on_hold": _l("The patron already has a hold on this title."),
    "already_on_loan": _l("The patron already has this title on loan."),
    "hold_not_active": _l("The hold is no longer active."),
    "ready_hold_cancelled_by_library": _l("A hold waiting for pickup can only be cancelled by the library."),
    "online_payment_unavailable": _l("This library does not take payments online."),
    "replacement_fee_outstanding": _l("Fees cannot be paid online while a replacement fee is outstanding."),
    "nothing_to_pay": _l("There is nothing to pay online."),
    "partial_not_allowed": _l("Only the whole balance can be paid online."),
    "more_than_owed": _l("The amount is more than is owed."),
    "below_minimum": _l("The amount is below the minimum for online payment."),
}


def jsonable(value: Any) -> Any:
    if isinstance(value, Money):
        return money_json(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return value


def money_json(amount: Money) -> dict[str, Any]:
    return {"amount": str(amount.to_decimal()), "currency": amount.currency, "minor": amount.minor}


def decision_json(decision: Decision) -> dict[str, Any]:
    body: dict[str, Any] = {"allowed": decision.allowed, "reason": decision.reason}
    if decision.reason:
        body["message"] = str(REASONS.get(decision.reason, decision.reason))
    body["details"] = jsonable(dict(decision.details))
    return body


def refusal(decision: Decision, status: int = 409) -> Response:
    """problem+json for a refused operation: type …/circulation-<reason>, the code in ``reason``."""
    reason = decision.reason or "refused"
    return problem(status, "circulation-" + reason.replace("_", "-"), str(REASONS.get(reason, reason)),
                   reason=reason, details=jsonable(dict(decision.details)))


def loan_json(line: LoanLine) -> dict[str, Any]:
    return {"loan_id": line.loan_id, "barcode": line.barcode, "title": line.title,
            "material_type": line.material_type, "due_at": line.due_at.isoformat(), "due_state": line.due_state,
            "accruing_fine": money_json(line.accruing_fine), "renewals": line.renewals,
            "max_renewals": line.max_renewals}


def hold_json(line: HoldLine) -> dict[str, Any]:
    return {"hold_id": line.hold_id, "record_key": line.record_key, "title": line.title, "state": line.state,
            "queue_position": line.queue_position, "pickup_branch": line.pickup_branch,
            "pickup_branch_name": line.pickup_branch_name,
            "last_pickup_day": line.last_pickup_day.isoformat() if line.last_pickup_day else None,
            "hold_identifier": line.hold_identifier, "placed_at": line.placed_at.isoformat(),
            "cancelled_at": line.cancelled_at.isoformat() if line.cancelled_at else None}


def fee_json(fee: OutstandingDebit) -> dict[str, Any]:
    return {"fee_id": fee.id, "kind": fee.kind, "reason": fee.reason, "amount": money_json(fee.amount),
            "outstanding": money_json(fee.outstanding), "created_at": fee.created_at.isoformat(),
            "loan_id": fee.loan_id, "notice_step": fee.notice_step}


def summary_json(summary: AccountSummary) -> dict[str, Any]:
    return {
        "patron": {"card_number": summary.card_number, "name": summary.name, "library": summary.library,
                   "preset": summary.preset, "category": summary.category},
        "loans": [loan_json(line) for line in summary.loans],
        "holds": [hold_json(line) for line in summary.holds],
        "fees": [fee_json(fee) for fee in summary.fees],
        "balance": money_json(summary.balance),
        "accruing_fines": money_json(summary.accruing),
        "billing_ban": {"banned": summary.billing_banned, "in_collection": summary.in_collection,
                        "threshold": money_json(summary.ban_threshold), "comparison": summary.ban_comparison},
        "premises_ban_until": summary.premises_ban_until.isoformat() if summary.premises_ban_until else None,
        "online_payment": decision_json(summary.online_payment),
    }


def renewal_json(result: RenewalResult) -> dict[str, Any]:
    return {"loan_id": result.loan_id, "barcode": result.item_barcode, "renewed": result.decision.allowed,
            **decision_json(result.decision), "due_at": result.due_at.isoformat(),
            "fine_registered": money_json(result.fine_registered) if result.fine_registered else None}


def routing_json(routing: RoutingResult | None) -> dict[str, Any] | None:
    if routing is None:
        return None
    return {"action": routing.action, "branch": routing.branch_code, "hold_id": routing.hold_id}


def checkin_json(result: CheckinResult) -> dict[str, Any]:
    return {"barcode": result.item_barcode, "loan_id": result.loan_id,
            "returned_on": result.returned_on.isoformat() if result.returned_on else None,
            "fine_registered": money_json(result.fine_registered) if result.fine_registered else None,
            "routing": routing_json(result.routing)}
