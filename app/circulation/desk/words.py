"""The desk's answers in words: refusals, scans, returns, renewals and payments (translated)."""
from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app.circulation import service
from app.i18n import format_day, format_moment

LINK_LOOKUP = _l("Circulation desk: find a patron, check out")
LINK_CHECKIN = _l("Circulation desk: check in")
LINK_HOLDS = _l("Circulation desk: holds shelf")


def _money(amount: Any) -> str:
    from app.i18n import money

    return money(amount.minor, amount.currency)


def refusal(reason: str | None, details: Any) -> str:
    """A refusal code in the desk's words (the details give the numbers)."""
    d = dict(details or {})
    texts = {
        "unknown_item": _("No item has this barcode."),
        "other_library": _("The item belongs to another library."),
        "on_loan": _("The item is on loan to another patron: check it in first."),
        "already_on_loan_to_patron": _("The patron already has this item on loan."),
        "not_for_loan": _("The item is not for loan (lost, damaged or withdrawn)."),
        "on_hold_for_other": _("The item is on hold for someone else."),
        "item_not_available": _("The item is not available for loan."),
        "premises_ban": _("The patron is banned from the library until %(day)s.", day=format_day(d.get("until"))),
        "card_expired": _("The library card has expired."),
        "membership_revalidation_due": _("The patron's membership must be revalidated first."),
        "billing_ban": _("Borrowing is barred: unpaid fees of %(amount)s.",
                         amount=_money(d["balance"]) if "balance" in d else ""),
        "age_rating": _("Age rating: the item is K%(rating)s and the patron is %(age)s.",
                        rating=d.get("age_rating", ""), age=d.get("age", "")),
        "limit_total": _("Loan limit reached: %(limit)s loans at once.", limit=d.get("limit", "")),
        "limit_group": _("Loan limit for this material reached: %(limit)s at once.", limit=d.get("limit", "")),
        "due_date_past": _("The due date must be after today."),
        "reserved": _("Someone has placed a hold on it."),
        "max_renewals": _("Renewed the maximum number of times."),
        "too_soon": _("Renewing now would not give a later due date."),
        "borrowing_suspended": _("Borrowing is barred: unpaid fees."),
        "nothing_to_pay": _("Nothing to pay among the chosen fees."),
        "more_than_owed": _("That is more than the chosen fees come to."),
        "invalid_method": _("Choose cash or card."),
        "card_blocked": _("The card is blocked: see the patron record."),
        "account_closed": _("The account is closed."),
        "nothing_to_refund": _("Nothing is left to refund of this payment."),
        "more_than_paid": _("That is more than is left to refund of this payment (%(amount)s).",
                            amount=_money(d["refundable"]) if "refundable" in d else ""),
    }
    return texts.get(reason or "", _("Refused (%(reason)s).", reason=reason))


def checkout_entry(result: service.DeskCheckout) -> dict[str, Any]:
    """A checkout scan for the page that follows: the title and due date, or the refusal."""
    if result.decision.allowed and result.loan is not None:
        text = _("%(title)s – due %(due)s", title=result.title, due=format_moment(result.loan.due_at))
        if result.overridden:
            text += " " + _("(refusal overridden: %(refusal)s)", refusal=refusal(result.overridden, {}))
        return {"ok": True, "text": text, "barcode": result.barcode}
    text = refusal(result.decision.reason, result.decision.details)
    if result.title:
        text = f"{result.title}: {text}"
    return {"ok": False, "text": text, "barcode": result.barcode, "overridable": result.overridable}


def renewal_entry(result: Any) -> dict[str, Any]:
    if result.decision.allowed:
        return {"ok": True, "text": _("%(barcode)s renewed, due %(due)s", barcode=result.item_barcode,
                                      due=format_moment(result.due_at))}
    return {"ok": False, "text": _("%(barcode)s not renewed: %(why)s", barcode=result.item_barcode,
                                   why=refusal(result.decision.reason, result.decision.details))}


