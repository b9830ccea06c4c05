"""The audiobook catalogue as the clubs see it: a thin reader over the lending package.

Only this module touches lending (architecture: cdclub → lending; read its models, call its
``service`` functions). Club titles come from the lending catalogue; online clubs lend through
the lending service, so loan periods, limits and the reader-app shelf stay lending's business.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.cdclub.discs import AudioMeasure
from app.errors import DomainError
from app.lending import service as lending


@dataclass(frozen=True)
class CatalogueBook:
    id: int
    title: str
    author: str
    narrator: str
    audio: AudioMeasure
    available: bool


@dataclass(frozen=True)
class LendOutcome:
    loan_id: int | None
    outcome: str  # "lent", "already_on_loan", or the lending service's refusal code


def _book(row: Any, tracks: list[Any]) -> CatalogueBook:
    seconds = sum(t.duration for t in tracks) or row.duration
    # Average bitrate weighted by duration (track bitrates are kbps): a fallback when sizes are unknown.
    bitrate = (round(sum(t.bitrate * 1000 * t.duration for t in tracks) / seconds) if tracks and seconds
               else None)
    size = sum(t.size for t in tracks) or row.size
    return CatalogueBook(row.id, row.title, row.author or "", row.narrator or "",
                         AudioMeasure(duration_seconds=row.duration or seconds, total_bytes=size or None,
                                      bitrate_bps=bitrate),
                         bool(row.available))


def search(session: Session, query: str, *, limit: int = 20) -> list[CatalogueBook]:
    """Available audiobooks matching ``query`` (title, author or narrator words), newest first."""
    books, _total = lending.find_books(session, query=query, limit=limit)
    return [_book(row, []) for row in books]  # totals only: the tracks matter for the disc count


def get(session: Session, book_id: int) -> CatalogueBook | None:
    try:
        row = lending.get_book(session, book_id, with_tracks=True)
    except DomainError:
        return None
    return _book(row, list(row.tracks))


def lend(session: Session, *, patron: Any, book_id: int, now: datetime, policy_name: str) -> LendOutcome:
    """Put the book on the patron's reader-app shelf as a loan, through the lending service.

    Lending's ``borrow`` is idempotent per patron and book (an active loan is returned, not doubled);
    a refusal (loan limit, withdrawn book …) is returned as its reason code, not raised.
    """
    try:
        book = lending.get_book(session, book_id)
        result = lending.borrow(session, patron, book, now=now, policy=lending.lending_policy(policy_name))
    except DomainError as err:
        return LendOutcome(None, str(err.params.get("reason") or err.code))
    return LendOutcome(result.loan.id, "lent" if result.created else "already_on_loan")
