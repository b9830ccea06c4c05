"""Holds: placing (pickup branch, default the home branch [003]), queue position, routing returned
copies to the first waiting hold [001], the hold shelf with its last pickup day and identifier,
expiry with the uncollected-hold fee, and cancelling (a ready hold only by the library [003])."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select, tuple_, update
from sqlalchemy.orm import Session

from app.circulation.bulk import insert_once
from app.circulation.decisions import Decision, can_place_hold
from app.circulation.models import (
    ACTIVE_HOLD_STATES,
    Branch,
    CircLibrary,
    FeeEntry,
    Hold,
    Item,
    Loan,
    PatronCirculation,
)
from app.circulation.policy import Policy
from app.circulation.service_common import (
    borrower,
    branch_calendar,
    fee_row,
    find_branch,
    local_today,
    patron_facts,
    policy_of,
)
from app.circulation.service_notices import enqueue_hold_ready
from app.errors import DomainError

UNAVAILABLE_FOR_HOLDS = ("lost", "damaged", "withdrawn")


@dataclass(frozen=True)
class RoutingResult:
    action: str  # shelf | hold_shelf | transit
    branch_code: str  # where the item is shelved, held, or must be sent
    hold_id: int | None = None


@dataclass(frozen=True)
class HoldResult:
    decision: Decision
    hold: Hold | None = None


def ready_hold_for(session: Session, item_id: int) -> Hold | None:
    return session.scalar(select(Hold).where(Hold.item_id == item_id, Hold.state == "ready"))


def collect_hold(session: Session, hold: Hold, *, now: datetime) -> None:
    hold.state, hold.closed_at = "collected", now
    session.flush()


def queue_position(session: Session, hold: Hold) -> int | None:
    """1 = next in line; None once a copy is on its way or waiting on the shelf [003]."""
    if hold.state != "waiting":
        return None
    ahead = session.scalar(select(func.count()).select_from(Hold).where(
        Hold.record_key == hold.record_key, Hold.library_id == hold.library_id, Hold.state == "waiting",
        tuple_(Hold.placed_at, Hold.id) < tuple_(hold.placed_at, hold.id)))
    return int(ahead or 0) + 1


def _movable(policy: Policy, item: Item, branch: Branch) -> bool:
    return item.transportable and policy.rules_for(branch.code, None, item.material_type).transportable


def place_hold(session: Session, *, patron_id: int, now: datetime, actor: Any, record_key: str | None = None,
               item_barcode: str | None = None, pickup_branch: str | None = None) -> HoldResult:
    """Reserve a title (by record key, or by the barcode of any copy). Refusals: billing_ban,
    card_expired, not_holdable [001], already_on_hold, already_on_loan. A free copy is taken at
    once (in transit to the pickup branch); otherwise the first copy returned anywhere fills it."""
    patron, circ, library = borrower(session, patron_id)
    policy = policy_of(library)
    if item_barcode:
        key = session.scalar(select(Item.record_key).where(Item.barcode == item_barcode))
        if key is None:
            raise DomainError("not-found", 404, what="item", barcode=item_barcode)
        record_key = key
    copies = list(session.scalars(select(Item).where(Item.record_key == record_key, Item.library_id == library.id,
                                                     Item.status.not_in(UNAVAILABLE_FOR_HOLDS)).order_by(Item.id)))
    if not copies:
        raise DomainError("not-found", 404, what="record", record_key=record_key)
    pickup = find_branch(session, pickup_branch, library.id) if pickup_branch else session.get(Branch, circ.home_branch_id)
    assert pickup is not None
    holdable = [c for c in copies if c.holdable
                and policy.rules_for(pickup.code, circ.category, c.material_type).holdable]
    rules = policy.rules_for(pickup.code, circ.category, (holdable or copies)[0].material_type)
    if not holdable:
        rules = replace(rules, holdable=False)
    decision = can_place_hold(patron=patron_facts(session, patron, circ, policy, now), rules=rules, policy=policy,
                              today=local_today(pickup.timezone, now))
    if not decision.allowed:
        return HoldResult(decision)
    if session.scalar(select(Hold.id).where(Hold.patron_id == patron_id, Hold.record_key == record_key,
                                            Hold.state.in_(ACTIVE_HOLD_STATES))):
        return HoldResult(Decision.refuse("already_on_hold"))
    if session.scalar(select(Loan.id).join(Item, Item.id == Loan.item_id).where(
            Loan.patron_id == patron_id, Loan.status == "open", Item.record_key == record_key)):
        return HoldResult(Decision.refuse("already_on_loan"))
    hold = Hold(patron_id=patron_id, library_id=library.id, record_key=record_key, pickup_branch_id=pickup.id,
                state="waiting", placed_at=now)
    session.add(hold)
    session.flush()
    free = sorted((c for c in holdable if c.status == "available"),
                  key=lambda c: (c.current_branch_id != pickup.id, c.id))
    for copy in free:
        if copy.current_branch_id != pickup.id and not _movable(policy, copy, pickup):
            continue
        if _claim(session, copy, hold, "available", state="in_transit"):
            break
    return HoldResult(Decision.allow(queue_position=queue_position(session, hold)), hold)


def _claim(session: Session, item: Item, hold: Hold, item_state: str, *, state: str) -> bool:
    """Assign ``item`` to ``hold`` if both are still as we saw them (two returns at once)."""
    took = session.execute(update(Item).where(Item.id == item.id, Item.status == item_state)
                           .values(status="in_transit"))
    if took.rowcount != 1:
        return False
    session.execute(update(Hold).where(Hold.id == hold.id, Hold.state == "waiting")
                    .values(state=state, item_id=item.id))
    session.refresh(hold)
    session.refresh(item)
    return True


def route_item(session: Session, item: Item, branch: Branch, *, now: datetime, actor: Any) -> RoutingResult:
    """Where a checked-in copy goes: its hold's pickup shelf, in transit there, or the shelf here."""
    library = session.get(CircLibrary, item.library_id)
    assert library is not None
    policy = policy_of(library)
    # One query: the hold this copy is assigned to (first), else the holds waiting on its record in order.
    mine = and_(Hold.item_id == item.id, Hold.state.in_(("in_transit", "ready")))
    candidates = list(session.scalars(select(Hold).where(or_(mine, and_(
        Hold.record_key == item.record_key, Hold.library_id == item.library_id, Hold.state == "waiting")))
        .order_by(case((mine, 0), else_=1), Hold.placed_at, Hold.id)))
    assigned = candidates[0] if candidates and candidates[0].item_id == item.id and candidates[0].state in (
        "in_transit", "ready") else None
    if assigned is None:
        waiting = [hold for hold in candidates if hold.state == "waiting"]
        movable = _movable(policy, item, branch)
        for hold in waiting:
            if (movable or hold.pickup_branch_id == branch.id) and item.holdable and _claim(
                    session, item, hold, item.status, state="in_transit"):
                assigned = hold
                break
    if assigned is None:
        item.status, item.current_branch_id = "available", branch.id
        session.flush()
        return RoutingResult("shelf", branch.code)
    if assigned.pickup_branch_id == branch.id:
        if assigned.state != "ready":
            make_ready(session, assigned, item, branch, policy, now=now)
        return RoutingResult("hold_shelf", branch.code, assigned.id)
    item.status, item.current_branch_id = "in_transit", branch.id
    session.flush()
    destination = session.get(Branch, assigned.pickup_branch_id)
    assert destination is not None
    return RoutingResult("transit", destination.code, assigned.id)


