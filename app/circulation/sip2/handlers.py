"""SIP2 requests translated to the circulation services and back (architecture rule 1: no rules of their own):
the session's state, shared helpers, and the status, login and patron messages (99, 93, 35, 23, 25, 01, 63).
Item messages are in ``items``; ``dispatch.answer`` picks the handler. Texts for the patron (AF) are in the
terminal's language.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.accounts import cards
from app.accounts import service as accounts
from app.accounts.models import Patron
from app.accounts.throttle import ThrottlePolicy
from app.circulation import service
from app.circulation import service_selfservice as selfservice
from app.circulation.api_json import REASONS
from app.circulation.decisions import (
    ItemFacts,
    PatronFacts,
    can_checkout,
    can_place_hold,
    is_under_billing_ban,
)
from app.circulation.models import Branch, CircLibrary, Loan, PatronCirculation
from app.circulation.money import Money
from app.circulation.service_common import local_today, patron_facts, policy_of
from app.circulation.sip2 import protocol
from app.circulation.sip2.protocol import Message, fmt, sip_datetime, yes_no

SUPPORTED = {"23", "11", "09", "01", "99", "97", "93", "63", "35", "37", "17", "25", "15", "29", "65"}
LANGUAGE_CODES = {"en": "001", "sv": "006", "fi": "007"}  # SIP2's language numbers
PATRON_PASSWORD_TEXTS = {
    "invalid": _l("Wrong card number or PIN."),
    "locked": _l("Too many wrong PINs: the card is locked for a while."),
}
TEXTS = {
    "closed": _l("Self-service is closed for a maintenance break. Returns still work."),
    "unknown_patron": _l("Unknown library card."),
    "unknown_item": _l("Unknown item."),
    "card_blocked": _l("The card is blocked for self-service. Please contact the library."),
    "not_on_loan": _l("The item was not on loan."),
    "hold_here": _l("Reserved: put the item on the hold shelf (%(identifier)s)."),
    "transit": _l("Reserved: send the item to %(branch)s."),
    "fine": _l("An overdue fine of %(amount)s was charged."),
    "renewed": _l("The loan was renewed."),
    "paid": _l("Payment received."),
    "overpaid": _l("The amount is more than is owed."),
    "bad_amount": _l("The amount is not valid."),
    "bad_payment_type": _l("This payment method is not accepted here."),
    "hold_placed": _l("Hold placed."),
    "hold_cancelled": _l("Hold cancelled."),
    "no_hold": _l("No hold on this title."),
    "goodbye": _l("Thank you, goodbye."),
}


@dataclass
class TerminalState:
    """One connection's session: who logged in, and the last answer (for a 97 resend)."""

    terminal_id: int | None = None
    name: str = ""
    branch_id: int | None = None
    branch_code: str = ""
    library_id: int | None = None
    library_code: str = ""
    language: str = "fi"
    charset: str = "utf-8"
    timezone: str = "UTC"  # the branch's, for the dates of the answers (read once, at login)
    last_response: str | None = None
    checked_at: float = 0.0  # when the terminal was last seen enabled (time.monotonic)

    def log_out(self) -> None:
        self.__init__()  # type: ignore[misc]  # every field back to its default

    @property
    def logged_in(self) -> bool:
        return self.terminal_id is not None

    @property
    def actor(self) -> str:
        return f"sip2:{self.name}"


@dataclass(frozen=True)
class Context:
    session: Session
    now: datetime
    throttle: ThrottlePolicy
    closed: bool  # the status page closed the self_service component for a break



# -- helpers ------------------------------------------------------------------------------------------


def local_now(ctx: Context, state: TerminalState) -> datetime:
    return ctx.now.astimezone(ZoneInfo(state.timezone))


def stamp(ctx: Context, state: TerminalState) -> str:
    return sip_datetime(local_now(ctx, state))


def find_patron(ctx: Context, state: TerminalState, card: str) -> tuple[Patron, PatronCirculation, CircLibrary] | None:
    """The borrower with this card in the terminal's library, or None."""
    if not card or len(card) > 20 or not card.isprintable():
        return None
    row = ctx.session.execute(
        select(Patron, PatronCirculation, CircLibrary)
        .join(PatronCirculation, PatronCirculation.patron_id == Patron.id)
        .join(CircLibrary, CircLibrary.id == PatronCirculation.library_id)
        .where(cards.opened_by(card))).first()  # one query: any active card of the account; a lost one opens nothing
    if row is None or not row[0].active or row[2].id != state.library_id:
        return None
    return row[0], row[1], row[2]


