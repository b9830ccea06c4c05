"""Stack retrieval requests [003]: a patron asks for a copy kept in the closed stacks from the record page
("Place item retrieval request"), follows it on My account — requested (with the date), being processed,
ready for pickup (the place and the last day) — and may cancel it while it is only requested. The staff
put copies in the closed stacks, take requests into processing and put them out for pickup.

Every function takes the caller's session (flushes, never commits), ``now`` and, for changes, ``actor``.
Refusals are ``Decision`` values; a record not the caller's raises ``DomainError("not-found", 404)``.
State changes are conditional UPDATEs, so two clicks (or a patron and a librarian at once) change a
request once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from app import audit
from app.accounts.models import Patron
from app.circulation.account_models import OPEN_STACK_REQUEST_STATES, ClosedStackCopy, StackRequest
from app.circulation.decisions import Decision
from app.circulation.models import Branch, CircLibrary, Item, Loan
from app.circulation.service_common import borrower, local_today, policy_of
from app.circulation.service_fees import is_under_billing_ban
from app.circulation.service_notices import enqueue_stack_ready
from app.errors import DomainError

MAX_PICKUP_DAYS = 60  # the last pickup day the staff may set: at most this far ahead
LOCATION_MAX = 200


@dataclass(frozen=True)
class StackRequestLine:
    request_id: int
    record_key: str
    title: str
    barcode: str
    state: str  # requested | processing | ready | cancelled | collected
    requested_at: datetime
    pickup_place: str
    last_pickup_day: date | None
    cancelled_at: datetime | None
    patron_name: str = ""  # the staff list only
    card_number: str = ""  # the staff list only
    location: str = ""  # the staff list only: where in the stacks


@dataclass(frozen=True)
class StackOffer:
    """What the record page offers a patron: whether she may request a copy from the closed stacks, and the
    request she already has (if any)."""

    record_key: str
    copies: int  # copies of the record in her library's closed stacks
    pending: StackRequestLine | None


def _line(request: StackRequest, item: Item, location: str = "", patron: Patron | None = None) -> StackRequestLine:
    return StackRequestLine(request.id, request.record_key, item.title, item.barcode, request.state,
                            request.requested_at, request.pickup_place, request.last_pickup_day, request.cancelled_at,
                            patron.name if patron else "", patron.card_number if patron else "", location)


def stack_copies(session: Session, library_id: int, record_key: str) -> list[Item]:
    """The library's copies of the record kept in the closed stacks, free to be fetched."""
    return list(session.scalars(
        select(Item).join(ClosedStackCopy, ClosedStackCopy.item_id == Item.id)
        .where(Item.library_id == library_id, Item.record_key == record_key, Item.status == "available")
        .order_by(Item.id)))


def stack_offer(session: Session, patron_id: int, record_key: str) -> StackOffer | None:
    """The record page's offer to the patron; None when she is not a borrower or her library keeps no copy
    of the record in closed stacks (the page then says nothing about it)."""
    try:
        _patron, circ, _library = borrower(session, patron_id)
    except DomainError:
        return None
    copies = len(stack_copies(session, circ.library_id, record_key))
    pending_row = session.execute(
        select(StackRequest, Item).join(Item, Item.id == StackRequest.item_id)
        .where(StackRequest.patron_id == patron_id, StackRequest.record_key == record_key,
               StackRequest.state.in_(OPEN_STACK_REQUEST_STATES))).first()
    has_any = session.scalar(select(ClosedStackCopy.item_id).join(Item, Item.id == ClosedStackCopy.item_id)
                             .where(Item.library_id == circ.library_id, Item.record_key == record_key).limit(1))
    if has_any is None and pending_row is None:
        return None
    return StackOffer(record_key, copies, _line(*pending_row) if pending_row else None)


def request_from_stacks(session: Session, *, patron_id: int, record_key: str, now: datetime,
                        actor: object) -> tuple[Decision, StackRequest | None]:
    """The patron asks for a copy of the record from her library's closed stacks. Refused as billing_ban,
    already_on_loan (she has the title on loan), already_requested (she has an open request for the record)
    or no_stack_copy (none free in the stacks)."""
    _patron, circ, _library = borrower(session, patron_id)
    if is_under_billing_ban(session, patron_id, now):
        return Decision.refuse("billing_ban"), None
    if session.scalar(select(Loan.id).join(Item, Item.id == Loan.item_id).where(
            Loan.patron_id == patron_id, Loan.status == "open", Item.record_key == record_key).limit(1)):
        return Decision.refuse("already_on_loan"), None
    if session.scalar(select(StackRequest.id).where(StackRequest.patron_id == patron_id,
                                                    StackRequest.record_key == record_key,
                                                    StackRequest.state.in_(OPEN_STACK_REQUEST_STATES))):
        return Decision.refuse("already_requested"), None
    taken = select(StackRequest.item_id).where(StackRequest.state.in_(OPEN_STACK_REQUEST_STATES))
    copy = session.scalar(
        select(Item).join(ClosedStackCopy, ClosedStackCopy.item_id == Item.id)
        .where(Item.library_id == circ.library_id, Item.record_key == record_key, Item.status == "available",
               Item.id.not_in(taken)).order_by(Item.id).limit(1))
    if copy is None:
        return Decision.refuse("no_stack_copy"), None
    request = StackRequest(patron_id=patron_id, library_id=circ.library_id, item_id=copy.id, record_key=record_key,
                           state="requested", requested_at=now, pickup_place="")
    session.add(request)
    session.flush()
    audit.record(session, actor=actor, action="circulation.stack_request_placed", now=now,
                 record_type="circ_stack_request", record_id=request.id)
    return Decision.allow(), request


