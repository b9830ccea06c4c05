"""The circulation desk: the staff member's desk branch, patron lookup and summary, checkout with
refusals in the desk's words and a supervisor's override (audited), due-date override, returns with
the hold shelf or transit routing said out loud, the holds shelf (pull list, ready, expired to
clear, transits), payments at the desk and write-offs, and notes for the desk.

Every function takes the caller's session (flushes, never commits), ``now`` and, for changes,
``actor`` (the staff user). Refusals are ``Decision`` values with stable reason codes.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from app import audit
from app.accounts.models import Patron, StaffUser
from app.circulation.decisions import Decision, ItemFacts, add_years, can_checkout
from app.circulation.fines import effective_fine_model
from app.circulation.models import (
    ACTIVE_HOLD_STATES,
    Ban,
    Branch,
    CircLibrary,
    DeskNote,
    DeskStaffBranch,
    Hold,
    Item,
    Loan,
    PatronCirculation,
)
from app.circulation.money import Money
from app.circulation.service_account import AccountSummary, patron_account_summary
from app.circulation.service_common import (
    add_fee,
    borrower,
    branch_calendar,
    local_today,
    patron_facts,
    policy_of,
)
from app.circulation.service_fees import outstanding_debits, pay_at_desk, recompute_billing_ban, waive_fee
from app.circulation.service_holds import collect_hold, expire_holds, route_item
from app.circulation.service_loans import (
    ILL_MATERIAL_TYPE,
    _loans_by_material,
    charge_damaged,
    checkin,
    checkout,
    declare_lost,
)
from app.circulation.service_notices import enqueue_receipt, schedule_next_notice
from app.circulation.service_setup import set_notice_preferences
from app.errors import DomainError

SUPERVISOR_ROLES = frozenset({"circulation-supervisor", "admin"})
# Refusals a supervisor may override with a reason. Not: a premises ban (an official decision [001]),
# another library's item, an item lent to someone else or not for loan at all.
OVERRIDABLE = frozenset({"age_rating", "limit_total", "limit_group", "billing_ban", "card_expired",
                         "membership_revalidation_due", "on_hold_for_other"})
NOT_FOR_LOAN_STATES = ("lost", "damaged", "withdrawn", "in_repair")
PAYMENT_METHODS = ("cash", "card")
SEARCH_LIMIT = 25
END_OF_DAY = time(23, 59, 59)


def is_supervisor(actor: Any) -> bool:
    return bool(set(getattr(actor, "roles", set())) & SUPERVISOR_ROLES)


# -- the desk's branch ------------------------------------------------------------------------------


def desk_library(session: Session, staff: StaffUser) -> CircLibrary | None:
    """The circulation library of the staff member's member library (None: no desk library)."""
    if staff.library_id is None:
        return None
    return session.scalar(select(CircLibrary).where(CircLibrary.accounts_library_id == staff.library_id))


def desk_branches(session: Session, staff: StaffUser) -> list[Branch]:
    """The branches the staff member may work at: their library's (an administrator without one: all)."""
    library = desk_library(session, staff)
    query = select(Branch).order_by(Branch.library_id, Branch.name, Branch.id)
    if library is not None:
        query = query.where(Branch.library_id == library.id)
    elif "admin" not in staff.roles:
        return []
    return list(session.scalars(query))


def desk_branch(session: Session, staff: StaffUser) -> Branch | None:
    """Where the staff member's desk is: the chosen branch, else their library's first branch."""
    chosen = session.get(DeskStaffBranch, staff.id)
    allowed = desk_branches(session, staff)
    if chosen is not None:
        for branch in allowed:
            if branch.id == chosen.branch_id:
                return branch
    return allowed[0] if allowed else None


def set_desk_branch(session: Session, staff: StaffUser, branch_id: int, *, now: datetime) -> Branch:
    branch = next((b for b in desk_branches(session, staff) if b.id == branch_id), None)
    if branch is None:
        raise DomainError("not-found", 404, what="branch")
    row = session.get(DeskStaffBranch, staff.id)
    if row is None:
        session.add(DeskStaffBranch(staff_user_id=staff.id, branch_id=branch.id, updated_at=now))
    else:
        row.branch_id, row.updated_at = branch.id, now
    session.flush()
    return branch


def branch_ref(session: Session, branch: Branch) -> str:
    library = session.get(CircLibrary, branch.library_id)
    assert library is not None
    return f"{library.code}/{branch.code}"


