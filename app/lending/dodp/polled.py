"""What players poll — their content lists and a book's resources — from one SQL statement and a remembered
answer, as the reader apps' loans list does (``app.lending.service.poll_loans``, ``http.loans_answer``).

``poll`` reads, in one statement outside any transaction, the live session for a cookie, its patron, whether
the terms are accepted, and every active loan of the patron with the book's key, the listening position and
the player's progress state. The encoded answer is remembered per exact input (those raw rows, the list, the
language, the URL root), so it can never be stale: a changed loan, book or position is another key. What a
book's files are (names, sizes, chapters) is remembered per book version (its id, content hash and update
time): it changes only when the book is ingested again.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.accounts.models import Patron
from app.db import Prepared, raw, utc_from_raw
from app.lending import service as lending
from app.lending.documents import iso as documents_iso
from app.lending.dodp import content
from app.lending.dodp import service as dodp
from app.lending.dodp.models import DodpContentState, DodpSession, DodpTermsAcceptance
from app.lending.dodp.soap import BOOKMARK, DC, answer, el, label, serialize
from app.lending.models import Audiobook, EbookLoan, ListeningPosition

_TIME = EbookLoan.__table__.c.until.type


@dataclass(frozen=True)
class Live:
    """A live session as ``poll`` reads it."""

    id: int
    version: str
    state: str
    language: str  # the player's preferredUILanguage
    last_seen_raw: Any
    patron_id: int
    patron_language: str
    terms_version: int | None

    @property
    def last_seen_at(self) -> datetime:
        moment = utc_from_raw(self.last_seen_raw)
        assert moment is not None
        return moment


# A loan row: (book id, until, title, author, language, updated, content hash, position track, position
# offset, first accessed, last accessed, has bookmarks) — raw, as the driver gives them (a cache key).
LoanRow = tuple[Any, ...]

_POLL = (select(DodpSession.id, DodpSession.version, DodpSession.state, DodpSession.language,
                raw(DodpSession.last_seen_at), Patron.id, Patron.language, DodpTermsAcceptance.terms_version,
                EbookLoan.audiobook_id, raw(EbookLoan.until), Audiobook.title, Audiobook.author, Audiobook.language,
                raw(Audiobook.updated_at), Audiobook.content_hash, ListeningPosition.track,
                ListeningPosition.offset_seconds, raw(DodpContentState.first_accessed_at),
                raw(DodpContentState.last_accessed_at), func.length(DodpContentState.items))
         .select_from(DodpSession)
         .join(Patron, Patron.id == DodpSession.patron_id)
         .outerjoin(DodpTermsAcceptance, DodpTermsAcceptance.patron_id == Patron.id)
         .outerjoin(EbookLoan, and_(EbookLoan.patron_id == Patron.id, EbookLoan.ended_at.is_(None),
                                    EbookLoan.until > bindparam("now", type_=_TIME)))
         .outerjoin(Audiobook, Audiobook.id == EbookLoan.audiobook_id)
         .outerjoin(ListeningPosition, and_(ListeningPosition.patron_id == Patron.id,
                                            ListeningPosition.audiobook_id == EbookLoan.audiobook_id))
         .outerjoin(DodpContentState, and_(DodpContentState.patron_id == Patron.id,
                                           DodpContentState.audiobook_id == EbookLoan.audiobook_id))
         .where(DodpSession.token_hash == bindparam("digest"), DodpSession.ended_at.is_(None),
                DodpSession.expires_at > bindparam("now", type_=_TIME), Patron.active.is_(True))
         .order_by(EbookLoan.started_at, EbookLoan.id))
_PREPARED = Prepared(_POLL)


def poll(bind: Engine, cookie: str, now: datetime) -> tuple[Live, tuple[LoanRow, ...]] | None:
    """The live session for a cookie value and the patron's active loans (oldest first), or None."""
    if not cookie or len(cookie) > 100:
        return None
    rows = _PREPARED.all(bind, digest=dodp.digest(cookie), now=now)
    if not rows:
        return None
    live = Live(*rows[0][:8])
    return live, tuple(tuple(row[8:-1]) + (bool(row[-1]),) for row in rows if row[8] is not None)