def pin_check(ctx: Context, msg: Message) -> tuple[bool | None, str | None]:
    """(CQ, refusal text key): None when the request carries no PIN; the web's throttle and lockout apply."""
    if not msg.has("AD"):
        return None, None
    result = accounts.authenticate_patron(ctx.session, msg.get("AA"), msg.get("AD"), ctx.now, ctx.throttle,
                                          allow=("pin",))
    return result.ok, (None if result.ok else result.reason or "invalid")


def reason_text(reason: str | None) -> str:
    text = REASONS.get(reason or "")
    return str(text) if text is not None else str(reason or "")


def money_text(amount: Money) -> str:
    return str(amount.to_decimal())


def patron_status(ctx: Context, patron: Patron, circ: PatronCirculation, library: CircLibrary,
                  summary: service.AccountSummary | None = None) -> str:
    """The 14 patron-status flags, from the core's decisions (Y = the privilege is denied / the limit reached).
    With the account ``summary`` the message has read already, its balance, ban and loans are used again
    rather than read twice."""
    session, policy = ctx.session, policy_of(library)
    today = local_today(policy.timezone, ctx.now)
    if summary is None:
        facts = patron_facts(session, patron, circ, policy, ctx.now)
    else:
        facts = PatronFacts(category=circ.category, balance=summary.balance, birth_date=patron.birth_date,
                            card_expires_on=circ.card_expires_on,
                            membership_checked_on=local_today(policy.timezone, circ.membership_validated_at),
                            premises_ban_until=summary.premises_ban_until, in_collection=circ.in_collection)
    blocked = selfservice.card_blocked(session, patron.id)
    material = sorted(policy.material_types)[0]
    rules = policy.rules_for(None, circ.category, material)
    charge = can_checkout(patron=facts, item=ItemFacts(material), loans_by_material={}, policy=policy, branch=None,
                          today=today)
    hold = can_place_hold(patron=facts, rules=rules, policy=policy, today=today)
    barred = is_under_billing_ban(facts, policy)
    counted = session.execute(select(
        func.sum(case((Loan.status == "open", 1), else_=0)),
        func.sum(case(((Loan.status == "open") & (Loan.due_at < ctx.now), 1), else_=0)),
        func.sum(case((Loan.status == "lost", 1), else_=0)),
    ).where(Loan.patron_id == patron.id, Loan.status.in_(("open", "lost")))).one()
    loans, overdue, lost = (int(n or 0) for n in counted)
    fines = policy.billing_ban.bans(facts.balance)
    flags = [not charge.allowed or blocked, barred or blocked, True, hold.reason in ("billing_ban", "card_expired")
             or blocked, blocked, loans >= rules.max_loans_total, bool(overdue) and barred, False, False, lost > 0,
             fines, fines, False, facts.in_collection]
    return "".join("Y" if flag else " " for flag in flags)


def _sip_language(state: TerminalState) -> str:
    return LANGUAGE_CODES.get(state.language, "000")


# -- 99, 93, 35, 97 ---------------------------------------------------------------------------------


def sc_status(ctx: Context, state: TerminalState, msg: Message) -> str:
    library = ctx.session.get(CircLibrary, state.library_id) if state.library_id else None
    fixed = ("Y" + "Y" + yes_no(not ctx.closed) + "Y" + "N" + "N" + "030" + "003" + stamp(ctx, state) + "2.00")
    fields: list[tuple[str, object]] = [("AO", state.library_code), ("AM", library.name if library else ""),
                                        ("BX", protocol.supported_messages(SUPPORTED)), ("AN", state.branch_code)]
    if ctx.closed:
        fields.append(("AF", _(str(TEXTS["closed"]))))
    return fmt("98", fixed, fields)