# -- patrons ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatronMatch:
    patron_id: int
    card_number: str
    name: str
    birth_year: int | None
    email: str
    phone: str


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def find_patrons(session: Session, text: str, *, library_id: int | None) -> list[PatronMatch]:
    """Patrons of the desk's library by card number (exact, as scanned), email, phone (digits), or
    name (partial, words in any order) with an optional birth year ("virtanen matti 1956")."""
    text = " ".join(text.split())
    if not text:
        return []
    query = select(Patron).join(PatronCirculation, PatronCirculation.patron_id == Patron.id)
    if library_id is not None:
        query = query.where(PatronCirculation.library_id == library_id)
    digits = "".join(ch for ch in text if ch.isdigit())
    # Phones compare digits only, without the national leading zero: "040 123" finds "+358 40 123 4567".
    stored_phone = Patron.phone
    for sign in (" ", "-", "+", "(", ")"):
        stored_phone = func.replace(stored_phone, sign, "")
    phone_like = stored_phone.like(_like(digits.lstrip("0") or digits), escape="\\")
    if "@" in text:
        query = query.where(func.lower(Patron.email).like(_like(text.lower()), escape="\\"))
    elif text.isdigit():
        query = query.where(or_(Patron.card_number == text, phone_like))
    elif digits and all(ch.isdigit() or ch in "+ -()" for ch in text):
        query = query.where(phone_like)
    else:
        words = text.split(" ")
        years = [int(w) for w in words if w.isdigit() and len(w) == 4]
        for word in (w for w in words if not (w.isdigit() and len(w) == 4)):
            query = query.where(func.lower(Patron.name).like(_like(word.lower()), escape="\\"))
        if years:
            query = query.where(Patron.birth_date >= date(years[0], 1, 1), Patron.birth_date <= date(years[0], 12, 31))
    rows = session.scalars(query.order_by(Patron.name, Patron.id).limit(SEARCH_LIMIT))
    return [PatronMatch(p.id, p.card_number, p.name, p.birth_date.year if p.birth_date else None, p.email, p.phone)
            for p in rows]


def patron_in_library(session: Session, card_number: str, library_id: int | None) -> Patron:
    """The borrower with this card number, if they are a patron of the desk's library; else 404."""
    query = select(Patron).join(PatronCirculation, PatronCirculation.patron_id == Patron.id).where(
        Patron.card_number == card_number)
    if library_id is not None:
        query = query.where(PatronCirculation.library_id == library_id)
    patron = session.scalar(query)
    if patron is None:
        raise DomainError("not-found", 404, what="patron")
    return patron


@dataclass(frozen=True)
class Block:
    code: str  # premises_ban | billing_ban | in_collection | card_expired | membership_revalidation_due |
    # card_blocked | closed
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeskPatron:
    patron: Patron
    circ: PatronCirculation
    summary: AccountSummary
    blocks: list[Block]
    guardian: Patron | None
    dependants: list[Patron]
    notes: list[DeskNote]
    home_branch: Branch


def desk_patron(session: Session, patron_id: int, *, now: datetime) -> DeskPatron:
    """What the desk must see at once: blocks, amount owed, loans (overdue first), holds, guardian, notes."""
    patron, circ, library = borrower(session, patron_id)
    policy = policy_of(library)
    summary = patron_account_summary(session, patron_id, now=now)
    today = local_today(policy.timezone, now)
    blocks: list[Block] = []
    if summary.premises_ban_until is not None:
        blocks.append(Block("premises_ban", {"until": summary.premises_ban_until}))
    if circ.in_collection:
        blocks.append(Block("in_collection"))
    elif summary.billing_banned:
        blocks.append(Block("billing_ban", {"balance": summary.balance, "threshold": summary.ban_threshold}))
    if circ.card_expires_on is not None and today > circ.card_expires_on:
        blocks.append(Block("card_expired", {"expired_on": circ.card_expires_on}))
    years = policy.membership_revalidation_years
    if years is not None:
        due_on = add_years(local_today(policy.timezone, circ.membership_validated_at), years)
        if today >= due_on:
            blocks.append(Block("membership_revalidation_due", {"due_on": due_on}))
    block = _card_blocked(session, patron_id)
    if block is not None:
        blocks.append(Block("card_blocked", {"reason": block.reason, "since": block.started_at}))
    if not patron.active:
        blocks.append(Block("closed"))
    guardian = session.get(Patron, circ.responsible_patron_id) if circ.responsible_patron_id else None
    dependants = list(session.scalars(select(Patron).join(PatronCirculation, PatronCirculation.patron_id == Patron.id)
                                      .where(PatronCirculation.responsible_patron_id == patron_id)
                                      .order_by(Patron.name)))
    notes = list(session.scalars(select(DeskNote).where(DeskNote.patron_id == patron_id, DeskNote.removed_at.is_(None))
                                 .order_by(DeskNote.created_at.desc(), DeskNote.id.desc())))
    home = session.get(Branch, circ.home_branch_id)
    assert home is not None
    overdue_first = sorted(summary.loans, key=lambda line: (line.due_state != "overdue", line.due_at, line.loan_id))
    summary = replace(summary, loans=overdue_first)
    return DeskPatron(patron, circ, summary, blocks, guardian, dependants, notes, home)


