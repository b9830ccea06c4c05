"""The circulation API's JSON bodies — requests, answers and 409 refusals — that validate and document it."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    PlainSerializer,
    RootModel,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    model_serializer,
)

from app.accounts.models import Patron
from app.circulation.models import ACTIVE_HOLD_STATES, HOLD_STATES, Branch, CircLibrary, Hold, Item
from app.circulation.money import MINOR_UNIT_DIGITS
from app.circulation.policy import BAN_COMPARISONS, FEE_KINDS, INT_RULE_RANGES
from app.errors import PROBLEM_BASE
from app.platform.contract import Answer, Body, Id, Query

# The refusals each operation can give (decisions.py and the service_*.py docstrings say when), in their order.
CHECKOUT_REASONS = ("account_closed", "card_blocked", "premises_ban", "card_expired", "membership_revalidation_due", "billing_ban",
                    "item_not_available", "age_rating", "limit_total", "limit_group", "other_library")
RENEWAL_REASONS = ("borrowing_suspended", "reserved", "max_renewals", "too_soon", "item_not_available")
CHECKIN_REASONS = ("other_library",)
HOLD_REASONS = ("billing_ban", "card_expired", "not_holdable", "already_on_hold", "already_on_loan")
LIBRARY_CANCEL_REASONS = ("hold_not_active",)
PATRON_CANCEL_REASONS = ("hold_not_active", "ready_hold_cancelled_by_library")
PAYMENT_REASONS = ("online_payment_unavailable", "replacement_fee_outstanding", "nothing_to_pay", "below_minimum")
LOAN_IDS_MAX = INT_RULE_RANGES["max_loans_total"][1]  # no patron can have more loans than this


def _length(column: Any) -> int:
    return int(column.type.length)


def required_text(column: Any, description: str, *, extra: int = 0) -> Any:
    """Text that must not be blank (``\\S``: at least one character that is not white space)."""
    return Annotated[str, Field(max_length=_length(column) + extra, pattern=r"\S", description=description)]


def optional_text(column: Any, description: str, *, extra: int = 0) -> Any:
    return Annotated[str, Field(max_length=_length(column) + extra, description=description)] | None


CardNumber = required_text(Patron.card_number, "The patron's library card number")
ItemBarcode = required_text(Item.barcode, "The item's barcode")
BRANCH_TEXT = "Branch code, or library/branch (e.g. tampere/linna)"
BRANCH_EXTRA = _length(CircLibrary.code) + 1  # room for "library/" before the branch code
BranchRef = required_text(Branch.code, BRANCH_TEXT, extra=BRANCH_EXTRA)
PickupBranch = optional_text(Branch.code, BRANCH_TEXT + "; default: the patron's home branch", extra=BRANCH_EXTRA)
LoanIds = Annotated[list[Id], Field(max_length=LOAN_IDS_MAX, description="The loans to renew; omit to renew all")]


# -- requests -----------------------------------------------------------------------------------


class CheckoutRequest(Body):
    card_number: CardNumber
    item_barcode: ItemBarcode
    branch: BranchRef
    channel: Literal["desk", "self_service"] = Field("desk", description="Where the loan is made; sets the due time")


class DeskRenewalRequest(Body):
    card_number: CardNumber
    loan_ids: LoanIds | None = None


class RenewalRequest(Body):
    loan_ids: LoanIds | None = None


class CheckinRequest(Body):
    item_barcode: ItemBarcode
    branch: BranchRef
    book_drop: bool = Field(False, description="Returned through the book drop: dated to the next opening day")


class HoldRequest(Body):
    """Give ``record_key``, ``item_barcode`` (of any copy of the title) or ``record_id`` (a catalogue record)."""

    record_key: optional_text(Hold.record_key, "The title's record key") = None
    item_barcode: optional_text(Item.barcode, "A copy's barcode: holds its title") = None
    record_id: Id | None = Field(None, description="A catalogue record (GET /api/v1/records): holds its title")
    pickup_branch: PickupBranch = None


class DeskHoldRequest(HoldRequest):
    card_number: CardNumber


class DeskPaymentRequest(Body):
    amount: Annotated[str, Field(max_length=20, examples=["5.00"], description=(
        "Decimal text in the library's currency, at most two decimals; allocated to the oldest fees first"))]


class PaytrailQuery(Query):
    """Paytrail's signed return and callback parameters (docs.paytrail.com: redirect and callback URL parameters).

    All are optional here: what is missing, unknown or altered fails the signature check (401). Parameters not
    listed are kept, since the signature covers every ``checkout-*`` parameter the provider sends."""

    model_config = ConfigDict(extra="allow")
    checkout_account: str | None = Field(None, alias="checkout-account", description="Paytrail merchant id")
    checkout_algorithm: str | None = Field(None, alias="checkout-algorithm",
                                           description="HMAC of the signature: sha256 or sha512")
    checkout_amount: str | None = Field(None, alias="checkout-amount", description="Paid amount in minor units")
    checkout_stamp: str | None = Field(None, alias="checkout-stamp", description="Our id of the payment")
    checkout_reference: str | None = Field(None, alias="checkout-reference", description="Our payment number")
    checkout_transaction_id: str | None = Field(None, alias="checkout-transaction-id",
                                                description="Paytrail's id of the payment")
    checkout_status: str | None = Field(None, alias="checkout-status", description="ok, pending, delayed or fail")
    checkout_provider: str | None = Field(None, alias="checkout-provider",
                                          description="The bank or card the patron paid with")
    signature: str | None = Field(None, description="HMAC over the checkout-* parameters sorted by name")

    def params(self) -> dict[str, str]:
        """Every parameter as received (also those not listed above): what the signature is checked over."""
        given = self.model_dump(by_alias=True, exclude_none=True)
        return {**given, **{k: str(v) for k, v in (self.model_extra or {}).items() if v is not None}}


# -- answers ------------------------------------------------------------------------------------

# Times as the rest of Kuulo writes them (isoformat: +00:00, not Z), documented as date-time.
Instant = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str),
                    WithJsonSchema({"type": "string", "format": "date-time"})]
FeeKind = Literal[tuple(sorted(FEE_KINDS))]
HoldState = Literal[HOLD_STATES]


class Sparse(Answer):
    """An answer whose optional keys are left out unless given (as the API always sent them)."""

    @model_serializer(mode="wrap")
    # No return annotation: pydantic would take it for the schema of the model, instead of its fields.
    def _only_given(self, handler: SerializerFunctionWrapHandler):
        return {key: value for key, value in handler(self).items() if key in self.model_fields_set}


class Money(Answer):
    amount: str = Field(pattern=r"^-?\d+(\.\d+)?$", examples=["1.50"], description="Decimal text in major units")
    currency: Literal[tuple(MINOR_UNIT_DIGITS)]
    minor: int = Field(description="Integer minor units (cents, haléře)")


class DecisionDetails(Sparse):
    """The numbers behind a decision; which keys come depends on the reason."""

    until: date | None = Field(None, description="premises_ban: its last day")
    expired_on: date | None = Field(None, description="card_expired")
    due_on: date | None = Field(None, description="membership_revalidation_due")
    balance: Money | None = Field(None, description="billing_ban: unpaid registered fees")
    threshold: Money | None = Field(None, description="billing_ban")
    comparison: Literal[BAN_COMPARISONS] | None = None
    in_collection: bool | None = None
    age_rating: int | None = Field(None, description="age_rating: the item's age limit")
    age: int | None = Field(None, description="age_rating: the patron's age")
    limit: int | None = Field(None, description="limit_total, limit_group")
    current: int | None = Field(None, description="limit_total, limit_group: loans now")
    group: str | None = Field(None, description="limit_group: the name of the group")
    max_renewals: int | None = None
    renewals_left: int | None = Field(None, description="after a renewal")
    state: HoldState | None = Field(None, description="hold_not_active: the hold's state")
    fee_kinds: list[FeeKind] | None = Field(None, description="replacement_fee_outstanding")
    payable: Money | None = None
    requested: Money | None = None
    minimum: Money | None = Field(None, description="below_minimum: the smallest online payment")
    amount: Money | None = Field(None, description="online payment: the amount (to) pay")


class OnlinePayment(Sparse):
    """Whether the patron may pay online now, and how much (``details.amount``)."""

    allowed: bool
    reason: Literal[PAYMENT_REASONS] | None
    message: str | None = Field(None, description="The reason in words (when refused)")
    details: DecisionDetails


class PatronFacts(Answer):
    card_number: str
    name: str
    library: str
    preset: str
    category: str


class AccountLoan(Answer):
    loan_id: int
    barcode: str
    title: str
    material_type: str
    due_at: Instant = Field(description="In the lending branch's time zone")
    due_state: Literal["on_time", "due_soon", "overdue"]
    accruing_fine: Money = Field(description="Registers at return or renewal")
    renewals: int
    max_renewals: int


class AccountHold(Answer):
    hold_id: int
    record_key: str
    title: str
    state: Literal[(*ACTIVE_HOLD_STATES, "cancelled", "suspended")]
    queue_position: int | None = Field(description="1 = next in line; null once a copy is on its way or waiting")
    pickup_branch: str
    pickup_branch_name: str
    last_pickup_day: date | None
    hold_identifier: str | None = Field(description="The pickup-shelf identifier, when ready")
    suspended_until: date | None = Field(None, description="A suspended hold waits again from this day "
                                                           "(null: until resumed)")
    placed_at: Instant
    cancelled_at: Instant | None


class AccountFee(Answer):
    fee_id: int
    kind: FeeKind
    reason: str
    amount: Money
    outstanding: Money
    created_at: Instant
    loan_id: int | None
    notice_step: str | None


class BillingBan(Answer):
    banned: bool
    in_collection: bool
    threshold: Money
    comparison: Literal[BAN_COMPARISONS]


class AccountSummary(Answer):
    """Loans by due date, holds with their queue position, unpaid fees, the balance, bans and online payment."""

    patron: PatronFacts
    loans: list[AccountLoan]
    holds: list[AccountHold]
    fees: list[AccountFee]
    balance: Money = Field(description="Registered, unpaid fees")
    accruing_fines: Money = Field(description="Fines of loans still out: owed at return or renewal")
    billing_ban: BillingBan
    premises_ban_until: date | None
    online_payment: OnlinePayment


class Holds(Answer):
    holds: list[AccountHold]


class LoanMade(Answer):
    loan_id: int
    barcode: str
    due_at: Instant


class Renewal(Sparse):
    """One loan's answer: renewed with its new due time, or refused (``reason``) with the unchanged one."""

    loan_id: int
    barcode: str
    renewed: bool
    allowed: bool
    reason: Literal[RENEWAL_REASONS] | None
    message: str | None = Field(None, description="The reason in words (when refused)")
    details: DecisionDetails
    due_at: Instant
    fine_registered: Money | None = Field(description="The fine accrued so far, registered by the renewal")


