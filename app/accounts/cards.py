"""Library cards: an account may hold several (e.g. two libraries' cards [003]); a lost card is blocked at once.

The patron row's ``card_number`` is the account's primary card. A card number is the key of at most one row
here; the primary card of an account that never had a card changed has no row yet and counts as active (the
migration made a row for every patron then; ``ensure_primary_card`` makes the missing one when the cards of an
account are first looked at or changed). Authentication asks ``patron_of_card``: any active card opens the
account; a lost, expired or replaced one opens nothing, exactly like a number no card has.
"""
from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, and_, bindparam, exists, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app import db
from app.db import Base, UTCDateTime

CARD_STATES = ("active", "lost", "expired", "replaced")


class LibraryCard(Base):
    """One physical (or virtual) library card of an account."""

    __tablename__ = "library_cards"
    __table_args__ = (CheckConstraint("status IN ('active', 'lost', 'expired', 'replaced')", name="status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), index=True)
    library_id: Mapped[int | None] = mapped_column(ForeignKey("libraries.id"))
    status: Mapped[str] = mapped_column(String(20), default="active")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lost_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[date | None] = mapped_column(Date)
    # The card issued in its place (a lost card stays "lost" once replaced; this says it was replaced).
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("library_cards.id"))


def account_of_card(session: Session, number: str) -> Any:
    """The account (Patron) that an ACTIVE card with this number opens, or None (no such card, or it is lost,
    expired or replaced — the caller cannot tell which). One statement: the login and SIP2 paths call it."""
    return session.scalar(_account_of_card(), {"n": number})


def patron_of_card(session: Session, number: str) -> int | None:
    """The id of that account (for callers that look a patron up by a scanned card, such as SIP2)."""
    patron = account_of_card(session, number)
    return patron.id if patron is not None else None


@cache
def _account_of_card() -> Any:
    from app.accounts.models import Patron

    number = bindparam("n")
    active = select(LibraryCard.patron_id).where(LibraryCard.number == number, LibraryCard.status == "active")
    return select(Patron).where(or_(
        Patron.id == active.scalar_subquery(),
        and_(Patron.card_number == number, ~exists().where(LibraryCard.number == number))))


def opened_by(number: str) -> Any:
    """A WHERE condition on Patron: the account an active card with ``number`` opens (as ``account_of_card``),
    for lookups that read more than the patron in the same statement (SIP2's)."""
    from app.accounts.models import Patron

    active = select(LibraryCard.patron_id).where(LibraryCard.number == number, LibraryCard.status == "active")
    return or_(Patron.id == active.scalar_subquery(),
               and_(Patron.card_number == number, ~exists().where(LibraryCard.number == number)))


def number_taken(session: Session, number: str) -> bool:
    """Whether any card — a patron's primary or any card ever issued — has this number."""
    from app.accounts.models import Patron

    return (session.scalar(select(LibraryCard.id).where(LibraryCard.number == number)) is not None
            or session.scalar(select(Patron.id).where(Patron.card_number == number)) is not None)


def ensure_primary_card(session: Session, patron_id: int, *, now: datetime) -> None:
    """Give the account's primary card its row, if it has none yet (issued when the account was created)."""
    from app.accounts.models import Patron

    patron = session.get(Patron, patron_id)
    if patron is None:
        return
    if session.scalar(select(LibraryCard.id).where(LibraryCard.number == patron.card_number)) is None:
        # ON CONFLICT DO NOTHING: two first looks at once (a double click) make one row, never an error.
        session.execute(db.insert_ignoring_conflicts(session, LibraryCard.__table__), {
            "number": patron.card_number, "patron_id": patron.id, "library_id": patron.home_library_id,
            "status": "active", "issued_at": patron.created_at or now, "lost_at": None, "valid_until": None,
            "replaced_by_id": None})


def cards_of(session: Session, patron_id: int, *, now: datetime) -> list[LibraryCard]:
    """The account's cards, active ones first, then the newest first."""
    ensure_primary_card(session, patron_id, now=now)
    rows = session.scalars(select(LibraryCard).where(LibraryCard.patron_id == patron_id)
                           .order_by(LibraryCard.issued_at.desc(), LibraryCard.id.desc()))
    return sorted(rows, key=lambda card: card.status != "active")