def add_note(session: Session, patron_id: int, text: str, *, now: datetime, actor: Any) -> DeskNote:
    borrower(session, patron_id)
    note = DeskNote(patron_id=patron_id, text=text.strip()[:2000], created_at=now,
                    created_by=audit.actor_label(actor), staff_user_id=getattr(actor, "id", None))
    session.add(note)
    session.flush()
    audit.record(session, actor=actor, action="circulation.desk_note_added", now=now, record_type="patron",
                 record_id=patron_id)
    return note


def remove_note(session: Session, patron_id: int, note_id: int, *, now: datetime, actor: Any) -> None:
    note = session.get(DeskNote, note_id)
    if note is None or note.patron_id != patron_id or note.removed_at is not None:
        raise DomainError("not-found", 404, what="note")
    note.removed_at = now
    session.flush()
    audit.record(session, actor=actor, action="circulation.desk_note_removed", now=now, record_type="patron",
                 record_id=patron_id)


# -- checkout ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeskCheckout:
    decision: Decision
    barcode: str
    title: str = ""
    loan: Loan | None = None
    overridden: str | None = None  # the refusal a supervisor overrode

    @property
    def overridable(self) -> bool:
        return not self.decision.allowed and self.decision.reason in OVERRIDABLE


def _item_refusal(session: Session, item: Item, patron_id: int, library: CircLibrary) -> Decision | None:
    """Refusals about the copy itself, in the desk's words (before the patron's own checks)."""
    if item.library_id != library.id:
        return Decision.refuse("other_library")
    loan = session.scalar(select(Loan).where(Loan.item_id == item.id, Loan.status == "open"))
    if loan is not None:
        return Decision.refuse("already_on_loan_to_patron" if loan.patron_id == patron_id else "on_loan")
    if item.status in NOT_FOR_LOAN_STATES:
        return Decision.refuse("not_for_loan", status=item.status)
    hold = _hold_on_copy(session, item)
    if hold is not None and hold.patron_id != patron_id:
        return Decision.refuse("on_hold_for_other", hold_id=hold.id)
    return None


def _card_blocked(session: Session, patron_id: int) -> Ban | None:
    """A block on the card set at the desk (the patron record); lifted with a reason."""
    return session.scalar(select(Ban).where(Ban.patron_id == patron_id, Ban.kind == "block",
                                            Ban.lifted_at.is_(None)).limit(1))


def _hold_on_copy(session: Session, item: Item) -> Hold | None:
    return session.scalar(select(Hold).where(Hold.item_id == item.id, Hold.state.in_(("in_transit", "ready"))))


