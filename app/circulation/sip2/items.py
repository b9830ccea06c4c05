"""SIP2 item messages: checkout (11), checkin (09), renew (29), renew all (65), item information (17), hold (15)
and fee paid (37), each a translation to one circulation service call."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.accounts.models import Patron
from app.circulation import service
from app.circulation import service_selfservice as selfservice
from app.circulation.models import Branch, Hold, Item, Loan
from app.circulation.money import Money
from app.circulation.service_common import policy_of
from app.circulation.sip2.handlers import (
    PATRON_PASSWORD_TEXTS,
    TEXTS,
    Context,
    TerminalState,
    find_patron,
    money_text,
    pin_check,
    reason_text,
    stamp,
)
from app.circulation.sip2.protocol import Message, fmt, sip_datetime, yes_no
from app.errors import DomainError

FEE_KINDS = {"03": ("damaged_item",), "04": ("overdue_fine",), "07": ("lost_item_replacement",),
             "09": ("uncollected_hold",)}  # SIP2 fee type -> the core's fee kinds (01 = any)
PAYMENT_TYPES = ("00", "01", "02")  # cash, VISA, credit card: the ones SIP2 2.00 (and Koha) know
ITEM_STATUS = {"available": "03", "on_loan": "04", "on_hold_shelf": "08", "in_transit": "10", "lost": "12",
               "damaged": "01", "withdrawn": "01"}


def _item(ctx: Context, state: TerminalState, barcode: str) -> Item | None:
    if not barcode or len(barcode) > 40 or not barcode.isprintable():
        return None
    item = ctx.session.scalar(select(Item).where(Item.barcode == barcode))
    return item if item is not None and item.library_id == state.library_id else None


def _due(ctx: Context, state: TerminalState, due_at: datetime) -> str:
    return sip_datetime(due_at.astimezone(ZoneInfo(state.timezone)))


def checkout(ctx: Context, state: TerminalState, msg: Message) -> str:
    def refused(text: str, item: Item | None = None) -> str:
        return fmt("12", "0NUN" + stamp(ctx, state), [("AO", state.library_code), ("AA", msg.get("AA")),
                                                        ("AB", msg.get("AB")), ("AJ", item.title if item else ""),
                                                        ("AH", ""), ("AF", text)])

    if ctx.closed:
        return refused(_(str(TEXTS["closed"])))
    found, item = find_patron(ctx, state, msg.get("AA")), _item(ctx, state, msg.get("AB"))
    if found is None:
        return refused(_(str(TEXTS["unknown_patron"])))
    cq, refusal = pin_check(ctx, msg)
    if cq is False:
        return refused(_(str(PATRON_PASSWORD_TEXTS[refusal or "invalid"])))
    if item is None:
        return refused(_(str(TEXTS["unknown_item"])))
    patron = found[0]
    if selfservice.card_blocked(ctx.session, patron.id):
        return refused(_(str(TEXTS["card_blocked"])), item)
    loan = ctx.session.scalar(select(Loan).where(Loan.item_id == item.id, Loan.status == "open")) \
        if item.status == "on_loan" else None
    if loan is not None and loan.patron_id == patron.id:  # the patron has it already: a renewal
        renewal = service.renew_loan(ctx.session, loan.id, now=ctx.now, actor=state.actor, channel="self_service")
        if not renewal.decision.allowed:
            return refused(reason_text(renewal.decision.reason), item)
        return fmt("12", "1YNY" + stamp(ctx, state), [
            ("AO", state.library_code), ("AA", patron.card_number), ("AB", item.barcode), ("AJ", item.title),
            ("AH", _due(ctx, state, renewal.due_at)), ("AF", _(str(TEXTS["renewed"])))])
    result = service.checkout(ctx.session, patron_id=patron.id, item_barcode=item.barcode, branch=f"{state.library_code}/{state.branch_code}",
                              now=ctx.now, actor=state.actor,
                              channel="self_service")
    if result.loan is None:
        return refused(reason_text(result.decision.reason), item)
    return fmt("12", "1NNY" + stamp(ctx, state), [
        ("AO", state.library_code), ("AA", patron.card_number), ("AB", item.barcode), ("AJ", item.title),
        ("AH", _due(ctx, state, result.loan.due_at)), ("CK", "001")])


def checkin(ctx: Context, state: TerminalState, msg: Message) -> str:
    """09: returns work during a break too. A sorter or book drop says "no block" (Y): the return is
    dated as the branch's book drop dates it [001]."""
    item = _item(ctx, state, msg.get("AB"))
    fields: list[tuple[str, object]] = [("AO", state.library_code), ("AB", msg.get("AB"))]
    if item is None:
        return fmt("10", "0NUN" + stamp(ctx, state), fields + [("AF", _(str(TEXTS["unknown_item"])))])
    result = service.checkin(ctx.session, item_barcode=item.barcode, branch=f"{state.library_code}/{state.branch_code}",
                             now=ctx.now, actor=state.actor, book_drop=msg.fixed_at(0, 1) == "Y")
    if not result.decision.allowed:
        return fmt("10", "0NUN" + stamp(ctx, state), fields + [("AF", reason_text(result.decision.reason))])
    home = ctx.session.get(Branch, item.home_branch_id)
    fields += [("AQ", home.code if home else ""), ("AJ", item.title)]
    alert, texts = False, []
    if result.patron_id is not None:
        borrower = ctx.session.get(Patron, result.patron_id)  # loaded by the checkin already: no query
        fields.append(("AA", borrower.card_number if borrower else ""))
    else:
        texts.append(_(str(TEXTS["not_on_loan"])))
    routing = result.routing
    if routing is not None and routing.action == "hold_shelf" and routing.hold_id is not None:
        hold = ctx.session.get(Hold, routing.hold_id)
        identifier = hold.hold_identifier if hold is not None and hold.hold_identifier else str(routing.hold_id)
        alert = True
        fields += [("CV", "01"), ("CT", ""), ("CY", identifier)]
        texts.append(_(str(TEXTS["hold_here"]), identifier=identifier))
    elif routing is not None and routing.action == "transit":
        alert = True
        fields += [("CV", "02"), ("CT", routing.branch_code)]
        texts.append(_(str(TEXTS["transit"]), branch=routing.branch_code))
    if result.fine_registered is not None and result.fine_registered.is_positive:
        fields += [("BH", result.fine_registered.currency), ("BV", money_text(result.fine_registered))]
        texts.append(_(str(TEXTS["fine"]), amount=money_text(result.fine_registered)))
    if result.returned_on is not None:
        fields.append(("CR", result.returned_on.strftime("%Y%m%d")))
    if texts:
        fields.append(("AF", " ".join(texts)))
    return fmt("10", "1Y" + "N" + yes_no(alert) + stamp(ctx, state), fields)


