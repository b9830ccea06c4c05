"""JSON API of the desk's patron record and payment actions (staff bearer token), the same services as the
desk's pages (app/circulation/desk/views.py): record changes, the set-PIN link, card blocks, the hearing and
the premises ban [001], membership revalidation, closing an account, refunds, receipts, and lost and damaged
items. Routes hang on the circulation API's blueprint (``/api/v1/circulation``)."""
from __future__ import annotations

from typing import Any

from flask import current_app, g
from flask_babel import gettext as _

from app import clock, db
from app.accounts.auth import api_staff
from app.circulation import api_json, service, service_desk, service_fees, service_record
from app.circulation import schemas_desk as schemas
from app.circulation.api import _patron_id, _unsafe_card, bp
from app.circulation.money import Money
from app.circulation.service_common import borrower, find_branch
from app.errors import DomainError, validation_problem
from app.platform.contract import operation

DESK = ["circulation desk: patron record and payments"]
DESK_ROLES = ("librarian", "circulation")
SUPERVISOR = ("circulation-supervisor",)
NOT_FOUND = "No patron with this card number, or not a borrower of a library"
FIELDS = "Field errors (`errors`)"
SUPERVISORS = "The token's user is not a circulation supervisor (`required_roles`)"


def _patron(card_number: str) -> int:
    if (unsafe := _unsafe_card(card_number)) is not None:
        raise _Unsafe(unsafe)
    patron_id = _patron_id(card_number)
    borrower(db.session(), patron_id)
    return patron_id


class _Unsafe(Exception):
    def __init__(self, response: Any) -> None:
        self.response = response


def _amount(text: str | None, patron_id: int) -> Money | None:
    if text is None:
        return None
    try:
        amount = Money.parse(text.strip(), service.currency_of(db.session(), patron_id))
    except ValueError:
        raise _Invalid("amount") from None
    if not amount.is_positive:
        raise _Invalid("amount")
    return amount


class _Invalid(Exception):
    def __init__(self, field: str) -> None:
        self.field = field


def _guarded(view: Any) -> Any:
    """Answer hostile path values and unreadable amounts with a 422 naming the field."""
    from functools import wraps

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except _Unsafe as unsafe:
            return unsafe.response
        except _Invalid as invalid:
            db.session().rollback()
            return validation_problem({invalid.field: [_("An amount such as 5.00.")]})
        except DomainError:
            db.session().rollback()  # a refusal keeps nothing of the request
            raise

    return wrapped


# -- the record --------------------------------------------------------------------------------------


@bp.post("/patrons/<card_number>/record")
@api_staff(*DESK_ROLES)
@_guarded
@operation("Change a patron's record: contact data, the name (with the identity check), notices, category, "
           "home branch", tags=DESK, body=schemas.RecordChange, responses={
               200: (schemas.RecordChanged, "Saved: the names of the fields that changed"), 404: NOT_FOUND,
               422: FIELDS + ", or `type` …/identity-check-required (a new name without identity_check), "
                    "…/unknown-category, …/unknown-branch, …/channel-without-contact"})
def change_record(card_number: str, body: schemas.RecordChange) -> Any:
    patron_id = _patron(card_number)
    s = db.session()
    view = service_record.record_view(s, patron_id)
    patron, circ = view.patron, view.circ
    home = circ.home_branch_id
    if body.home_branch is not None:
        try:
            home = find_branch(s, body.home_branch, circ.library_id).id
        except DomainError:
            raise DomainError("unknown-branch", 422, field="home_branch") from None
    changed = service_record.update_record(
        s, patron_id, name=body.name if body.name is not None else patron.name,
        identity_check=body.identity_check or "",
        email=body.email if body.email is not None else patron.email,
        phone=body.phone if body.phone is not None else patron.phone,
        postal_address=body.postal_address if body.postal_address is not None else circ.postal_address,
        notice_channels=list(body.notice_channels if body.notice_channels is not None else circ.notice_channels or []),
        receipts_by_email=body.receipts_by_email if body.receipts_by_email is not None else circ.receipts_by_email,
        category=body.category if body.category is not None else circ.category, home_branch_id=home,
        now=clock.now(), actor=g.api_user)
    s.commit()
    return schemas.RecordChanged(changed=changed)