def login(ctx: Context, state: TerminalState, msg: Message) -> str:
    terminal = selfservice.authenticate_terminal(ctx.session, msg.get("CN"), msg.get("CO"), ctx.now, ctx.throttle)
    if terminal is None:
        return fmt("94", "0")
    branch = ctx.session.get(Branch, terminal.branch_id)
    assert branch is not None
    library = ctx.session.get(CircLibrary, branch.library_id)
    assert library is not None
    if msg.get("CP") and msg.get("CP") not in (branch.code, f"{library.code}/{branch.code}"):
        return fmt("94", "0")  # a terminal logs in at its own branch only
    state.terminal_id, state.name, state.branch_id, state.branch_code = terminal.id, terminal.name, branch.id, branch.code
    state.library_id, state.library_code = library.id, library.code
    state.language, state.charset, state.timezone = terminal.language, terminal.charset, branch.timezone
    state.checked_at = time.monotonic()
    return fmt("94", "1")


def end_session(ctx: Context, state: TerminalState, msg: Message) -> str:
    return fmt("36", "Y" + stamp(ctx, state), [("AO", state.library_code), ("AA", msg.get("AA")),
                                                 ("AF", _(str(TEXTS["goodbye"])))])


# -- patrons: 23, 63, 25, 01 --------------------------------------------------------------------------


def _patron_block(ctx: Context, state: TerminalState, msg: Message, code: str, *, extra_fixed: str = "",
                  after: Any = None) -> str:
    """23/25/01 answer the same shape: status flags, language, date, then AO AA AE BL CQ (and fees)."""
    found = find_patron(ctx, state, msg.get("AA"))
    cq, refusal = pin_check(ctx, msg) if found else (False if msg.has("AD") else None, None)
    fields: list[tuple[str, object]] = [("AO", state.library_code), ("AA", msg.get("AA"))]
    if found is None:
        flags = "Y" * 4 + " " * 10
        fields += [("AE", ""), ("BL", "N"), ("CQ", "N" if cq is not None else None),
                   ("AF", _(str(TEXTS["unknown_patron"])))]
        return fmt(code, flags + _sip_language(state) + stamp(ctx, state) + extra_fixed, fields)
    patron, circ, library = found
    if after is not None and cq is not False:
        after(patron)
    summary = service.patron_account_summary(ctx.session, patron.id, now=ctx.now)
    fields += [("AE", patron.name), ("BL", "Y"), ("CQ", yes_no(bool(cq)) if cq is not None else None),
               ("BH", summary.currency), ("BV", money_text(summary.balance))]
    if refusal:
        fields.append(("AF", _(str(PATRON_PASSWORD_TEXTS[refusal]))))
    return fmt(code, patron_status(ctx, patron, circ, library, summary) + _sip_language(state) + stamp(ctx, state)
               + extra_fixed, fields)


def patron_status_request(ctx: Context, state: TerminalState, msg: Message) -> str:
    return _patron_block(ctx, state, msg, "24")


def patron_enable(ctx: Context, state: TerminalState, msg: Message) -> str:
    """25: with the right PIN, lifts a self-service block a terminal set (01); other blocks are the core's."""
    return _patron_block(ctx, state, msg, "26", after=lambda patron: selfservice.unblock_card(
        ctx.session, patron.id, now=ctx.now, actor=state.actor) if msg.has("AD") else None)


def block_patron(ctx: Context, state: TerminalState, msg: Message) -> str:
    """01: the terminal kept the card (or reports it); answered with 24."""
    found = find_patron(ctx, state, msg.get("AA"))
    if found is not None:
        retained = msg.fixed_at(0, 1) == "Y"
        selfservice.block_card(ctx.session, found[0].id, now=ctx.now, actor=state.actor,
                               reason=("card retained: " if retained else "") + msg.get("AL"))
    plain = Message("23", msg.fixed, {k: v for k, v in msg.fields.items() if k != "AD"})
    return _patron_block(ctx, state, plain, "24")