def desk_checkout(session: Session, *, patron_id: int, item_barcode: str, branch: Branch, now: datetime, actor: Any,
                  override_reason: str | None = None, due_on: date | None = None) -> DeskCheckout:
    """Lend a scanned copy at the desk. Refusals: unknown_item, other_library, on_loan,
    already_on_loan_to_patron, not_for_loan, on_hold_for_other, then the checkout rules (premises_ban,
    card_expired, membership_revalidation_due, billing_ban, age_rating, limit_total, limit_group).

    ``override_reason``: a supervisor (role circulation-supervisor) lends despite an overridable refusal
    (audited with the reason; a hold for someone else goes back to the queue). ``due_on``: another due
    day (moved to the next opening day). The patron's own hold on the title is filled by the loan.
    """
    patron, circ, library = borrower(session, patron_id)
    barcode = item_barcode.strip()
    item = session.scalar(select(Item).where(Item.barcode == barcode))
    if item is None:
        return DeskCheckout(Decision.refuse("unknown_item"), barcode)
    override = (override_reason or "").strip()
    if override and not is_supervisor(actor):
        raise DomainError("forbidden", 403, required_roles=["circulation-supervisor"])
    if not patron.active:
        return DeskCheckout(Decision.refuse("account_closed"), barcode, item.title)
    if _card_blocked(session, patron_id):
        return DeskCheckout(Decision.refuse("card_blocked"), barcode, item.title)
    refusal = _item_refusal(session, item, patron_id, library)
    copy_hold = _hold_on_copy(session, item)
    own_copy_on_its_way = copy_hold is not None and copy_hold.patron_id == patron_id and copy_hold.state != "ready"
    if refusal is None and not override and due_on is None and not own_copy_on_its_way:
        result = checkout(session, patron_id=patron_id, item_barcode=barcode, branch=branch_ref(session, branch),
                          now=now, actor=actor, channel="desk")
        if result.loan is not None:
            _fill_own_hold(session, patron_id, item, now=now, actor=actor)
        return DeskCheckout(result.decision, barcode, item.title, result.loan)
    policy = policy_of(library)
    if refusal is None:
        refusal = can_checkout(patron=patron_facts(session, patron, circ, policy, now),
                               item=ItemFacts(item.material_type, True, item.age_rating, item.is_childrens_material),
                               loans_by_material=_loans_by_material(session, patron_id), policy=policy,
                               branch=branch.code, today=local_today(branch.timezone, now))
        refusal = None if refusal.allowed else refusal
    if refusal is not None and not (override and refusal.reason in OVERRIDABLE):
        return DeskCheckout(refusal, barcode, item.title)
    calendar = branch_calendar(session, branch)
    due_at = None
    if due_on is not None:
        if due_on <= local_today(branch.timezone, now):
            return DeskCheckout(Decision.refuse("due_date_past"), barcode, item.title)
        day = calendar.adjust_due_date(due_on)
        due_at = calendar.closing_time(day) or datetime.combine(day, END_OF_DAY, tzinfo=calendar.zone)
    if refusal is not None and refusal.reason == "on_hold_for_other" and copy_hold is not None:
        _release_hold(session, copy_hold)
    loan = _lend(session, patron, circ, library, item, branch, now=now, actor=actor, due_at=due_at)
    if loan is None:
        return DeskCheckout(Decision.refuse("item_not_available"), barcode, item.title)
    _fill_own_hold(session, patron_id, item, now=now, actor=actor)
    if refusal is not None:
        audit.record(session, actor=actor, action="circulation.checkout_override", now=now, record_type="circ_loan",
                     record_id=loan.id, refusal=refusal.reason, reason=override[:300], barcode=item.barcode)
    if due_on is not None:
        audit.record(session, actor=actor, action="circulation.due_date_set", now=now, record_type="circ_loan",
                     record_id=loan.id, due_at=loan.due_at.isoformat())
    return DeskCheckout(Decision.allow(due_at=loan.due_at), barcode, item.title, loan,
                        refusal.reason if refusal is not None else None)


def _release_hold(session: Session, hold: Hold) -> None:
    """Someone else's hold loses its copy to an overridden loan: back to the queue, in its old place."""
    hold.state, hold.item_id, hold.ready_at = "waiting", None, None
    hold.last_pickup_day, hold.pickup_expires_at, hold.hold_identifier = None, None, None
    session.flush()