@bp.post("/patrons/<card_number>/pin-link")
@api_staff(*DESK_ROLES)
@_guarded
@operation("Email the patron a new one-time link for choosing the PIN (through the outbox)", tags=DESK,
           body=None, responses={
               202: (schemas.LinkSent, "Queued (or already sent in the last 10 minutes)"), 404: NOT_FOUND,
               409: "`type` …/no-email (the patron has no email address) or …/account-closed",
               422: "The card number holds a character that cannot be stored"})
def pin_link(card_number: str) -> Any:
    patron_id = _patron(card_number)
    config = current_app.config
    sent = service_record.resend_pin_link(db.session(), patron_id, now=clock.now(), actor=g.api_user,
                                          base_url=config["BASE_URL"],
                                          hours=int(config.get("REGISTRATION_LINK_HOURS", 14 * 24)))
    db.session().commit()
    return schemas.LinkSent(sent=sent), 202


@bp.post("/patrons/<card_number>/block")
@api_staff(*DESK_ROLES)
@_guarded
@operation("Block the patron's card, with a reason (no checkouts at the desk until lifted)", tags=DESK,
           body=schemas.ReasonBody, responses={
               201: (schemas.BlockSet, "Blocked"), 404: NOT_FOUND, 409: "`type` …/already-blocked",
               422: FIELDS})
def block(card_number: str, body: schemas.ReasonBody) -> Any:
    patron_id = _patron(card_number)
    ban = service_record.block_card(db.session(), patron_id, reason=body.reason, now=clock.now(), actor=g.api_user)
    db.session().commit()
    return schemas.BlockSet(blocked=True, since=ban.started_at), 201


@bp.post("/patrons/<card_number>/unblock")
@api_staff(*DESK_ROLES)
@_guarded
@operation("Lift the block on the patron's card, with a reason", tags=DESK, body=schemas.ReasonBody, responses={
    200: (schemas.BlockSet, "Lifted"), 404: NOT_FOUND, 409: "`type` …/not-blocked", 422: FIELDS})
def unblock(card_number: str, body: schemas.ReasonBody) -> Any:
    patron_id = _patron(card_number)
    service_record.unblock_card(db.session(), patron_id, reason=body.reason, now=clock.now(), actor=g.api_user)
    db.session().commit()
    return schemas.BlockSet(blocked=False)


@bp.post("/patrons/<card_number>/hearings")
@api_staff(*DESK_ROLES)
@_guarded
@operation("Record the hearing of the patron that must come before a premises ban [001]", tags=DESK,
           body=schemas.HearingBody, responses={
               201: (schemas.HearingRecorded, "Recorded"), 404: NOT_FOUND,
               422: FIELDS + ", or `type` …/hearing-invalid (`fields`: held_on in_the_future)"})
def hearing(card_number: str, body: schemas.HearingBody) -> Any:
    patron_id = _patron(card_number)
    row = service_record.record_hearing(db.session(), patron_id, held_on=body.held_on, heard_by=body.heard_by,
                                        summary=body.summary, now=clock.now(), actor=g.api_user)
    db.session().commit()
    return schemas.HearingRecorded(hearing_id=row.id), 201


@bp.post("/patrons/<card_number>/premises-bans")
@api_staff(*SUPERVISOR)
@_guarded
@operation("Record a ban from the premises (at most 30 days) after a recorded hearing [001] — supervisors",
           tags=DESK, body=schemas.PremisesBanBody, responses={
               201: (schemas.PremisesBanRecorded, "Recorded"), 403: SUPERVISORS, 404: NOT_FOUND,
               422: FIELDS + ", or `type` …/hearing-required (no unused hearing of this patron with that id), "
                    "…/premises-ban-invalid (`fields`, e.g. ends_on: longer_than_30_days)"})
