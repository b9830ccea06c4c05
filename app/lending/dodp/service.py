"""The DAISY Online endpoint's own rules: player sessions, content lists, announcements read, terms accepted.

Loans, books and listening positions are lending's (``app.lending.service``); this module only adds what a
player session needs. Functions take ``session`` and ``now``; they flush, the view commits.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, joinedload

from app.accounts.models import Patron
from app.lending.dodp.models import DodpAnnouncementRead, DodpContentState, DodpSession, DodpTermsAcceptance
from app.lending.models import Audiobook, EbookLoan
from app.lending.service import find_books

CONTENT_PREFIX = "book-"
EXPIRED_DAYS = 30  # an ended loan stays on the "expired" list this long, so players delete the files
NEW_BOOKS = 50  # the "new" list: the newest books the patron does not have on loan
TERMS_VERSION = 1


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def start_session(session: Session, patron: Patron, version: str, *, now: datetime,
                  lifetime: timedelta) -> tuple[str, DodpSession]:
    """A new session for a player that logged on; returns the raw cookie value (never stored)."""
    raw = secrets.token_urlsafe(32)
    row = DodpSession(token_hash=digest(raw), patron_id=patron.id, version=version, state="logged_on",
                      language="", reading_system={}, created_at=now, last_seen_at=now, expires_at=now + lifetime)
    session.add(row)
    session.flush()
    return raw, row


def find_session(session: Session, raw: str, now: datetime) -> DodpSession | None:
    """The live session for a cookie value (not ended, not expired, its patron still active)."""
    found = find_session_and_patron(session, raw, now)
    return found[0] if found is not None else None


def find_session_and_patron(session: Session, raw: str, now: datetime) -> tuple[DodpSession, Patron] | None:
    """The live session and its patron, in one query."""
    if not raw or len(raw) > 100:
        return None
    row = session.execute(select(DodpSession, Patron).join(Patron, Patron.id == DodpSession.patron_id)
                          .where(DodpSession.token_hash == digest(raw), DodpSession.ended_at.is_(None),
                                 DodpSession.expires_at > now, Patron.active.is_(True))).first()
    return (row[0], row[1]) if row is not None else None


def touch(row: DodpSession, now: datetime, lifetime: timedelta) -> None:
    """Idle time runs the session on; written at most once a minute."""
    if now - row.last_seen_at >= timedelta(minutes=1):
        row.last_seen_at, row.expires_at = now, now + lifetime


def end_session(row: DodpSession, now: datetime) -> None:
    row.ended_at = now


def touch_by_id(session: Session, session_id: int, now: datetime, lifetime: timedelta) -> None:
    """``touch`` for a session read without the ORM (the polled answers)."""
    session.execute(update(DodpSession).where(DodpSession.id == session_id)
                    .values(last_seen_at=now, expires_at=now + lifetime))


def revoke_sessions(session: Session, patron_id: int, now: datetime) -> int:
    """End every live session of a patron (a lost player, a changed PIN)."""
    result = session.execute(update(DodpSession).where(DodpSession.patron_id == patron_id,
                                                       DodpSession.ended_at.is_(None)).values(ended_at=now))
    return int(result.rowcount or 0)


def purge_sessions(session: Session, now: datetime) -> int:
    """Forget sessions that ended or expired more than a day ago."""
    old = now - timedelta(days=1)
    result = session.execute(delete(DodpSession).where((DodpSession.expires_at < old) | (DodpSession.ended_at < old)))
    return int(result.rowcount or 0)


# -- content ----------------------------------------------------------------------------------------

def content_id(book_id: int) -> str:
    return f"{CONTENT_PREFIX}{book_id}"


def book_id_of(content: str) -> int | None:
    value = content.strip()
    if not value.startswith(CONTENT_PREFIX):
        return None
    digits = value[len(CONTENT_PREFIX):]
    if not digits.isascii() or not digits.isdigit() or len(digits) > 9:
        return None
    return int(digits)


@dataclass(frozen=True)
class Item:
    book_id: int
    title: str
    author: str
    language: str
    modified: datetime
    content_hash: str


def _item(book: Audiobook) -> Item:
    return Item(book.id, book.title, book.author, book.language, book.updated_at, book.content_hash)


def expired(session: Session, patron_id: int, now: datetime, on_loan: set[int]) -> list[Item]:
    """Books whose loan ended (returned, expired or withdrawn) lately and that are not on loan again
    (``on_loan``: the ids of the books the patron has on loan now)."""
    ended = session.scalars(select(EbookLoan).options(joinedload(EbookLoan.audiobook))
                            .where(EbookLoan.patron_id == patron_id,
                                   ((EbookLoan.ended_at.is_not(None)) & (EbookLoan.ended_at > now - timedelta(days=EXPIRED_DAYS)))
                                   | ((EbookLoan.ended_at.is_(None)) & (EbookLoan.until <= now)))
                            .order_by(EbookLoan.until.desc(), EbookLoan.id.desc()))
    seen: dict[int, Item] = {}
    for loan in ended:
        if loan.audiobook_id not in on_loan and loan.audiobook_id not in seen:
            seen[loan.audiobook_id] = _item(loan.audiobook)
    return list(seen.values())


def new_books(session: Session, on_loan: set[int]) -> list[Item]:
    """The newest books, less those the patron has on loan (``on_loan``)."""
    books, _ = find_books(session, limit=NEW_BOOKS + len(on_loan))
    return [_item(b) for b in books if b.id not in on_loan][:NEW_BOOKS]


# Which books reached a patron through their book clubs: lending cannot import the clubs (they import
# lending), so the cdclub package registers the answer (book ids, newest first) when it is installed.
ClubBooks = Callable[[Session, int], list[int]]
_club_books: ClubBooks | None = None


def set_club_books(source: ClubBooks | None) -> None:
    global _club_books
    _club_books = source


def has_club_books() -> bool:
    return _club_books is not None


def club_book_ids(session: Session, patron_id: int) -> list[int]:
    """The books the patron's clubs delivered, newest first, without repeats (the caller keeps those on
    loan: a player can only play those)."""
    if _club_books is None:
        return []
    return list(dict.fromkeys(_club_books(session, patron_id)))


def search(session: Session, query: str) -> list[Item]:
    books, _ = find_books(session, query=query, limit=NEW_BOOKS)
    return [_item(b) for b in books]


# -- announcements, bookmarks, terms --------------------------------------------------------------

def read_announcements(session: Session, patron_id: int) -> set[str]:
    return set(session.scalars(select(DodpAnnouncementRead.announcement)
                               .where(DodpAnnouncementRead.patron_id == patron_id)))


def mark_read(session: Session, patron_id: int, keys: list[str], now: datetime) -> None:
    done = read_announcements(session, patron_id)
    for key in dict.fromkeys(keys):
        if key not in done:
            session.add(DodpAnnouncementRead(patron_id=patron_id, announcement=key, read_at=now))
    session.flush()


def _state(session: Session, patron_id: int, book_id: int, now: datetime) -> DodpContentState:
    row = session.get(DodpContentState, (patron_id, book_id))
    if row is None:
        row = DodpContentState(patron_id=patron_id, audiobook_id=book_id, items="", updated_at=now)
        session.add(row)
    return row


def stored_bookmarks(session: Session, patron_id: int, book_id: int) -> str:
    row = session.get(DodpContentState, (patron_id, book_id))
    return row.items if row is not None else ""


def store_bookmarks(session: Session, patron_id: int, book_id: int, items: str, now: datetime) -> None:
    row = _state(session, patron_id, book_id, now)
    row.items, row.updated_at = items, now
    session.flush()


def set_progress(session: Session, patron_id: int, book_id: int, state: str, now: datetime) -> DodpContentState:
    """The player's progress with a book (START, PAUSE, RESUME, FINISH): kept as first and last access."""
    row = _state(session, patron_id, book_id, now)
    row.progress_state, row.last_accessed_at, row.updated_at = state, now, now
    if row.first_accessed_at is None:
        row.first_accessed_at = now
    session.flush()
    return row


def content_state(session: Session, patron_id: int, book_id: int) -> DodpContentState | None:
    return session.get(DodpContentState, (patron_id, book_id))


def terms_accepted(session: Session, patron_id: int) -> bool:
    row = session.get(DodpTermsAcceptance, patron_id)
    return accepted_version_holds(row.terms_version if row is not None else None)


def accepted_version_holds(version: int | None) -> bool:
    """Whether terms accepted in ``version`` (None: never) are the terms in force."""
    return version is not None and version >= TERMS_VERSION


def accept_terms(session: Session, patron_id: int, now: datetime) -> None:
    row = session.get(DodpTermsAcceptance, patron_id)
    if row is None:
        session.add(DodpTermsAcceptance(patron_id=patron_id, terms_version=TERMS_VERSION, accepted_at=now))
    else:
        row.terms_version, row.accepted_at = TERMS_VERSION, now
    session.flush()


def reading_system(attributes: Any) -> dict[str, Any]:
    """What is kept of a player's readingSystemAttributes (no serial number: it identifies a person's device)."""
    return {k: str(v)[:100] for k, v in attributes.items() if k in ("manufacturer", "model", "version")}