def _lend(session: Session, patron: Patron, circ: PatronCirculation, library: CircLibrary, item: Item, where: Branch,
          *, now: datetime, actor: Any, due_at: datetime | None) -> Loan | None:
    """The loan itself, once the desk has decided (an override or another due date)."""
    policy = policy_of(library)
    claimed = session.execute(update(Item).where(Item.id == item.id, Item.status == item.status)
                              .values(status="on_loan", current_branch_id=where.id))
    if claimed.rowcount != 1:
        return None
    session.refresh(item)
    rules = policy.rules_for(where.code, circ.category, item.material_type)
    due_at = due_at or branch_calendar(session, where).due_at(now, rules.loan_days, "desk")
    fine = effective_fine_model(rules, is_childrens_material=item.is_childrens_material)
    loan = Loan(item_id=item.id, patron_id=patron.id, library_id=library.id, branch_id=where.id, channel="desk",
                checked_out_at=now, due_at=due_at, due_day=due_at.date().toordinal(), renewals=0, status="open",
                fine_model=fine.model, fine_amount_minor=fine.amount.minor if fine.amount else 0,
                fine_cap_minor=fine.cap.minor if fine.cap else None, grace_days=rules.grace_days,
                currency=policy.currency, accrued_fine_minor=0)
    session.add(loan)
    session.flush()
    schedule_next_notice(session, loan, circ, policy, item.is_childrens_material,
                         after=local_today(where.timezone, now) - timedelta(days=1))
    if item.material_type == ILL_MATERIAL_TYPE and policy.fees.interlibrary_loan is not None:
        add_fee(session, patron_id=patron.id, library_id=library.id, kind="interlibrary_loan",
                amount=policy.fees.interlibrary_loan, reason=f"interlibrary loan: {item.title}"[:300], now=now,
                actor=actor, loan_id=loan.id, dedup_key=f"ill:{loan.id}")
        recompute_billing_ban(session, patron.id, now=now, actor=actor)
    enqueue_receipt(session, "checkout", loan, item, patron, circ, now=now)
    return loan


def _fill_own_hold(session: Session, patron_id: int, item: Item, *, now: datetime, actor: Any) -> None:
    """Lending any copy of a title the patron has on hold fills that hold; a copy it had claimed moves on."""
    hold = session.scalar(select(Hold).where(Hold.patron_id == patron_id, Hold.record_key == item.record_key,
                                             Hold.library_id == item.library_id, Hold.state.in_(ACTIVE_HOLD_STATES)))
    if hold is None:
        return
    other_id = hold.item_id if hold.item_id != item.id else None
    collect_hold(session, hold, now=now)
    if other_id is not None:
        other = session.get(Item, other_id)
        shelf = session.get(Branch, other.current_branch_id) if other else None
        if other is not None and shelf is not None and other.status in ("in_transit", "on_hold_shelf"):
            route_item(session, other, shelf, now=now, actor=actor)


# -- returns ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeskReturn:
    decision: Decision
    barcode: str
    title: str = ""
    fine: Money | None = None
    returned_on: date | None = None
    action: str = ""  # shelf | hold_shelf | transit
    hold_id: int | None = None
    hold_identifier: str | None = None
    last_pickup_day: date | None = None
    destination: str = ""  # the branch's name (hold shelf or transit)
    was_on_loan: bool = False


def desk_checkin(session: Session, *, item_barcode: str, branch: Branch, now: datetime, actor: Any,
                 book_drop: bool = False, note: str = "") -> DeskReturn:
    """A return scanned at the desk (or emptied from the book drop): the fine charged, and where the
    copy goes — the hold shelf here (identifier, last pickup day), in transit to another branch, or the
    shelf. Refusals: unknown_item, other_library. A damage or missing-parts ``note`` is audited."""
    barcode = item_barcode.strip()
    item = session.scalar(select(Item).where(Item.barcode == barcode))
    if item is None:
        return DeskReturn(Decision.refuse("unknown_item"), barcode)
    result = checkin(session, item_barcode=barcode, branch=branch_ref(session, branch), now=now, actor=actor,
                     book_drop=book_drop)
    if not result.decision.allowed:
        return DeskReturn(result.decision, barcode, item.title)
    if note.strip():
        audit.record(session, actor=actor, action="circulation.return_note", now=now, record_type="circ_item",
                     record_id=item.id, note=note.strip()[:300])
    routing = result.routing
    hold = session.get(Hold, routing.hold_id) if routing and routing.hold_id else None
    destination = ""
    if routing is not None and routing.action in ("hold_shelf", "transit") and hold is not None:
        target = session.get(Branch, hold.pickup_branch_id)
        destination = target.name if target else routing.branch_code
    return DeskReturn(Decision.allow(), barcode, item.title, result.fine_registered, result.returned_on,
                      routing.action if routing else "shelf", hold.id if hold else None,
                      hold.hold_identifier if hold is not None and routing and routing.action == "hold_shelf" else None,
                      hold.last_pickup_day if hold is not None else None, destination, result.loan_id is not None)