def premises_ban(card_number: str, body: schemas.PremisesBanBody) -> Any:
    patron_id = _patron(card_number)
    ban = service_record.ban_from_premises(
        db.session(), patron_id, hearing_id=body.hearing_id, decided_on=body.decided_on,
        decision_maker=body.decision_maker, starts_on=body.starts_on, ends_on=body.ends_on, reason=body.reason,
        decision_reference=body.decision_reference, now=clock.now(), actor=g.api_user)
    db.session().commit()
    assert ban.starts_on is not None and ban.ends_on is not None
    return schemas.PremisesBanRecorded(ban_id=ban.id, starts_on=ban.starts_on, ends_on=ban.ends_on), 201


@bp.post("/patrons/<card_number>/membership/revalidation")
@api_staff(*DESK_ROLES)
@_guarded
@operation("Revalidate the patron's membership (details checked with the patron) [001]", tags=DESK,
           body=schemas.RevalidationBody, body_required=False, responses={
               200: (schemas.Revalidated, "Revalidated"), 404: NOT_FOUND, 422: FIELDS})
def revalidate(card_number: str, body: schemas.RevalidationBody) -> Any:
    patron_id = _patron(card_number)
    now = clock.now()
    service_record.revalidate_membership(db.session(), patron_id, note=body.note, now=now, actor=g.api_user)
    db.session().commit()
    return schemas.Revalidated(validated_at=now)


@bp.post("/patrons/<card_number>/closure")
@api_staff(*SUPERVISOR)
@_guarded
@operation("Close the patron's account — supervisors; refused while loans or debts are open", tags=DESK,
           body=schemas.ReasonBody, responses={
               200: (schemas.Closed, "Closed; waiting holds cancelled, the record kept"), 403: SUPERVISORS,
               404: NOT_FOUND,
               409: "`type` …/account-has-open-items with `open_loans` and `owed` (nothing was changed), or "
                    "…/account-closed",
               422: FIELDS})
def close(card_number: str, body: schemas.ReasonBody) -> Any:
    patron_id = _patron(card_number)
    closing = service_record.close_account(db.session(), patron_id, reason=body.reason, now=clock.now(),
                                           actor=g.api_user)
    if not closing.closed:
        db.session().rollback()
        owed = closing.owed
        raise DomainError("account-has-open-items", 409, open_loans=closing.open_loans,
                          owed=str(owed.to_decimal()) if owed is not None and owed.is_positive else "0")
    db.session().commit()
    return schemas.Closed(closed=True, holds_cancelled=closing.holds_cancelled)


# -- payments ----------------------------------------------------------------------------------------

PAYMENT_NOT_FOUND = NOT_FOUND + ", or no booked payment of this patron with this id"


def _receipt(record: service_fees.PaymentRecord) -> schemas.Receipt:
    return schemas.Receipt(payment_id=record.id, method=record.method, means=record.means,
                           amount=api_json.money(record.amount), refunded=api_json.money(record.refunded),
                           booked_at=record.booked_at,
                           lines=[schemas.ReceiptLine(reason=line.reason, amount=api_json.money(line.amount))
                                  for line in record.lines])


@bp.get("/patrons/<card_number>/payments/<int:payment_id>")
@api_staff(*DESK_ROLES)
@_guarded
@operation("A payment as its receipt tells it: the fees it paid and what was refunded", tags=DESK, responses={
    200: (schemas.Receipt, "The receipt"), 404: PAYMENT_NOT_FOUND,
    422: "The card number holds a character that cannot be stored"})
def receipt(card_number: str, payment_id: int) -> Any:
    patron_id = _patron(card_number)
    payment = service_fees.payment_of_patron(db.session(), patron_id, payment_id)
    return _receipt(service_fees.payment_record(db.session(), payment))


@bp.post("/patrons/<card_number>/payments/<int:payment_id>/receipt-email")
@api_staff(*DESK_ROLES)
@_guarded
@operation("Email the payment's receipt to the patron (through the outbox, once per refund state)", tags=DESK,
           body=None, responses={
               202: (schemas.ReceiptSent, "Queued, or already sent"), 404: PAYMENT_NOT_FOUND,
               409: "`type` …/no-email: the patron has no email address",
               422: "The card number holds a character that cannot be stored"})
