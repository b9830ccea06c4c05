"""The desk's answers in words: refusals, scans, returns, renewals and payments (translated)."""
from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

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
        "closed": _("The account is closed."),
    }
    return texts.get(block.code, block.code)


def item_status_refusal(reason: str | None) -> str:
    texts = {"on_loan": _("The item is on loan: check it in first."),
             "held": _("The item is on its way to a hold or on the hold shelf: check it in first."),
             "unknown_status": _("Choose one of the statuses listed.")}
    return texts.get(reason or "", _("Refused (%(reason)s).", reason=reason))