# -- the holds shelf --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShelfLine:
    hold_id: int
    title: str
    barcode: str
    hold_identifier: str | None
    last_pickup_day: date | None
    pickup_branch: str  # name
    other_branch: str  # where the copy is (transit in) or goes (pull list)
    placed_at: datetime


@dataclass(frozen=True)
class HoldsShelf:
    pull: list[ShelfLine]  # copies here claimed by holds: fetch from the shelves, send or shelve
    transit_in: list[ShelfLine]  # copies on their way here for holds picked up here
    ready: list[ShelfLine]  # on the hold shelf, last pickup day not passed
    expired: list[ShelfLine]  # not collected in time: to clear (fee by the preset)


def holds_shelf(session: Session, branch: Branch, *, now: datetime) -> HoldsShelf:
    names: dict[int, str] = {row.id: row.name for row in session.execute(select(Branch.id, Branch.name))}
    rows = session.execute(select(Hold, Item).join(Item, Item.id == Hold.item_id).where(
        Hold.state.in_(("in_transit", "ready")),
        or_(Hold.pickup_branch_id == branch.id, Item.current_branch_id == branch.id))
        .order_by(Hold.last_pickup_day, Hold.placed_at, Hold.id)).all()
    shelf = HoldsShelf([], [], [], [])
    for hold, item in rows:
        at_here = item.current_branch_id == branch.id
        line = ShelfLine(hold.id, item.title, item.barcode, hold.hold_identifier, hold.last_pickup_day,
                         names.get(hold.pickup_branch_id, ""), "", hold.placed_at)
        if hold.state == "ready" and hold.pickup_branch_id == branch.id:
            expired = hold.pickup_expires_at is not None and hold.pickup_expires_at < now
            (shelf.expired if expired else shelf.ready).append(line)
        elif hold.state == "in_transit" and at_here:
            shelf.pull.append(replace(line, other_branch=names.get(hold.pickup_branch_id, "")))
        elif hold.state == "in_transit" and hold.pickup_branch_id == branch.id:
            shelf.transit_in.append(replace(line, other_branch=names.get(item.current_branch_id, "")))
    return shelf


def clear_expired_holds(session: Session, branch: Branch, hold_ids: list[int] | None, *, now: datetime,
                        actor: Any) -> int:
    """Clear holds not collected by their last pickup day from this branch's shelf (all, or the chosen):
    the uncollected-hold fee by the preset, charged once, and the copy to the next hold or the shelf."""
    expired = [line.hold_id for line in holds_shelf(session, branch, now=now).expired
               if hold_ids is None or line.hold_id in hold_ids]
    if not expired:
        return 0
    patrons = set(session.scalars(select(Hold.patron_id).where(Hold.id.in_(expired))))
    count = expire_holds(session, expired, now=now, actor=actor)
    for patron_id in sorted(patrons):
        recompute_billing_ban(session, patron_id, now=now, actor=actor)
    audit.record(session, actor=actor, action="circulation.holds_cleared", now=now, record_type="circ_branch",
                 record_id=branch.id, count=count)
    return count


# -- payments ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeskPayment:
    decision: Decision
    amount: Money | None = None
    payment_id: int | None = None
    ban_lifted: bool = False


def desk_pay(session: Session, *, patron_id: int, fee_ids: list[int] | None, amount: Money | None, method: str,
             now: datetime, actor: Any) -> DeskPayment:
    """Take a payment at the desk (cash or card: recorded, not processed) for the chosen fees (None: all),
    the whole of them or a part (``amount``). Refusals: nothing_to_pay, invalid_method, more_than_owed.
    Says whether the payment lifted a billing ban."""
    _patron, circ, library = borrower(session, patron_id)
    if method not in PAYMENT_METHODS:
        return DeskPayment(Decision.refuse("invalid_method"))
    debits = outstanding_debits(session, patron_id)
    chosen = [d for d in debits if fee_ids is None or d.id in fee_ids]
    currency = policy_of(library).currency
    owed = Money.total((d.outstanding for d in chosen), currency)
    if not owed.is_positive:
        return DeskPayment(Decision.refuse("nothing_to_pay"))
    to_pay = owed if amount is None else amount
    if to_pay.currency != currency or not to_pay.is_positive:
        raise DomainError("invalid-amount", 422, currency=currency)
    if to_pay > owed:
        return DeskPayment(Decision.refuse("more_than_owed", owed=owed, amount=to_pay))
    was_banned = circ.billing_banned
    payment = pay_at_desk(session, patron_id=patron_id, amount=to_pay, now=now, actor=actor,
                          fee_ids=[d.id for d in chosen])
    payment.details = {**(payment.details or {}), "method": method}
    session.flush()
    session.refresh(circ)
    return DeskPayment(Decision.allow(), to_pay, payment.id, was_banned and not circ.billing_banned)