def checkin_entry(result: service.DeskReturn) -> dict[str, Any]:
    """A return for the page that follows: fine, and hold shelf / transit / shelf with its slip."""
    if not result.decision.allowed:
        return {"ok": False, "text": refusal(result.decision.reason, result.decision.details),
                "barcode": result.barcode}
    parts = [_("%(title)s returned.", title=result.title) if result.was_on_loan
             else _("%(title)s was not on loan.", title=result.title)]
    if result.fine is not None and result.fine.is_positive:
        parts.append(_("Fine charged: %(amount)s.", amount=_money(result.fine)))
    slip = None
    if result.action == "hold_shelf":
        parts.append(_("Put on the hold shelf for %(id)s (last pickup day %(day)s).", id=result.hold_identifier,
                       day=format_day(result.last_pickup_day)))
        slip = url_for("desk.hold_slip", hold_id=result.hold_id)
    elif result.action == "transit":
        parts.append(_("Send to %(branch)s.", branch=result.destination))
        slip = url_for("desk.transit_slip", hold_id=result.hold_id)
    else:
        parts.append(_("Back to the shelf."))
    return {"ok": True, "text": " ".join(parts), "barcode": result.barcode, "slip": slip, "action": result.action}


def payment_text(result: service.DeskPayment) -> str:
    if not result.decision.allowed:
        return refusal(result.decision.reason, result.decision.details)
    text = _("Payment of %(amount)s recorded.", amount=_money(result.amount))
    if result.ban_lifted:
        text += " " + _("The borrowing ban is lifted.")
    return text


def write_off_text(result: service.DeskPayment) -> str:
    text = _("%(amount)s written off.", amount=_money(result.amount))
    if result.ban_lifted:
        text += " " + _("The borrowing ban is lifted.")
    return text


def block_text(block: Any) -> str:
    d = block.details
    texts = {
        "premises_ban": _("Banned from the library premises until %(day)s.", day=format_day(d.get("until"))),
        "billing_ban": _("Borrowing barred for unpaid fees: %(amount)s (limit %(limit)s).",
                         amount=_money(d["balance"]) if "balance" in d else "",
                         limit=_money(d["threshold"]) if "threshold" in d else ""),
        "in_collection": _("Debts sent to collection: borrowing barred."),
        "card_expired": _("Card expired on %(day)s.", day=format_day(d.get("expired_on"))),
        "membership_revalidation_due": _("Membership to revalidate (due %(day)s).", day=format_day(d.get("due_on"))),
        "card_blocked": _("The card is blocked: %(reason)s", reason=d.get("reason", "")),
        "closed": _("The account is closed."),
    }
    return texts.get(block.code, block.code)


def item_status_refusal(reason: str | None) -> str:
    texts = {"on_loan": _("The item is on loan: check it in first."),
             "held": _("The item is on its way to a hold or on the hold shelf: check it in first."),
             "unknown_status": _("Choose one of the statuses listed.")}
    return texts.get(reason or "", _("Refused (%(reason)s).", reason=reason))


# The history of a patron record in words (app/audit.py): %(who)s is the person who acted.
HISTORY: dict[str, Any] = {
    "circulation.contact_changed": _l("%(who)s changed the contact details."),
    "circulation.patron_renamed": _l("%(who)s changed the name (identity checked: %(identity_check)s)."),
    "circulation.category_changed": _l("%(who)s changed the category from %(old)s to %(new)s."),
    "circulation.home_branch_changed": _l("%(who)s changed the home branch to %(branch)s."),
    "circulation.pin_link_sent": _l("%(who)s sent a new link for choosing the PIN."),
    "circulation.card_blocked": _l("%(who)s blocked the card: %(reason)s"),
    "circulation.card_unblocked": _l("%(who)s lifted the card block: %(reason)s"),
    "circulation.hearing_recorded": _l("%(who)s recorded the hearing held on %(held_on)s."),
    "circulation.premises_ban": _l("%(who)s recorded a ban from the premises from %(starts_on)s to %(ends_on)s."),
    "circulation.premises_ban_lifted": _l("%(who)s lifted the ban from the premises: %(reason)s"),
    "circulation.membership_revalidated": _l("%(who)s revalidated the membership."),
    "circulation.account_closed": _l("%(who)s closed the account: %(reason)s"),
    "circulation.account_reopened": _l("%(who)s reopened the account."),
    "circulation.desk_note_added": _l("%(who)s added a note for the desk."),
    "circulation.desk_note_removed": _l("%(who)s removed a note for the desk."),
    "circulation.payment": _l("%(who)s recorded a payment of %(amount)s."),
    "circulation.fee_waived": _l("%(who)s wrote off %(amount)s: %(reason)s"),
    "circulation.refund": _l("%(who)s refunded %(amount)s: %(reason)s"),
    "circulation.receipt_emailed": _l("%(who)s emailed a payment receipt."),
    "circulation.item_lost": _l("%(who)s recorded item %(barcode)s as lost (replacement %(fee)s)."),
    "circulation.item_damaged": _l("%(who)s charged for a damaged item (%(fee)s)."),
    "circulation.checkout_override": _l("%(who)s overrode a refusal (%(refusal)s) to lend %(barcode)s: %(reason)s"),
    "circulation.welcome_letter_printed": _l("%(who)s printed the welcome letter."),
}