def patron_stack_requests(session: Session, patron_id: int, *, now: datetime,
                          cancelled_visible_days: int = 3) -> list[StackRequestLine]:
    """The patron's open requests and those cancelled in the last days, the oldest first [003]."""
    since = now - timedelta(days=cancelled_visible_days)
    rows = session.execute(
        select(StackRequest, Item).join(Item, Item.id == StackRequest.item_id)
        .where(StackRequest.patron_id == patron_id,
               or_(StackRequest.state.in_(OPEN_STACK_REQUEST_STATES),
                   and_(StackRequest.state == "cancelled", StackRequest.cancelled_at >= since)))
        .order_by(StackRequest.requested_at, StackRequest.id))
    return [_line(request, item) for request, item in rows]


def _own(session: Session, request_id: int, patron_id: int) -> StackRequest:
    request = session.get(StackRequest, request_id)
    if request is None or request.patron_id != patron_id:
        raise DomainError("not-found", 404, what="stack_request")
    return request


def cancel_stack_request(session: Session, request_id: int, *, patron_id: int, now: datetime,
                         actor: object) -> Decision:
    """The patron cancels her request while it is only requested; once the staff are fetching the copy or
    it waits for her, only the library can (stack_request_not_cancellable)."""
    request = _own(session, request_id, patron_id)
    done = session.execute(update(StackRequest).where(StackRequest.id == request.id, StackRequest.state == "requested")
                           .values(state="cancelled", cancelled_at=now, cancelled_by="patron"))
    if done.rowcount != 1:
        session.refresh(request)
        return Decision.refuse("stack_request_not_cancellable", state=request.state)
    audit.record(session, actor=actor, action="circulation.stack_request_cancelled", now=now,
                 record_type="circ_stack_request", record_id=request.id)
    session.flush()
    return Decision.allow()


# -- the staff ---------------------------------------------------------------------------------------


def library_stack_requests(session: Session, library_id: int) -> list[StackRequestLine]:
    """The library's open requests (requested, processing, ready), the oldest first, with where the copy is."""
    rows = session.execute(
        select(StackRequest, Item, ClosedStackCopy.location, Patron)
        .join(Item, Item.id == StackRequest.item_id)
        .outerjoin(ClosedStackCopy, ClosedStackCopy.item_id == Item.id)
        .join(Patron, Patron.id == StackRequest.patron_id)
        .where(StackRequest.library_id == library_id, StackRequest.state.in_(OPEN_STACK_REQUEST_STATES))
        .order_by(StackRequest.requested_at, StackRequest.id))
    return [_line(request, item, location or "", patron) for request, item, location, patron in rows]


def _of_library(session: Session, request_id: int, library_id: int) -> StackRequest:
    request = session.get(StackRequest, request_id)
    if request is None or request.library_id != library_id:
        raise DomainError("not-found", 404, what="stack_request")
    return request


def start_processing(session: Session, request_id: int, *, library_id: int, now: datetime,
                     actor: object) -> Decision:
    """The staff take a requested copy into processing (fetching it from the stacks)."""
    request = _of_library(session, request_id, library_id)
    done = session.execute(update(StackRequest).where(StackRequest.id == request.id, StackRequest.state == "requested")
                           .values(state="processing", processing_at=now))
    if done.rowcount != 1:
        session.refresh(request)
        return Decision.refuse("stack_request_state", state=request.state)
    audit.record(session, actor=actor, action="circulation.stack_request_processing", now=now,
                 record_type="circ_stack_request", record_id=request.id)
    session.flush()
    return Decision.allow()