def receipt_email(card_number: str, payment_id: int) -> Any:
    patron_id = _patron(card_number)
    library = service_desk.desk_library(db.session(), g.api_user)
    sent = service_fees.email_receipt(db.session(), patron_id=patron_id, payment_id=payment_id, now=clock.now(),
                                      actor=g.api_user, library_name=library.name if library else "")
    db.session().commit()
    return schemas.ReceiptSent(sent=sent), 202


@bp.post("/patrons/<card_number>/payments/<int:payment_id>/refunds")
@api_staff(*SUPERVISOR)
@_guarded
@operation("Refund (part of) a payment, with a reason — supervisors; the fees it paid stay settled", tags=DESK,
           body=schemas.RefundBody, responses={
               201: (schemas.Refunded, "Refunded"), 403: SUPERVISORS, 404: PAYMENT_NOT_FOUND,
               409: "`type` …/circulation-nothing-to-refund, or …/circulation-more-than-paid with `refundable`",
               422: FIELDS + " (`amount` not an amount of the library's currency)"})
def refund(card_number: str, payment_id: int, body: schemas.RefundBody) -> Any:
    patron_id = _patron(card_number)
    amount = _amount(body.amount, patron_id)
    s = db.session()
    decision = service_fees.refund_payment(s, patron_id=patron_id, payment_id=payment_id, amount=amount,
                                           reason=body.reason, now=clock.now(), actor=g.api_user)
    if not decision.allowed:
        s.rollback()
        details = decision.details or {}
        extra = {"refundable": str(details["refundable"].to_decimal())} if "refundable" in details else {}
        raise DomainError("circulation-" + (decision.reason or "refused").replace("_", "-"), 409, **extra)
    record = service_fees.payment_record(s, service_fees.payment_of_patron(s, patron_id, payment_id))
    s.commit()
    return schemas.Refunded(payment_id=payment_id, refunded=api_json.money(decision.details["amount"]),
                            refunded_in_all=api_json.money(record.refunded)), 201


@bp.post("/patrons/<card_number>/loans/<int:loan_id>/lost")
@api_staff(*DESK_ROLES)
@_guarded
@operation("The patron lost a loaned item: its price and the preset's processing fee are charged", tags=DESK,
           body=None, responses={
               200: (schemas.ItemCharged, "Charged; the loan ended as lost"),
               404: NOT_FOUND + ", or not this patron's open loan",
               422: "The card number holds a character that cannot be stored"})
def lost(card_number: str, loan_id: int) -> Any:
    patron_id = _patron(card_number)
    charge = service_desk.charge_lost_at_desk(db.session(), patron_id=patron_id, loan_id=loan_id, now=clock.now(),
                                              actor=g.api_user)
    db.session().commit()
    return schemas.ItemCharged(barcode=charge.barcode, replacement=api_json.money(charge.replacement),
                               processing=api_json.money(charge.processing))


@bp.post("/patrons/<card_number>/damaged-items")
@api_staff(*DESK_ROLES)
@_guarded
@operation("Charge the patron for a damaged item they borrowed last (price or amount, plus the processing fee)",
           tags=DESK, body=schemas.DamagedBody, responses={
               200: (schemas.ItemCharged, "Charged; the copy is marked damaged (checked in first if on loan)"),
               404: NOT_FOUND + ", no such item or branch, or the patron was not the copy's last borrower",
               409: "`type` …/calendar-missing: the branch has no opening-hours calendar",
               422: FIELDS + ", or `type` …/branch-ambiguous, …/invalid-amount"})
def damaged(card_number: str, body: schemas.DamagedBody) -> Any:
    patron_id = _patron(card_number)
    amount = _amount(body.amount, patron_id)
    s = db.session()
    _patron_row, circ, _library = borrower(s, patron_id)
    branch = find_branch(s, body.branch, circ.library_id)
    charge = service_desk.charge_damaged_at_desk(s, patron_id=patron_id, barcode=body.item_barcode, branch=branch,
                                                 now=clock.now(), actor=g.api_user, amount=amount)
    s.commit()
    return schemas.ItemCharged(barcode=charge.barcode, replacement=api_json.money(charge.replacement),
                               processing=api_json.money(charge.processing))