def write_off(session: Session, *, patron_id: int, fee_id: int, reason: str, now: datetime, actor: Any) -> DeskPayment:
    """A supervisor writes off what is left of one fee, with a reason (audited)."""
    if not is_supervisor(actor):
        raise DomainError("forbidden", 403, required_roles=["circulation-supervisor"])
    _patron, circ, _library = borrower(session, patron_id)
    if fee_id not in {d.id for d in outstanding_debits(session, patron_id)}:
        raise DomainError("not-found", 404, what="fee")
    was_banned = circ.billing_banned
    waived = waive_fee(session, fee_id, now=now, actor=actor, reason=f"written off: {reason.strip()}"[:300])
    session.refresh(circ)
    return DeskPayment(Decision.allow(), waived, None, was_banned and not circ.billing_banned)


# -- the patron record ------------------------------------------------------------------------------


def update_contact_at_desk(session: Session, patron_id: int, *, email: str, phone: str, postal_address: str,
                           notice_channels: list[str], receipts_by_email: bool, now: datetime,
                           actor: Any) -> list[str]:
    """Correct the patron's contact data and notice channels at the desk (the name needs an identity
    check and is not changed here). A channel needs its detail (email, phone, postal address): refused
    as DomainError("channel-without-contact", 422, channels=…). Audited by field name, never by value.
    Returns the names of the fields that changed."""
    patron, circ, _library = borrower(session, patron_id)
    wanted = {"email": email.strip(), "phone": phone.strip(), "postal_address": postal_address.strip()}
    missing = [channel for channel, detail in (("email", "email"), ("sms", "phone"), ("letter", "postal_address"))
               if channel in notice_channels and not wanted[detail]]
    if missing:
        raise DomainError("channel-without-contact", 422, channels=missing)
    before = {"email": patron.email, "phone": patron.phone, "postal_address": circ.postal_address,
              "notice_channels": list(circ.notice_channels or []), "receipts_by_email": circ.receipts_by_email}
    patron.email, patron.phone = wanted["email"], wanted["phone"]
    set_notice_preferences(session, patron_id, now=now, actor=actor, notice_channels=notice_channels,
                           receipts_by_email=receipts_by_email, postal_address=wanted["postal_address"])
    after = {"email": patron.email, "phone": patron.phone, "postal_address": circ.postal_address,
             "notice_channels": list(circ.notice_channels or []), "receipts_by_email": circ.receipts_by_email}
    changed = [name for name in before if before[name] != after[name]]
    if changed:
        audit.record(session, actor=actor, action="circulation.contact_changed", now=now, record_type="patron",
                     record_id=patron_id, fields=changed)
    return changed


# -- items ------------------------------------------------------------------------------------------

ITEM_STATUS_CHOICES = ("available", "damaged", "withdrawn", "lost")  # lost = missing from the shelf


def item_of_desk(session: Session, barcode: str, library_id: int | None) -> Item:
    item = session.scalar(select(Item).where(Item.barcode == barcode.strip()))
    if item is None or (library_id is not None and item.library_id != library_id):
        raise DomainError("not-found", 404, what="item")
    return item


def set_item_status(session: Session, *, barcode: str, status: str, library_id: int | None, now: datetime,
                    actor: Any) -> Decision:
    """Mark a copy on the shelf missing, damaged or withdrawn (or back available). Refused as on_loan or
    held (a copy on loan, in transit or on the hold shelf: check it in first) and unknown_status."""
    item = item_of_desk(session, barcode, library_id)
    if status not in ITEM_STATUS_CHOICES:
        return Decision.refuse("unknown_status")
    if item.status == "on_loan" or session.scalar(select(Loan.id).where(Loan.item_id == item.id,
                                                                         Loan.status == "open")):
        return Decision.refuse("on_loan")
    if item.status in ("in_transit", "on_hold_shelf"):
        return Decision.refuse("held")
    old = item.status
    done = session.execute(update(Item).where(Item.id == item.id, Item.status == old).values(status=status))
    if done.rowcount != 1:
        return Decision.refuse("held")
    session.refresh(item)
    audit.record(session, actor=actor, action="circulation.item_status", now=now, record_type="circ_item",
                 record_id=item.id, old=old, new=status)
    return Decision.allow(old=old)