def mark_ready(session: Session, request_id: int, *, library_id: int, place: str, last_day: date, now: datetime,
               actor: object) -> Decision:
    """The copy waits for the patron at ``place`` until ``last_day`` (a day from today to 60 days ahead, in
    the library's time). From requested or processing; refused as pickup_place_missing,
    pickup_day_invalid or stack_request_state."""
    request = _of_library(session, request_id, library_id)
    place = place.strip()
    if not place or len(place) > LOCATION_MAX:
        return Decision.refuse("pickup_place_missing")
    library = session.get(CircLibrary, library_id)
    assert library is not None
    today = local_today(policy_of(library).timezone, now)
    if not today <= last_day <= today + timedelta(days=MAX_PICKUP_DAYS):
        return Decision.refuse("pickup_day_invalid", earliest=today, latest=today + timedelta(days=MAX_PICKUP_DAYS))
    done = session.execute(update(StackRequest)
                           .where(StackRequest.id == request.id, StackRequest.state.in_(("requested", "processing")))
                           .values(state="ready", ready_at=now, pickup_place=place, last_pickup_day=last_day,
                                   processing_at=request.processing_at or now))
    if done.rowcount != 1:
        session.refresh(request)
        return Decision.refuse("stack_request_state", state=request.state)
    audit.record(session, actor=actor, action="circulation.stack_request_ready", now=now,
                 record_type="circ_stack_request", record_id=request.id, last_day=last_day.isoformat())
    item = session.get(Item, request.item_id)
    enqueue_stack_ready(session, request.id, request.patron_id, item.title if item else "", place, last_day, now=now)
    session.flush()
    return Decision.allow()


def close_stack_request(session: Session, request_id: int, *, library_id: int, outcome: str, now: datetime,
                        actor: object) -> Decision:
    """The library closes an open request: ``collected`` (the patron took the copy: check it out at the
    desk as usual) or ``cancelled`` (not collected, or not found in the stacks)."""
    if outcome not in ("collected", "cancelled"):
        raise DomainError("validation", 400, what="outcome")
    request = _of_library(session, request_id, library_id)
    values: dict[str, object] = {"state": outcome}
    if outcome == "cancelled":
        values |= {"cancelled_at": now, "cancelled_by": "library"}
    done = session.execute(update(StackRequest).where(StackRequest.id == request.id,
                                                      StackRequest.state.in_(OPEN_STACK_REQUEST_STATES))
                           .values(**values))
    if done.rowcount != 1:
        session.refresh(request)
        return Decision.refuse("stack_request_state", state=request.state)
    audit.record(session, actor=actor, action=f"circulation.stack_request_{outcome}", now=now,
                 record_type="circ_stack_request", record_id=request.id)
    session.flush()
    return Decision.allow()


def place_in_closed_stacks(session: Session, *, library_id: int, barcode: str, location: str, now: datetime,
                           actor: object) -> Item:
    """Keep the library's copy in the closed stacks at ``location`` (or move it there); 404 for a copy of
    another library."""
    item = session.scalar(select(Item).where(Item.barcode == barcode, Item.library_id == library_id))
    location = location.strip()
    if item is None:
        raise DomainError("not-found", 404, what="item")
    if not location or len(location) > LOCATION_MAX:
        raise DomainError("validation", 400, what="location")
    row = session.get(ClosedStackCopy, item.id)
    if row is None:
        session.add(ClosedStackCopy(item_id=item.id, location=location, placed_at=now))
    else:
        row.location = location
    audit.record(session, actor=actor, action="circulation.closed_stacks_placed", now=now, record_type="circ_item",
                 record_id=item.id)
    session.flush()
    return item


def remove_from_closed_stacks(session: Session, *, library_id: int, item_id: int, now: datetime,
                              actor: object) -> None:
    """The copy goes back to the open shelves (open requests for it stay: the staff close them)."""
    row = session.execute(select(ClosedStackCopy).join(Item, Item.id == ClosedStackCopy.item_id)
                          .where(ClosedStackCopy.item_id == item_id, Item.library_id == library_id)).scalar()
    if row is None:
        raise DomainError("not-found", 404, what="item")
    session.delete(row)
    audit.record(session, actor=actor, action="circulation.closed_stacks_removed", now=now, record_type="circ_item",
                 record_id=item_id)
    session.flush()


def closed_stack_copies(session: Session, library_id: int, *, limit: int = 200) -> list[tuple[int, str, str, str]]:
    """(item id, barcode, title, location) of the library's copies in closed stacks, by location."""
    rows = session.execute(select(Item.id, Item.barcode, Item.title, ClosedStackCopy.location)
                           .join(ClosedStackCopy, ClosedStackCopy.item_id == Item.id)
                           .where(Item.library_id == library_id)
                           .order_by(ClosedStackCopy.location, Item.barcode).limit(limit))
    return [tuple(row) for row in rows]  # type: ignore[misc]


def library_branches(session: Session, library_id: int) -> list[str]:
    """Names of the library's branches (suggested pickup places)."""
    return list(session.scalars(select(Branch.name).where(Branch.library_id == library_id).order_by(Branch.name)))