def make_ready(session: Session, hold: Hold, item: Item, branch: Branch, policy: Policy, *, now: datetime) -> None:
    """The copy is on the pickup shelf: last pickup day, identifier, and a notice [001,003]."""
    circ = session.get(PatronCirculation, hold.patron_id)
    assert circ is not None
    rules = policy.rules_for(branch.code, circ.category, item.material_type)
    calendar = branch_calendar(session, branch)
    last_day = calendar.adjust_due_date(local_today(branch.timezone, now) + timedelta(days=rules.hold_pickup_days))
    closing = calendar.closing_time(last_day)
    assert closing is not None
    hold.state, hold.ready_at, hold.item_id = "ready", now, item.id
    hold.last_pickup_day, hold.pickup_expires_at = last_day, closing
    hold.hold_identifier = circ.hold_nickname or f"{hold.id:06d}"
    item.status, item.current_branch_id = "on_hold_shelf", branch.id
    session.flush()
    enqueue_hold_ready(session, hold, item, branch, now=now)


def cancel_hold(session: Session, hold_id: int, *, by: str, now: datetime, actor: Any,
                patron_id: int | None = None) -> Decision:
    """Cancel a hold; free of charge. ``by="patron"`` (their own holds, not one waiting on the
    shelf [003]) or ``by="library"`` (any, e.g. when the patron calls before the last day [001])."""
    hold = session.get(Hold, hold_id)
    if hold is None or (by == "patron" and hold.patron_id != patron_id):
        raise DomainError("not-found", 404, what="hold")
    if hold.state not in (*ACTIVE_HOLD_STATES, "suspended"):  # a paused hold may be cancelled too
        return Decision.refuse("hold_not_active", state=hold.state)
    if by == "patron" and hold.state == "ready":
        return Decision.refuse("ready_hold_cancelled_by_library")
    old_state = hold.state
    done = session.execute(update(Hold).where(Hold.id == hold.id, Hold.state == old_state).values(
        state="cancelled", cancelled_at=now, cancelled_by=by, closed_at=now))
    if done.rowcount != 1:
        return Decision.refuse("hold_not_active")
    session.refresh(hold)
    if old_state == "ready" and hold.item_id is not None:
        item = session.get(Item, hold.item_id)
        assert item is not None
        shelf = session.get(Branch, item.current_branch_id)
        assert shelf is not None
        route_item(session, item, shelf, now=now, actor=actor)
    return Decision.allow()