class Renewals(Answer):
    results: list[Renewal]


class Routing(Answer):
    action: Literal["shelf", "hold_shelf", "transit"]
    branch: str = Field(description="Where the item is shelved, held, or must be sent")
    hold_id: int | None


class CheckinDone(Answer):
    barcode: str
    loan_id: int | None = Field(description="null: the item was not on loan")
    returned_on: date | None
    fine_registered: Money | None
    routing: Routing


class HoldPlaced(Answer):
    hold_id: int
    state: Literal["waiting", "in_transit"]
    queue_position: int | None


class DeskPaid(Answer):
    payment_id: int
    amount: Money


class PaymentStarted(Answer):
    payment_id: int
    href: str = Field(description="Send the patron's browser here to pay")
    amount: Money
    allowed: Literal[True]
    reason: None
    details: DecisionDetails


class PaymentOutcome(Answer):
    outcome: Literal["booked", "already_booked", "failed", "pending", "unknown_payment", "amount_mismatch"]


# -- refusals (application/problem+json) ------------------------------------------------------------


class Refused(Answer):
    """A refused operation: ``type`` is …/circulation-<reason>, ``reason`` the code, ``details`` the numbers."""

    type: str = Field(pattern=r"/circulation-[a-z-]+$")
    title: str
    status: Literal[409]
    detail: str = Field(description="The reason in words, in the request's language")
    instance: str
    reason: str
    details: DecisionDetails


class CheckoutRefused(Refused):
    reason: Literal[CHECKOUT_REASONS]


class CheckinRefused(Refused):
    reason: Literal[CHECKIN_REASONS]


class HoldRefused(Refused):
    reason: Literal[HOLD_REASONS]


class LibraryCancelRefused(Refused):
    reason: Literal[LIBRARY_CANCEL_REASONS]


class PatronCancelRefused(Refused):
    reason: Literal[PATRON_CANCEL_REASONS]


class PaymentRefused(Refused):
    reason: Literal[PAYMENT_REASONS]


class CalendarMissing(Answer):
    """The branch has no opening-hours calendar yet, so no due date can be set (a setup error)."""

    type: Literal[PROBLEM_BASE + "calendar-missing"]
    title: str
    status: Literal[409]
    detail: str | None = None
    instance: str
    branch: str


class CheckoutConflict(RootModel[CheckoutRefused | CalendarMissing]):
    pass


class CheckinConflict(RootModel[CheckinRefused | CalendarMissing]):
    pass