def renew(ctx: Context, state: TerminalState, msg: Message) -> str:
    def refused(text: str) -> str:
        return fmt("30", "0NUN" + stamp(ctx, state), [("AO", state.library_code), ("AA", msg.get("AA")),
                                                        ("AB", msg.get("AB")), ("AJ", ""), ("AF", text)])

    if ctx.closed:
        return refused(_(str(TEXTS["closed"])))
    found, item = find_patron(ctx, state, msg.get("AA")), _item(ctx, state, msg.get("AB"))
    cq, refusal = pin_check(ctx, msg) if found else (None, None)
    if found is None or cq is False:
        return refused(_(str(PATRON_PASSWORD_TEXTS[refusal] if refusal else TEXTS["unknown_patron"])))
    loan = ctx.session.scalar(select(Loan).where(Loan.item_id == item.id, Loan.status == "open",
                                                 Loan.patron_id == found[0].id)) if item else None
    if item is None or loan is None:
        return refused(_(str(TEXTS["unknown_item"])))
    result = service.renew_loan(ctx.session, loan.id, now=ctx.now, actor=state.actor, channel="self_service")
    if not result.decision.allowed:
        return refused(reason_text(result.decision.reason))
    return fmt("30", "1YNY" + stamp(ctx, state), [
        ("AO", state.library_code), ("AA", msg.get("AA")), ("AB", item.barcode), ("AJ", item.title),
        ("AH", _due(ctx, state, result.due_at)), ("AF", _(str(TEXTS["renewed"])))])


def renew_all(ctx: Context, state: TerminalState, msg: Message) -> str:
    found = find_patron(ctx, state, msg.get("AA"))
    cq, refusal = pin_check(ctx, msg) if found else (None, None)
    if ctx.closed or found is None or cq is False:
        text = TEXTS["closed"] if ctx.closed else PATRON_PASSWORD_TEXTS[refusal] if refusal else TEXTS["unknown_patron"]
        return fmt("66", "0" + "0000" + "0000" + stamp(ctx, state), [("AO", state.library_code),
                                                                        ("AF", _(str(text)))])
    results = service.renew_loans(ctx.session, patron_id=found[0].id, loan_ids=None, now=ctx.now, actor=state.actor,
                                  channel="self_service")
    done = [r.item_barcode for r in results if r.decision.allowed]
    refused = [r.item_barcode for r in results if not r.decision.allowed]
    fields: list[tuple[str, object]] = [("AO", state.library_code)]
    fields += [("BM", barcode) for barcode in done] + [("BN", barcode) for barcode in refused]
    return fmt("66", "1" + f"{len(done):04d}" + f"{len(refused):04d}" + stamp(ctx, state), fields)


def item_information(ctx: Context, state: TerminalState, msg: Message) -> str:
    item = _item(ctx, state, msg.get("AB"))
    if item is None:
        return fmt("18", "01" + "00" + "01" + stamp(ctx, state), [("AB", msg.get("AB")), ("AJ", ""),
                                                                  ("AF", _(str(TEXTS["unknown_item"])))])
    loan = ctx.session.scalar(select(Loan).where(Loan.item_id == item.id, Loan.status == "open"))
    queue = ctx.session.scalar(select(func.count()).select_from(Hold).where(
        Hold.record_key == item.record_key, Hold.library_id == item.library_id, Hold.state == "waiting")) or 0
    where, home = ctx.session.get(Branch, item.current_branch_id), ctx.session.get(Branch, item.home_branch_id)
    fields: list[tuple[str, object]] = [("AB", item.barcode), ("AJ", item.title), ("CF", queue),
                                        ("AH", _due(ctx, state, loan.due_at) if loan else None),
                                        ("AP", where.code if where else ""), ("AQ", home.code if home else "")]
    return fmt("18", ITEM_STATUS.get(item.status, "01") + "00" + "01" + stamp(ctx, state), fields)