# -- a book's files, per book version ----------------------------------------------------------------

@dataclass(frozen=True)
class Facts:
    """What the answers need of a book: its metadata, its files (name, MIME type, size) and chapters."""

    book_id: int
    identifier: str
    title: str
    author: str
    narrator: str
    language: str
    modified: str  # xs:dateTime
    size: int
    files: tuple[tuple[str, str, int], ...]
    chapters: tuple[content.Chapter, ...]


def facts(session: Callable[[], Session], book_id: int, content_hash: str, updated_raw: Any) -> Facts:
    """The facts of one version of a book, loaded once per process and version (``session``: gives the
    request's database session, asked for only when the facts are loaded)."""
    carried = Carry(session)
    try:
        return _facts(book_id, content_hash, updated_raw, carried)
    finally:
        carried.value = None  # the cache keeps the first Carry as part of its key: not the session


class Carry:
    """Carries a value into a cached function without being part of its key (all Carry are equal)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __hash__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Carry)


@lru_cache(maxsize=2048)
def _facts(book_id: int, _hash: str, _updated: Any, carried: Carry) -> Facts:
    return facts_of(lending.get_book(carried.value(), book_id, with_tracks=True))


def facts_of(book: Audiobook) -> Facts:
    files = content.fileset(book)
    listed = []
    for name in files.names():
        if name in files.documents:
            listed.append((name, content.media_type(name), len(files.documents[name])))
        else:
            listed.append((name, files.tracks[name].media_type, files.tracks[name].size))
    return Facts(book.id, book.identifier, book.title, book.author, book.narrator, book.language,
                 iso(book.updated_at), files.size, tuple(listed), files.chapters)


# -- the answers -----------------------------------------------------------------------------------

def iso(moment: datetime | None) -> str:
    """xs:dateTime in UTC, whole seconds: 2026-12-21T10:00:00Z."""
    assert moment is not None
    return documents_iso(moment)


def lang(code: str) -> str:
    return code if code and len(code) <= 35 else "und"


def item_label(title: str, author: str) -> str:
    return f"{title}, {author}" if author else title


def metadata(parent: Any, book: Facts) -> None:
    meta = el(parent, "metadata")
    el(meta, "title", book.title, namespace=DC)
    el(meta, "identifier", book.identifier, namespace=DC)
    el(meta, "format", "Daisy 2.02", namespace=DC)
    if book.language:
        el(meta, "language", book.language, namespace=DC)
    if book.author:
        el(meta, "creator", book.author, namespace=DC)
    if book.narrator:
        el(meta, "narrator", book.narrator)
    el(meta, "size", book.size)


def lastmark(parent: Any, chapters: tuple[content.Chapter, ...], track: int | None, offset: float | None) -> None:
    """The listening position as a bookmark lastmark (nothing when there is none, or it points nowhere)."""
    if track is None or offset is None or track not in {c.track for c in chapters}:
        return
    ncx, uri, time_offset = content.position_to_mark(chapters, track, offset)
    mark = el(parent, "lastmark", namespace=BOOKMARK)
    el(mark, "ncxRef", ncx, namespace=BOOKMARK)
    el(mark, "URI", uri, namespace=BOOKMARK)
    el(mark, "timeOffset", time_offset, namespace=BOOKMARK)


class Entry(NamedTuple):
    """One contentItem of a list: the book (id, title, author, language, update time, content hash) and,
    when it is on loan, the loan row (``LoanRow``). A tuple: it is part of a cache key."""

    book_id: int
    title: str
    author: str
    language: str
    updated_raw: Any
    content_hash: str
    loan: LoanRow | None = None

    @classmethod
    def of_loan(cls, row: LoanRow) -> Entry:
        return cls(row[0], row[2], row[3], row[4], row[5], row[6], row)


def list_answer(session: Callable[[], Session], version: str, ui_lang: str, list_id: str, title: str, entries: tuple[Entry, ...],
                first: int, last: int) -> bytes:
    """The getContentList answer (entries is the whole list; first/last pick the page)."""
    page = entries[first:] if last == -1 else entries[first:last + 1]
    books = tuple(facts(session, e.book_id, e.content_hash, e.updated_raw) for e in page) if version == "2" else ()
    carried = Carry(books)  # the books are named by the entries (id, content hash, update time): not a key
    try:
        return _list_answer(version, ui_lang, list_id, title, len(entries), first, last, page, carried)
    finally:
        carried.value = None


@lru_cache(maxsize=1024)  # per process: a few kB an entry
def _list_answer(version: str, ui_lang: str, list_id: str, title: str, total: int, first: int, last: int,
                 page: tuple[Entry, ...], carried: Carry) -> bytes:
    books: tuple[Facts, ...] = carried.value
    root, resp = answer("getContentList")
    attrs: dict[str, Any] = {"totalItems": total, "id": list_id}
    if not (first == 0 and last == -1) and page:
        attrs.update(firstItem=first, lastItem=first + len(page) - 1)
    listing = el(resp, "contentList", **attrs)
    label(listing, title, ui_lang)
    for number, entry in enumerate(page):
        item = el(listing, "contentItem", id=dodp.content_id(entry.book_id),
                  lastModifiedDate=iso(utc_from_raw(entry.updated_raw)))
        label(item, item_label(entry.title, entry.author), lang(entry.language))
        if version == "2":
            _v2_item(item, books[number], entry.loan)
    return serialize(root)


def _v2_item(item: Any, book: Facts, loan: LoanRow | None) -> None:
    metadata(item, book)
    el(item, "accessPermission", "STREAM_AND_DOWNLOAD")
    item.set("category", "BOOK")
    if loan is None:
        return
    until, track, offset, first_access, last_access, has_items = loan[1], *loan[7:]
    item.set("returnBy", iso(utc_from_raw(until)))
    lastmark(item, book.chapters, track, offset)
    if first_access is not None:
        item.set("firstAccessedDate", iso(utc_from_raw(first_access)))
    if last_access is not None:
        item.set("lastAccessedDate", iso(utc_from_raw(last_access)))
    item.set("hasBookmarks", "true" if has_items else "false")


def resources_answer(session: Callable[[], Session], version: str, base: str, book_key: tuple[int, str, Any], until_raw: Any) -> bytes:
    """The getContentResources answer: every file with its URL (``base``/name), MIME type and size;
    ``book_key`` is the book's (id, content hash, update time)."""
    carried = Carry(facts(session, *book_key))
    try:
        return _resources_answer(version, base, book_key, until_raw, carried)
    finally:
        carried.value = None