def patron_information(ctx: Context, state: TerminalState, msg: Message) -> str:
    found = find_patron(ctx, state, msg.get("AA"))
    if found is None or msg.has("PA"):
        return _door_or_unknown(ctx, state, msg, found)
    patron, circ, library = found
    cq, refusal = pin_check(ctx, msg)
    summary = service.patron_account_summary(ctx.session, patron.id, now=ctx.now)
    wanted = msg.fixed_at(21, 10)
    overdue = [line for line in summary.loans if line.due_state == "overdue"]
    ready = [hold for hold in summary.holds if hold.state == "ready"]
    waiting = [hold for hold in summary.holds if hold.state in ("waiting", "in_transit")]
    rules = policy_of(library).rules_for(None, circ.category, sorted(policy_of(library).material_types)[0])
    counts = "".join(f"{n:04d}" for n in (len(ready), len(overdue), len(summary.loans), len(summary.fees), 0,
                                          len(waiting)))
    fields: list[tuple[str, object]] = [
        ("AO", state.library_code), ("AA", patron.card_number), ("AE", patron.name), ("CB", rules.max_loans_total),
        ("BL", "Y"), ("CQ", yes_no(bool(cq)) if cq is not None else None), ("BH", summary.currency),
        ("BV", money_text(summary.balance))]
    if cq is not False:  # the lists only for the card's owner (or a terminal that asks without a PIN)
        lists = [("AS", [h.title for h in ready]), ("AT", [line.barcode for line in overdue]),
                 ("AU", [line.barcode for line in summary.loans]),
                 ("AV", [f"{money_text(fee.outstanding)} {fee.reason}" for fee in summary.fees]), ("BU", []),
                 ("CD", [h.title for h in waiting])]
        start, end = _range(msg)
        for index, (field_id, values) in enumerate(lists):
            if wanted[index:index + 1] == "Y":
                fields += [(field_id, value) for value in values[start:end]]
        fields += [("BE", patron.email or None), ("BF", patron.phone or None)]
    if refusal:
        fields.append(("AF", _(str(PATRON_PASSWORD_TEXTS[refusal]))))
    status = patron_status(ctx, patron, circ, library, summary)
    return fmt("64", status + _sip_language(state) + stamp(ctx, state) + counts, fields)


def _range(msg: Message) -> tuple[int, int]:
    try:
        start = max(int(msg.get("BP") or 1), 1) - 1
        end = int(msg.get("BQ") or 0) or start + 100
    except ValueError:
        return 0, 100
    return start, min(end, start + 100)


def _door_or_unknown(ctx: Context, state: TerminalState, msg: Message, found: Any) -> str:
    """63 from a door controller (PA field): the door's own rules decide; PA1 opens, PA0 keeps shut."""
    fields: list[tuple[str, object]] = [("AO", state.library_code), ("AA", msg.get("AA"))]
    if msg.has("PA"):
        decision = selfservice.door_check(ctx.session, card=msg.get("AA"), pin=msg.get("AD"),
                                          branch=state.branch_code, now=ctx.now, actor=state.actor,
                                          throttle_policy=ctx.throttle, closed=ctx.closed,
                                          library_id=state.library_id)
        valid = decision.reason not in ("invalid_card_or_pin", "locked", "other_library", "no_self_service")
        fields += [("AE", found[0].name if found and valid else ""), ("BL", yes_no(found is not None)),
                   ("CQ", yes_no(valid)), ("PA", "1" if decision.permitted else "0"),
                   ("AF", _(str(DOOR_TEXTS[decision.reason])))]
        status = " " * 14 if decision.permitted else "Y" + " " * 13
    else:
        fields += [("AE", ""), ("BL", "N"), ("CQ", "N" if msg.has("AD") else None),
                   ("AF", _(str(TEXTS["unknown_patron"])))]
        status = "Y" * 4 + " " * 10
    return fmt("64", status + _sip_language(state) + stamp(ctx, state) + "0000" * 6, fields)


DOOR_TEXTS = {
    "closed_for_maintenance": TEXTS["closed"],
    "no_self_service": _l("This library is not open for self-service."),
    "invalid_card_or_pin": PATRON_PASSWORD_TEXTS["invalid"],
    "locked": PATRON_PASSWORD_TEXTS["locked"],
    "other_library": _l("The card is not a card of this library."),
    "card_blocked": TEXTS["card_blocked"],
    "premises_ban": _l("You are banned from the library premises."),
    "terms_not_accepted": _l("Accept the self-service terms in My account or at the library first."),
    "guardian_consent_missing": _l("Under-15s need a guardian's consent for self-service."),
    "not_activated": _l("Self-service must be activated for your card at this library first."),
    "closed_today": _l("The library is closed today (a public holiday or another closed day)."),
    "outside_self_service_hours": _l("The library is outside its self-service hours."),
    "permitted": _l("Welcome! The door opens."),
}