# -- 15 holds, 37 fees ---------------------------------------------------------------------------------


def hold(ctx: Context, state: TerminalState, msg: Message) -> str:
    def answer16(ok: bool, text: str, available: bool = False, extra: list[tuple[str, object]] | None = None) -> str:
        return fmt("16", ("1" if ok else "0") + yes_no(available) + stamp(ctx, state),
                   [("AO", state.library_code), ("AA", msg.get("AA")), *(extra or []), ("AF", text)])

    found, item = find_patron(ctx, state, msg.get("AA")), _item(ctx, state, msg.get("AB"))
    cq, refusal = pin_check(ctx, msg) if found else (None, None)
    if ctx.closed or found is None or cq is False or item is None:
        text = (TEXTS["closed"] if ctx.closed else TEXTS["unknown_patron"] if found is None else
                PATRON_PASSWORD_TEXTS[refusal or "invalid"] if cq is False else TEXTS["unknown_item"])
        return answer16(False, _(str(text)))
    patron = found[0]
    if msg.fixed_at(0, 1) == "-":
        held = ctx.session.scalar(select(Hold).where(Hold.patron_id == patron.id, Hold.record_key == item.record_key,
                                                     Hold.state.in_(("waiting", "in_transit", "ready"))))
        if held is None:
            return answer16(False, _(str(TEXTS["no_hold"])))
        decision = service.cancel_hold(ctx.session, held.id, by="patron", now=ctx.now, actor=state.actor,
                                       patron_id=patron.id)
        return answer16(decision.allowed, _(str(TEXTS["hold_cancelled"])) if decision.allowed
                        else reason_text(decision.reason))
    pickup = msg.get("BS") or state.branch_code
    try:
        result = service.place_hold(ctx.session, patron_id=patron.id, item_barcode=item.barcode, now=ctx.now,
                                    actor=state.actor, pickup_branch=f"{state.library_code}/{pickup}")
    except DomainError:
        return answer16(False, _(str(TEXTS["unknown_item"])))
    if result.hold is None:
        return answer16(False, reason_text(result.decision.reason))
    position = result.decision.details.get("queue_position")
    return answer16(True, _(str(TEXTS["hold_placed"])), result.hold.state != "waiting",
                    [("BR", position), ("BS", pickup), ("AB", item.barcode), ("AJ", item.title)])


def fee_paid(ctx: Context, state: TerminalState, msg: Message) -> str:
    """37: a payment at the machine, allocated to the named fee (CG), the fees of the SIP2 fee type, or the
    oldest first; never more than is owed (refused, not kept as credit)."""
    def answer38(ok: bool, text: str) -> str:
        return fmt("38", yes_no(ok) + stamp(ctx, state), [("AO", state.library_code), ("AA", msg.get("AA")),
                                                           ("BK", msg.get("BK") or None), ("AF", text)])

    found = find_patron(ctx, state, msg.get("AA"))
    cq, refusal = pin_check(ctx, msg) if found else (None, None)
    if ctx.closed or found is None or cq is False:
        text = TEXTS["closed"] if ctx.closed else PATRON_PASSWORD_TEXTS[refusal] if refusal else TEXTS["unknown_patron"]
        return answer38(False, _(str(text)))
    patron, _circ, library = found
    if msg.fixed_at(20, 2) not in PAYMENT_TYPES:
        return answer38(False, _(str(TEXTS["bad_payment_type"])))
    currency = policy_of(library).currency
    try:
        if msg.fixed_at(22, 3).strip() not in ("", currency):
            raise ValueError("currency")
        amount = Money.parse(str(Decimal(msg.get("BV").strip()).quantize(Decimal("0.01"))), currency)
    except (ValueError, InvalidOperation, ArithmeticError):
        return answer38(False, _(str(TEXTS["bad_amount"])))
    if not amount.is_positive:
        return answer38(False, _(str(TEXTS["bad_amount"])))
    debits = service.outstanding_debits(ctx.session, patron.id)
    fee_type, named = msg.fixed_at(18, 2), msg.get("CG")
    if named:
        debits = [d for d in debits if str(d.id) == named]
    elif fee_type in FEE_KINDS:
        debits = [d for d in debits if d.kind in FEE_KINDS[fee_type]]
    owed = Money.total((d.outstanding for d in debits), currency)
    if not debits or amount > owed:
        return answer38(False, _(str(TEXTS["overpaid"])))
    service.pay_at_desk(ctx.session, patron_id=patron.id, amount=amount, now=ctx.now, actor=state.actor,
                        fee_ids=[d.id for d in debits])
    return answer38(True, _(str(TEXTS["paid"])))