# -- lost and damaged items -------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemCharge:
    title: str
    barcode: str
    replacement: Money  # the item's price (or the amount the desk gave, for damage)
    processing: Money  # the preset's processing fee (zero where it has none)
    ban_started: bool = False


def _processing_fee(session: Session, *, patron_id: int, library: CircLibrary, loan_id: int, what: str, title: str,
                    now: datetime, actor: Any) -> Money:
    fee = policy_of(library).fees.item_processing
    if fee is None or not add_fee(session, patron_id=patron_id, library_id=library.id, kind="item_processing",
                                  amount=fee, reason=f"processing fee: {title}"[:300], now=now, actor=actor,
                                  loan_id=loan_id, dedup_key=f"processing:{what}:{loan_id}"):
        return Money.zero(policy_of(library).currency)
    return fee


def charge_lost_at_desk(session: Session, *, patron_id: int, loan_id: int, now: datetime, actor: Any) -> ItemCharge:
    """The patron lost a loaned item: the fines so far register, the item's replacement price and the
    preset's processing fee are charged (once), the loan ends as lost [001]. 404 for a loan that is
    not this patron's open loan."""
    _patron, circ, library = borrower(session, patron_id)
    loan = session.get(Loan, loan_id)
    if loan is None or loan.patron_id != patron_id or loan.status != "open":
        raise DomainError("not-found", 404, what="open loan")
    item = session.get(Item, loan.item_id)
    assert item is not None
    was_banned = circ.billing_banned
    price = declare_lost(session, loan_id, now=now, actor=actor)
    processing = _processing_fee(session, patron_id=patron_id, library=library, loan_id=loan_id, what="lost",
                                 title=item.title, now=now, actor=actor)
    recompute_billing_ban(session, patron_id, now=now, actor=actor)
    session.refresh(circ)
    return ItemCharge(item.title, item.barcode, price, processing, circ.billing_banned and not was_banned)


def charge_damaged_at_desk(session: Session, *, patron_id: int, barcode: str, branch: Branch, now: datetime,
                           actor: Any, amount: Money | None = None) -> ItemCharge:
    """The copy the patron borrowed last came back damaged: it is checked in if still on loan, marked
    damaged, and the patron is charged its replacement price (or ``amount``, e.g. a repair) plus the
    preset's processing fee. 404 when the patron was not the copy's last borrower."""
    _patron, circ, library = borrower(session, patron_id)
    item = session.scalar(select(Item).where(Item.barcode == barcode.strip()))
    if item is None or item.library_id != library.id:
        raise DomainError("not-found", 404, what="item")
    loan = session.scalar(select(Loan).where(Loan.item_id == item.id).order_by(Loan.id.desc()).limit(1))
    if loan is None or loan.patron_id != patron_id or loan.status == "lost":
        raise DomainError("not-found", 404, what="loan")
    if amount is not None and (amount.currency != item.currency or not amount.is_positive):
        raise DomainError("invalid-amount", 422, currency=item.currency)
    was_banned = circ.billing_banned
    if loan.status == "open":
        checkin(session, item_barcode=item.barcode, branch=branch_ref(session, branch), now=now, actor=actor)
        session.refresh(item)
        if item.status != "available":  # the return routed it to a hold: the damaged copy stays here
            for hold in session.scalars(select(Hold).where(Hold.item_id == item.id,
                                                           Hold.state.in_(("in_transit", "ready")))):
                _release_hold(session, hold)
            item.status = "available"
            session.flush()
    fee = charge_damaged(session, item_barcode=item.barcode, now=now, actor=actor, amount=amount)
    processing = _processing_fee(session, patron_id=patron_id, library=library, loan_id=loan.id, what="damaged",
                                 title=item.title, now=now, actor=actor)
    recompute_billing_ban(session, patron_id, now=now, actor=actor)
    session.refresh(circ)
    return ItemCharge(item.title, item.barcode, fee, processing, circ.billing_banned and not was_banned)