RECORD_ERRORS: dict[str, Any] = {
    "identity-check-required": _l("A new name needs the note of the identity check (e.g. “passport checked”)."),
    "unknown-category": _l("Choose one of the categories listed."),
    "unknown-branch": _l("Choose one of the branches listed."),
    "channel-without-contact": _l("Each chosen channel needs its contact detail (email address, phone or postal "
                                  "address)."),
    "no-email": _l("The patron has no email address: add one first, or print instead."),
    "account-closed": _l("The account is closed."),
    "reason-required": _l("Give the reason."),
    "already-blocked": _l("The card is already blocked."),
    "not-blocked": _l("The card is not blocked."),
    "hearing-invalid": _l("Check the hearing: the day cannot be in the future and the official who heard the "
                          "patron is needed."),
    "hearing-required": _l("Record the hearing first: a ban from the premises can only follow a hearing of the "
                           "patron."),
    "invalid-amount": _l("Give the amount as e.g. 5.00."),
    "forbidden": _l("Only a circulation supervisor can do this."),
}

BAN_PROBLEMS: dict[str, Any] = {
    "longer_than_30_days": _l("A ban from the premises lasts at most 30 days."),
    "ends_before_start": _l("The last day is before the first day."),
    "starts_before_decision": _l("The ban cannot start before the decision."),
    "hearing_after_decision": _l("The hearing must be held before the decision."),
    "required": _l("This field is required."),
}


def record_error(error: Any) -> str:
    """A refusal of the patron record (a DomainError) in words."""
    if error.code == "premises-ban-invalid":
        problems = (error.params or {}).get("fields", {})
        return " ".join(str(BAN_PROBLEMS.get(p, p)) for p in problems.values())
    return str(RECORD_ERRORS.get(error.code, error.code))


def closing_refusal(closing: Any) -> str:
    parts = []
    if closing.open_loans:
        parts.append(ngettext("%(num)d loan is still open", "%(num)d loans are still open", closing.open_loans))
    if closing.owed is not None and closing.owed.is_positive:
        parts.append(_("%(amount)s is still owed", amount=_money(closing.owed)))
    return _("The account cannot be closed: %(what)s. Nothing was changed.", what="; ".join(parts))


def item_charge_text(charge: Any, lost: bool) -> str:
    text = (_("%(title)s recorded as lost: replacement %(price)s charged.", title=charge.title,
              price=_money(charge.replacement)) if lost
            else _("%(title)s recorded as damaged: %(price)s charged.", title=charge.title,
                   price=_money(charge.replacement)))
    if charge.processing.is_positive:
        text += " " + _("Processing fee %(amount)s.", amount=_money(charge.processing))
    if charge.ban_started:
        text += " " + _("Borrowing is now barred until the fees are paid.")
    return text


def money(amount: Any) -> str:
    return _money(amount)


CATEGORIES: dict[str, Any] = {"adult": _l("Adult"), "child": _l("Child (under 15)"), "institution": _l("Institution")}


def category_name(code: str) -> str:
    return str(CATEGORIES.get(code, code))


def hearing_label(hearing: Any) -> str:
    return _("Hearing on %(day)s by %(who)s", day=format_day(hearing.held_on), who=hearing.heard_by)