@lru_cache(maxsize=1024)
def _resources_answer(version: str, base: str, _book_key: tuple[int, str, Any], until_raw: Any,
                      carried: Carry) -> bytes:
    book: Facts = carried.value
    root, resp = answer("getContentResources")
    # v1 says when the loan ends here; v2 on the bookshelf's contentItem (returnBy) instead.
    node = el(resp, "resources", returnBy=iso(utc_from_raw(until_raw)) if version == "1" else None,
              lastModifiedDate=book.modified)
    for name, mime, size in book.files:
        el(node, "resource", uri=f"{base}/{name}", mimeType=mime, size=size, localURI=name,
           lastModifiedDate=book.modified)
    return serialize(root)


def forget() -> None:
    """Empty the remembered answers and book facts (a new app: perhaps another database with the same ids)."""
    for cached in (_facts, _list_answer, _resources_answer, list_title):
        cached.cache_clear()


@lru_cache(maxsize=256)
def list_title(list_id: str, ui_lang: str, query: str = "") -> str:
    """A list's title in ``ui_lang`` (remembered: the translations do not change while the server runs)."""
    with force_locale(ui_lang):
        if list_id in ("issued", "bookshelf"):
            return _("My books")
        if list_id == "new":
            return _("New books")
        if list_id == "expired":
            return _("Returned and expired books")
        if list_id == "clubs":
            return _("My club books")
        return _("Search results: %(query)s", query=query)
