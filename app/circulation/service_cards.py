"""Library cards in circulation: the account's cards with their state [003], a card reported lost by the patron
(blocked at once), and a new card issued at the desk — with the replacement-card fee of the library's preset
when it replaces an old one. The table and the authentication rule live in accounts (app/accounts/cards.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import audit
from app.accounts import service as accounts
from app.accounts.cards import LibraryCard, cards_of, ensure_primary_card, number_taken
from app.accounts.models import Library, Patron
from app.circulation.decisions import Decision
from app.circulation.money import Money
from app.circulation.service_common import add_fee, borrower, policy_of
from app.circulation.service_fees import recompute_billing_ban
from app.errors import DomainError
from app.platform.bodies import is_storable

CARD_NUMBER_MAX = 20
NUMBER_ATTEMPTS = 1000  # numbers drawn before giving up (each one skipped was given out by hand)
REPLACEABLE = ("active", "lost", "expired")

# The audit log in words (app/audit.py's registry).
audit.describe({
    "circulation.card_reported_lost": _l("%(who)s reported a library card lost; it was blocked at once."),
    "circulation.card_issued": _l("%(who)s issued a new library card."),
    "circulation.loan_history_on": _l("%(who)s chose to keep the loan history."),
    "circulation.loan_history_off": _l("%(who)s stopped keeping the loan history."),
    "circulation.loan_history_deleted": _l("%(who)s deleted the loan history; entries deleted: %(entries)s."),
})


@dataclass(frozen=True)
class CardLine:
    card_id: int
    number: str
    status: str  # active | lost | expired | replaced
    library: str
    issued_at: datetime
    lost_at: datetime | None
    valid_until: date | None
    primary: bool  # the account's main card (the one on the patron row)
    replaceable: bool  # not yet replaced by a newer card


@dataclass(frozen=True)
class IssuedCard:
    decision: Decision  # refused: card_number_taken | card_not_replaceable
    number: str | None = None
    fee: Money | None = None  # the replacement-card fee charged, if any


def patron_cards(session: Session, patron_id: int, *, now: datetime) -> list[CardLine]:
    """The account's cards, active ones first. A card's library is the member library that issued it, else
    the patron's circulation library; the primary card is valid as long as the membership card is."""
    patron, circ, library = borrower(session, patron_id)
    cards = cards_of(session, patron_id, now=now)
    ids = {card.library_id for card in cards if card.library_id is not None}
    names = dict(session.execute(select(Library.id, Library.name).where(Library.id.in_(ids))).all()) if ids else {}
    return [CardLine(card.id, card.number, card.status, names.get(card.library_id) or library.name, card.issued_at,
                     card.lost_at, card.valid_until or (circ.card_expires_on if card.number == patron.card_number
                                                        else None), card.number == patron.card_number,
                     card.status in REPLACEABLE and card.replaced_by_id is None)
            for card in cards]


def _card_of(session: Session, patron_id: int, card_id: int) -> LibraryCard:
    card = session.get(LibraryCard, card_id)
    if card is None or card.patron_id != patron_id:
        raise DomainError("not-found", 404, what="card")
    return card


def report_card_lost(session: Session, patron_id: int, card_id: int, *, now: datetime, actor: Any) -> Decision:
    """The patron (or the desk) reports a card lost: from this moment it opens nothing — not the web, the reader
    apps, the self-service machines or the door. Refused as card_not_active when it was not active."""
    borrower(session, patron_id)
    ensure_primary_card(session, patron_id, now=now)
    card = _card_of(session, patron_id, card_id)
    done = session.execute(update(LibraryCard).where(LibraryCard.id == card.id, LibraryCard.status == "active")
                           .values(status="lost", lost_at=now))
    if done.rowcount != 1:
        return Decision.refuse("card_not_active")
    audit.record(session, actor=actor, action="circulation.card_reported_lost", now=now, record_type="patron",
                 record_id=patron_id, card_id=card.id)
    session.flush()
    session.refresh(card)
    return Decision.allow()


