"""The circulation API's answers, built through the models of schemas.py, and the problem+json of refusals."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel

from app.circulation import schemas
from app.circulation.decisions import Decision
from app.circulation.money import Money
from app.circulation.service import AccountSummary, CheckinResult, HoldLine, OutstandingDebit, RenewalResult
from app.errors import problem

# The texts behind the reason codes; the code itself travels in `reason` for programs.
REASONS: dict[str, Any] = {
    "account_closed": _l("The account is closed."),
    "card_blocked": _l("The library has blocked the card. Please contact the library."),
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


def money(amount: Money) -> schemas.Money:
    return schemas.Money(amount=str(amount.to_decimal()), currency=amount.currency, minor=amount.minor)


def maybe_money(amount: Money | None) -> schemas.Money | None:
    return money(amount) if amount is not None else None


def details(values: Mapping[str, object]) -> schemas.DecisionDetails:
    """A decision's details; a key the model does not list fails here, not in a client."""
    return schemas.DecisionDetails(**{key: money(value) if isinstance(value, Money) else value
                                      for key, value in values.items()})


def decision_fields(decision: Decision) -> dict[str, Any]:
    """allowed, reason, the reason in words (only when refused) and the details."""
    fields: dict[str, Any] = {"allowed": decision.allowed, "reason": decision.reason,
                              "details": details(decision.details)}
    if decision.reason:
        fields["message"] = str(REASONS.get(decision.reason, decision.reason))
    return fields


def refusal(decision: Decision, answer: type[BaseModel]) -> Response:
    """problem+json 409 for a refused operation: type …/circulation-<reason>, the code in ``reason``, the numbers
    in ``details``; checked against the operation's documented refusal (``answer``), so the two cannot drift."""
    reason = decision.reason or "refused"
    resp = problem(409, "circulation-" + reason.replace("_", "-"), str(REASONS.get(reason, reason)),
                   reason=reason, details=details(decision.details).model_dump(mode="json"))
    answer.model_validate_json(resp.get_data())
    return resp


def hold(line: HoldLine) -> schemas.AccountHold:
    return schemas.AccountHold(
        hold_id=line.hold_id, record_key=line.record_key, title=line.title, state=line.state,
        queue_position=line.queue_position, pickup_branch=line.pickup_branch,
        pickup_branch_name=line.pickup_branch_name, last_pickup_day=line.last_pickup_day,
        hold_identifier=line.hold_identifier, placed_at=line.placed_at, cancelled_at=line.cancelled_at,
        suspended_until=line.suspended_until)


def fee(debit: OutstandingDebit) -> schemas.AccountFee:
    return schemas.AccountFee(fee_id=debit.id, kind=debit.kind, reason=debit.reason, amount=money(debit.amount),
                              outstanding=money(debit.outstanding), created_at=debit.created_at,
                              loan_id=debit.loan_id, notice_step=debit.notice_step)


def summary(account: AccountSummary) -> schemas.AccountSummary:
    return schemas.AccountSummary(
        patron=schemas.PatronFacts(card_number=account.card_number, name=account.name, library=account.library,
                                   preset=account.preset, category=account.category),
        loans=[schemas.AccountLoan(
            loan_id=line.loan_id, barcode=line.barcode, title=line.title, material_type=line.material_type,
            due_at=line.due_at, due_state=line.due_state, accruing_fine=money(line.accruing_fine),
            renewals=line.renewals, max_renewals=line.max_renewals) for line in account.loans],
        holds=[hold(line) for line in account.holds],
        fees=[fee(debit) for debit in account.fees],
        balance=money(account.balance),
        accruing_fines=money(account.accruing),
        billing_ban=schemas.BillingBan(banned=account.billing_banned, in_collection=account.in_collection,
                                       threshold=money(account.ban_threshold), comparison=account.ban_comparison),
        premises_ban_until=account.premises_ban_until,
        online_payment=schemas.OnlinePayment(**decision_fields(account.online_payment)))


def renewals(results: list[RenewalResult]) -> schemas.Renewals:
    return schemas.Renewals(results=[schemas.Renewal(
        loan_id=result.loan_id, barcode=result.item_barcode, renewed=result.decision.allowed,
        **decision_fields(result.decision), due_at=result.due_at,
        fine_registered=maybe_money(result.fine_registered)) for result in results])


def checkin(result: CheckinResult) -> schemas.CheckinDone:
    routing = result.routing
    assert routing is not None  # every allowed check-in routes the item
    return schemas.CheckinDone(
        barcode=result.item_barcode, loan_id=result.loan_id, returned_on=result.returned_on,
        fine_registered=maybe_money(result.fine_registered),
        routing=schemas.Routing(action=routing.action, branch=routing.branch_code, hold_id=routing.hold_id))
