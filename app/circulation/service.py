"""The circulation core's public functions — the one module other domains import.

Every function takes the caller's session (it flushes, never commits), ``now`` (aware datetime)
and, for changes, ``actor``. Refusals are ``Decision`` values with stable reason codes; missing
records raise ``DomainError("not-found", 404)``. The work is split by topic into service_*.py
modules; this module re-exports them so callers need only ``from app.circulation import service``.
"""
from __future__ import annotations

from app.circulation.decisions import Decision
from app.circulation.service_account import (
    AccountSummary,
    Dependant,
    FeeLine,
    HoldLine,
    LoanLine,
    PaymentLine,
    Profile,
    act_for,
    change_hold_pickup,
    dependants,
    enqueue_payment_receipt,
    fee_lines,
    library_of_patron,
    patron_account_summary,
    payment_history,
    payment_of_patron,
    pickup_branches,
    profile_of,
    resume_due_holds,
    resume_hold,
    suspend_hold,
    update_contact,
)
from app.circulation.service_fees import (
    OutstandingDebit,
    currency_of,
    is_under_billing_ban,
    lift_premises_ban,
    outstanding_debits,
    pay_at_desk,
    recompute_billing_ban,
    record_premises_ban,
    responsible_person_decision,
    waive_fee,
)
from app.circulation.service_holds import (
    HoldResult,
    RoutingResult,
    cancel_hold,
    expire_holds,
    place_hold,
    queue_position,
)
from app.circulation.service_loans import (
    CheckinResult,
    CheckoutResult,
    RenewalResult,
    accrued_fine_of,
    charge_damaged,
    checkin,
    checkout,
    declare_lost,
    item_by_barcode,
    patron_of_card,
    renew_loan,
    renew_loans,
)
from app.circulation.service_nightly import (
    NightlySummary,
    accrue_fines,
    recompute_all_billing_bans,
    run_nightly,
)
from app.circulation.service_payments import (
    BookingResult,
    OnlinePaymentStart,
    book_online_payment,
    online_payment_preview,
    start_online_payment,
)
from app.circulation.service_setup import (
    add_branch,
    add_calendar_version,
    add_item,
    create_library,
    enrol_patron,
    revalidate_membership,
    set_notice_preferences,
)

__all__ = [
    "AccountSummary", "BookingResult", "CheckinResult", "CheckoutResult", "Decision", "HoldLine", "HoldResult",
    "LoanLine", "NightlySummary", "OnlinePaymentStart", "OutstandingDebit", "RenewalResult", "RoutingResult",
    "accrue_fines", "accrued_fine_of", "add_branch", "add_calendar_version", "add_item", "book_online_payment",
    "cancel_hold", "charge_damaged", "checkin", "checkout", "create_library", "currency_of", "declare_lost", "enrol_patron",
    "expire_holds", "is_under_billing_ban", "item_by_barcode", "lift_premises_ban", "online_payment_preview",
    "outstanding_debits", "patron_account_summary", "patron_of_card", "pay_at_desk", "place_hold",
    "queue_position", "recompute_all_billing_bans", "recompute_billing_ban", "record_premises_ban",
    "renew_loan", "renew_loans", "responsible_person_decision", "revalidate_membership", "run_nightly",
    "set_notice_preferences", "start_online_payment", "waive_fee",
    # the patron's pages (service_account)
    "Dependant", "FeeLine", "PaymentLine", "Profile", "act_for", "change_hold_pickup", "dependants", "enqueue_payment_receipt",
    "fee_lines",
    "library_of_patron", "payment_history", "payment_of_patron", "pickup_branches", "profile_of", "resume_due_holds", "resume_hold", "suspend_hold", "update_contact",
]

# The circulation desk (app/circulation/service_desk.py).
from app.circulation.service_desk import (  # noqa: E402
    OVERRIDABLE,
    DeskCheckout,
    DeskPatron,
    DeskPayment,
    DeskReturn,
    HoldsShelf,
    PatronMatch,
    add_note,
    branch_ref,
    clear_expired_holds,
    desk_branch,
    desk_branches,
    desk_checkin,
    desk_checkout,
    desk_library,
    desk_patron,
    desk_pay,
    find_patrons,
    holds_shelf,
    is_supervisor,
    item_of_desk,
    patron_in_library,
    remove_note,
    set_desk_branch,
    set_item_status,
    update_contact_at_desk,
    write_off,
)

__all__ += [
    "OVERRIDABLE", "DeskCheckout", "DeskPatron", "DeskPayment", "DeskReturn", "HoldsShelf", "PatronMatch", "add_note",
    "branch_ref", "clear_expired_holds", "desk_branch", "desk_branches", "desk_checkin", "desk_checkout",
    "desk_library", "desk_patron", "desk_pay", "find_patrons", "holds_shelf", "is_supervisor", "patron_in_library",
    "remove_note", "set_desk_branch", "update_contact_at_desk", "write_off", "item_of_desk", "set_item_status",
]

# Self-service (issue 20): SIP2 terminals, self-service hours and standing, the self-service door.
from app.circulation.service_selfservice import (  # noqa: E402
    DoorDecision,
    add_terminal,
    authenticate_terminal,
    block_card,
    card_blocked,
    door_check,
    door_log,
    set_branch_self_service,
    set_patron_self_service,
    set_terminal_enabled,
    unblock_card,
)

__all__ += [
    "DoorDecision", "add_terminal", "authenticate_terminal", "block_card", "card_blocked", "door_check", "door_log",
    "set_branch_self_service", "set_patron_self_service", "set_terminal_enabled", "unblock_card",
]