def _new_number(session: Session, wanted: str | None) -> str | None:
    """The number for a new card: the one scanned from the card stock (None when a card has it), or the next
    free one from the card-number counter."""
    if wanted is not None:
        if not wanted or len(wanted) > CARD_NUMBER_MAX or not wanted.isalnum() or not is_storable(wanted):
            raise DomainError("card-number-invalid", 422, field="number")
        return None if number_taken(session, wanted) else wanted
    for _attempt in range(NUMBER_ATTEMPTS):
        number = accounts.allocate_card_number(session)
        if not number_taken(session, number):
            return number
    raise DomainError("card-numbers-exhausted", 409)


def issue_card(session: Session, patron_id: int, *, now: datetime, actor: Any, replaces_card_id: int | None = None,
               old_card_lost: bool = False, number: str | None = None, charge_fee: bool = True,
               library_id: int | None = None) -> IssuedCard:
    """Issue a card at the desk. With ``replaces_card_id`` it replaces that card (marked lost when
    ``old_card_lost`` or already reported lost, else replaced; a replaced primary card's number is no longer
    the account's) and the preset's replacement-card fee is charged unless the clerk chose not to (recorded);
    without, it is an additional card (e.g. another library's [003]), free. ``number``: the scanned number of
    a pre-printed card; None draws the next free number. ``library_id``: the member library issuing it (the
    desk's; default: the replaced card's, else the patron's home library)."""
    patron, circ, library = borrower(session, patron_id)
    ensure_primary_card(session, patron_id, now=now)
    old = _card_of(session, patron_id, replaces_card_id) if replaces_card_id is not None else None
    if old is not None and (old.status not in REPLACEABLE or old.replaced_by_id is not None):
        return IssuedCard(Decision.refuse("card_not_replaceable"))
    new_number = _new_number(session, number.strip() if number is not None else None)
    if new_number is None:
        return IssuedCard(Decision.refuse("card_number_taken"))
    card = LibraryCard(number=new_number, patron_id=patron.id, status="active", issued_at=now,
                       library_id=library_id or (old.library_id if old is not None else patron.home_library_id),
                       valid_until=old.valid_until if old is not None else None)
    session.add(card)
    session.flush()
    old_status = None
    if old is not None:
        old_status = "lost" if old_card_lost or old.status == "lost" else "replaced"
        old.lost_at = old.lost_at or (now if old_status == "lost" else None)
        old.status, old.replaced_by_id = old_status, card.id
        if old.number == patron.card_number:
            session.execute(update(Patron).where(Patron.id == patron.id).values(card_number=new_number))
    session.flush()
    fee = _charge(session, patron_id, circ.library_id, policy_of(library).fees.replacement_card, card.id,
                  now=now, actor=actor) if old is not None and charge_fee else None
    audit.record(session, actor=actor, action="circulation.card_issued", now=now, record_type="patron",
                 record_id=patron_id, card_id=card.id, replaces=old.id if old is not None else None,
                 old_status=old_status, fee=str(fee.to_decimal()) if fee else None,
                 fee_waived=old is not None and not charge_fee)
    session.refresh(patron)
    return IssuedCard(Decision.allow(), new_number, fee)


def _charge(session: Session, patron_id: int, library_id: int, amount: Money | None, card_id: int, *,
            now: datetime, actor: Any) -> Money | None:
    if amount is None or not amount.is_positive:
        return None
    add_fee(session, patron_id=patron_id, library_id=library_id, kind="replacement_card", amount=amount,
            reason="new library card", now=now, actor=actor, dedup_key=f"card:{card_id}")
    recompute_billing_ban(session, patron_id, now=now, actor=actor)
    return amount


def replacement_fee(session: Session, patron_id: int) -> Money | None:
    """What a replacement card costs this patron under her library's preset (None: free)."""
    return policy_of(borrower(session, patron_id)[2]).fees.replacement_card