def expire_holds(session: Session, hold_ids: list[int], *, now: datetime, actor: Any) -> int:
    """Ready holds not collected by their last pickup day: expired, the uncollected-hold fee [003]
    (once: its ledger key is the hold), and the copy goes to the next in the queue or back on the
    shelf. Set-based for the nightly job, which recomputes billing bans afterwards. Returns how
    many holds expired."""
    rows = session.execute(select(Hold.id, Hold.patron_id, Hold.library_id, Hold.item_id, Hold.record_key)
                           .where(Hold.id.in_(hold_ids), Hold.state == "ready")).all()
    if not rows:
        return 0
    session.execute(update(Hold).where(Hold.id.in_([row.id for row in rows]), Hold.state == "ready")
                    .values(state="expired", closed_at=now).execution_options(synchronize_session=False))
    policies = {library.id: policy_of(library) for library in session.scalars(select(CircLibrary))}
    charges = [fee_row(patron_id=row.patron_id, library_id=row.library_id, kind="uncollected_hold",
                       amount=policies[row.library_id].fees.uncollected_hold, reason="hold not collected", now=now,
                       actor=actor, hold_id=row.id, dedup_key=f"hold-expired:{row.id}")
               for row in rows if policies[row.library_id].fees.uncollected_hold is not None]
    insert_once(session, FeeEntry.__table__, charges, ["dedup_key"])
    with_items = [row for row in rows if row.item_id is not None]
    queued = set(session.scalars(select(Hold.record_key).where(
        Hold.record_key.in_({row.record_key for row in with_items}), Hold.state == "waiting")))
    to_shelf = [row.item_id for row in with_items if row.record_key not in queued]
    if to_shelf:
        session.execute(update(Item).where(Item.id.in_(to_shelf), Item.status == "on_hold_shelf")
                        .values(status="available").execution_options(synchronize_session=False))
    for row in with_items:
        if row.record_key in queued:
            item = session.get(Item, row.item_id)
            shelf = session.get(Branch, item.current_branch_id) if item else None
            if item is not None and shelf is not None:
                route_item(session, item, shelf, now=now, actor=actor)
    session.flush()
    return len(rows)


def expired_hold_ids(session: Session, now: datetime) -> list[int]:
    return list(session.scalars(select(Hold.id).where(Hold.state == "ready", Hold.pickup_expires_at < now)
                                .order_by(Hold.id)))
