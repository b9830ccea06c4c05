"""A patron's favourites lists (Tampere's [003] "My favourites"): lists with a name and a description,
private or public with a share link, entries with a note and keywords, sorting, moving and copying
between lists, RIS export (RefWorks, Zotero, EndNote) and sending a list by email through the outbox.

Functions take ``session`` and ``now``; they flush, never commit. Every function that reaches a list or an
entry by id checks that it is the patron's own (someone else's answers 404, as a missing one does).
"""
from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.catalogue.lists_models import FavouriteEntry, FavouriteList
from app.catalogue.models import Record
from app.errors import DomainError
from app.notify import service as notify
from app.notify.models import OutboxMessage

MAX_LISTS = 50
MAX_ENTRIES = 1000
MAX_NAME = 100
MAX_DESCRIPTION = 1000
MAX_NOTE = 2000
MAX_KEYWORDS = 20
MAX_KEYWORD = 50
MAIL_PER_DAY = 20  # lists a patron may send by email per day
SORTS = ("added", "title", "author", "material_type")
EMAIL = re.compile(r"[^@\s<>\"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+")

# RIS reference types by catalogue material (RIS spec: BOOK, SOUND, VIDEO, MUSIC, JFULL, COMP, GEN).
RIS_TYPES = {"book": "BOOK", "large_print": "BOOK", "audiobook_cd": "SOUND", "daisy": "SOUND",
             "e_audiobook": "SOUND", "dvd": "VIDEO", "bluray": "VIDEO", "console_game": "COMP", "music_cd": "MUSIC",
             "magazine": "JFULL", "object": "GEN"}
# MARC language codes → ISO 639-1 where one exists (RIS LA is free text; Zotero reads either).
RIS_LANGUAGES = {"fin": "fi", "swe": "sv", "eng": "en", "cze": "cs", "sme": "se", "ger": "de", "fre": "fr",
                 "rus": "ru", "est": "et", "spa": "es", "ita": "it", "nor": "no", "dan": "da"}


def clean(value: Any, limit: int, *, multiline: bool = False) -> str:
    """Text a form sent: printable characters only (newlines kept when ``multiline``), trimmed, at most
    ``limit`` characters. Anything that is not a string is empty."""
    if not isinstance(value, str):
        return ""
    keep = "".join(ch for ch in value if (ch.isprintable() or (multiline and ch == "\n"))
                   and not 0xD800 <= ord(ch) <= 0xDFFF)
    return keep.strip()[:limit].strip()


def parse_keywords(value: Any) -> list[str]:
    """Keywords typed as a comma-separated line: trimmed, without duplicates (case-insensitively)."""
    out: list[str] = []
    for word in clean(value, 2000).split(","):
        word = word.strip()[:MAX_KEYWORD].strip()
        if word and word.casefold() not in {w.casefold() for w in out}:
            out.append(word)
    if len(out) > MAX_KEYWORDS:
        raise DomainError("catalogue-too-many-keywords", 422, limit=MAX_KEYWORDS)
    return out


# Lists ---------------------------------------------------------------------------------------------------------

def lists_of(session: Session, patron_id: int) -> list[tuple[FavouriteList, int]]:
    counts = (select(FavouriteEntry.list_id, func.count().label("n")).group_by(FavouriteEntry.list_id)
              .subquery())
    rows = session.execute(select(FavouriteList, func.coalesce(counts.c.n, 0))
                           .outerjoin(counts, counts.c.list_id == FavouriteList.id)
                           .where(FavouriteList.patron_id == patron_id)
                           .order_by(func.lower(FavouriteList.name), FavouriteList.id))
    return [(lst, int(n)) for lst, n in rows]


def get_list(session: Session, patron_id: int, list_id: int) -> FavouriteList:
    lst = session.get(FavouriteList, list_id)
    if lst is None or lst.patron_id != patron_id:
        raise DomainError("catalogue-list-not-found", 404)
    return lst


def shared_list(session: Session, token: str) -> FavouriteList:
    """A public list by its share link; a revoked link, a private list or a made-up token is not found."""
    if not isinstance(token, str) or not 20 <= len(token) <= 64:
        raise DomainError("catalogue-list-not-found", 404)
    lst = session.scalar(select(FavouriteList).where(FavouriteList.share_token == token))
    if lst is None or not lst.is_public or not secrets.compare_digest(lst.share_token or "", token):
        raise DomainError("catalogue-list-not-found", 404)
    return lst


def _check_name(session: Session, patron_id: int, name: str, except_id: int | None = None) -> str:
    name = clean(name, MAX_NAME)
    if not name:
        raise DomainError("catalogue-list-name-missing", 422)
    taken = session.scalars(select(FavouriteList.name).where(FavouriteList.patron_id == patron_id,
                                                             FavouriteList.id != (except_id or 0)))
    if name.casefold() in {t.casefold() for t in taken}:
        raise DomainError("catalogue-list-name-taken", 409, name=name)
    return name


def _set_public(lst: FavouriteList, public: bool) -> None:
    lst.is_public = bool(public)
    if lst.is_public and not lst.share_token:
        lst.share_token = secrets.token_urlsafe(24)
    elif not lst.is_public:
        lst.share_token = None  # the old link stops working at once


def create_list(session: Session, *, patron_id: int, name: str, description: str = "", public: bool = False,
                now: datetime) -> FavouriteList:
    if session.scalar(select(func.count()).where(FavouriteList.patron_id == patron_id)) >= MAX_LISTS:
        raise DomainError("catalogue-too-many-lists", 409, limit=MAX_LISTS)
    lst = FavouriteList(patron_id=patron_id, name=_check_name(session, patron_id, name),
                        description=clean(description, MAX_DESCRIPTION, multiline=True), created_at=now,
                        updated_at=now)
    _set_public(lst, public)
    session.add(lst)
    session.flush()
    return lst


def update_list(session: Session, *, patron_id: int, list_id: int, name: str, description: str, public: bool,
                now: datetime) -> FavouriteList:
    lst = get_list(session, patron_id, list_id)
    lst.name = _check_name(session, patron_id, name, except_id=lst.id)
    lst.description = clean(description, MAX_DESCRIPTION, multiline=True)
    _set_public(lst, public)
    lst.updated_at = now
    session.flush()
    return lst


def new_share_link(session: Session, *, patron_id: int, list_id: int, now: datetime) -> FavouriteList:
    """A new share link for a public list; the old link stops working."""
    lst = get_list(session, patron_id, list_id)
    if not lst.is_public:
        raise DomainError("catalogue-list-private", 409)
    lst.share_token, lst.updated_at = secrets.token_urlsafe(24), now
    session.flush()
    return lst


def delete_list(session: Session, *, patron_id: int, list_id: int) -> str:
    lst = get_list(session, patron_id, list_id)
    name = lst.name
    session.execute(delete(FavouriteEntry).where(FavouriteEntry.list_id == lst.id))
    session.delete(lst)
    session.flush()
    return name


def default_list(session: Session, *, patron_id: int, name: str, now: datetime) -> FavouriteList:
    """The patron's first list, made (named ``name``) when she has none: where a record goes by default."""
    first = session.scalar(select(FavouriteList).where(FavouriteList.patron_id == patron_id)
                           .order_by(FavouriteList.id).limit(1))
    return first or create_list(session, patron_id=patron_id, name=name, now=now)


# Entries -------------------------------------------------------------------------------------------------------

def _count(session: Session, list_id: int) -> int:
    return int(session.scalar(select(func.count()).where(FavouriteEntry.list_id == list_id)) or 0)


def add_record(session: Session, *, patron_id: int, record_id: int, list_id: int | None, default_name: str,
               now: datetime) -> tuple[FavouriteList, bool]:
    """Put a record on a list (the patron's first list when none is named); (list, False) if it was there."""
    if session.get(Record, record_id) is None:
        raise DomainError("catalogue-record-not-found", 404)
    lst = get_list(session, patron_id, list_id) if list_id else \
        default_list(session, patron_id=patron_id, name=default_name, now=now)
    exists = session.scalar(select(FavouriteEntry.id).where(FavouriteEntry.list_id == lst.id,
                                                            FavouriteEntry.record_id == record_id))
    if exists:
        return lst, False
    if _count(session, lst.id) >= MAX_ENTRIES:
        raise DomainError("catalogue-list-full", 409, limit=MAX_ENTRIES)
    session.add(FavouriteEntry(list_id=lst.id, record_id=record_id, note="", keywords=[], added_at=now))
    lst.updated_at = now
    session.flush()
    return lst, True


def _entries(session: Session, patron_id: int, list_id: int, entry_ids: Iterable[int]) -> list[FavouriteEntry]:
    lst = get_list(session, patron_id, list_id)
    ids = {int(i) for i in entry_ids}
    if not ids:
        return []
    return list(session.scalars(select(FavouriteEntry).where(FavouriteEntry.list_id == lst.id,
                                                             FavouriteEntry.id.in_(ids))))


def get_entry(session: Session, patron_id: int, entry_id: int) -> FavouriteEntry:
    entry = session.get(FavouriteEntry, entry_id)
    if entry is None:
        raise DomainError("catalogue-entry-not-found", 404)
    get_list(session, patron_id, entry.list_id)
    return entry


def update_entry(session: Session, *, patron_id: int, entry_id: int, note: str, keywords: str,
                 now: datetime) -> FavouriteEntry:
    entry = get_entry(session, patron_id, entry_id)
    entry.keywords = parse_keywords(keywords)
    entry.note = clean(note, MAX_NOTE, multiline=True)
    session.flush()
    return entry


def remove_entries(session: Session, *, patron_id: int, list_id: int, entry_ids: Iterable[int]) -> int:
    entries = _entries(session, patron_id, list_id, entry_ids)
    for entry in entries:
        session.delete(entry)
    session.flush()
    return len(entries)


def transfer(session: Session, *, patron_id: int, list_id: int, entry_ids: Iterable[int], target_id: int,
             copy: bool, now: datetime) -> int:
    """Move (or copy) entries to another of the patron's lists with their notes and keywords. A record the
    target has already keeps the target's note; a moved one leaves the source anyway. Answers how many
    records the target gained."""
    target = get_list(session, patron_id, target_id)
    if target.id == list_id:
        raise DomainError("catalogue-same-list", 422)
    entries = _entries(session, patron_id, list_id, entry_ids)
    there = set(session.scalars(select(FavouriteEntry.record_id).where(FavouriteEntry.list_id == target.id)))
    gained = [e for e in entries if e.record_id not in there]
    if _count(session, target.id) + len(gained) > MAX_ENTRIES:
        raise DomainError("catalogue-list-full", 409, limit=MAX_ENTRIES)
    for entry in entries:
        if entry.record_id in there:
            if not copy:
                session.delete(entry)
        elif copy:
            session.add(FavouriteEntry(list_id=target.id, record_id=entry.record_id, note=entry.note,
                                       keywords=list(entry.keywords or []), added_at=now))
        else:
            entry.list_id = target.id
    target.updated_at = now
    session.flush()
    return len(gained)


def _first_author(record: Record) -> str:
    names = record.author_names()
    return names[0].casefold() if names else "\uffff"


def entries(session: Session, lst: FavouriteList, sort: str = "added") -> list[tuple[FavouriteEntry, Record]]:
    """The list's entries with their records, sorted by date added (newest first), title, first author or
    material type (then title)."""
    rows = [(e, r) for e, r in session.execute(select(FavouriteEntry, Record)
                                               .join(Record, Record.id == FavouriteEntry.record_id)
                                               .where(FavouriteEntry.list_id == lst.id))]
    if sort == "title":
        rows.sort(key=lambda er: (er[1].title.casefold(), er[0].id))
    elif sort == "author":
        rows.sort(key=lambda er: (_first_author(er[1]), er[1].title.casefold(), er[0].id))
    elif sort == "material_type":
        rows.sort(key=lambda er: (er[1].material_type, er[1].title.casefold(), er[0].id))
    else:
        rows.sort(key=lambda er: (er[0].added_at, er[0].id), reverse=True)
    return rows


# RIS -----------------------------------------------------------------------------------------------------------

def _ris_value(value: Any) -> str:
    """One line's value: no line breaks (a note cannot start a tag of its own), no control characters."""
    text = " ".join(str(value).split())
    return "".join(ch for ch in text if ch.isprintable())


def ris(rows: Iterable[tuple[FavouriteEntry, Record]], link: Any = None) -> str:
    """The entries as RIS (CRLF lines ``TAG  - value``; every reference ends with ``ER  -``): TY by material,
    TI (title: subtitle), AU per author, PY, SN per ISBN/ISSN, PB, LA, ET, KW (the entry's keywords and the
    record's subjects), N1 (the entry's note), UR (``link(record)`` when given)."""
    lines: list[str] = []

    def tag(name: str, value: Any) -> None:
        text = _ris_value(value)
        if text:
            lines.append(f"{name}  - {text}")

    for entry, record in rows:
        lines.append(f"TY  - {RIS_TYPES.get(record.material_type, 'GEN')}")
        tag("TI", f"{record.title}: {record.subtitle}" if record.subtitle else record.title)
        for author in record.authors or []:
            tag("ED" if str(author.get("role", "")).lower().startswith("edit") else "AU", author.get("name", ""))
        if record.year:
            tag("PY", f"{record.year:04d}")
        for number in [*(record.isbns or []), *(record.issns or [])]:
            tag("SN", number)
        tag("PB", record.publisher)
        tag("ET", record.edition)
        tag("LA", RIS_LANGUAGES.get(record.language, record.language))
        for word in [*(entry.keywords or []), *(record.subjects or [])]:
            tag("KW", word)
        tag("N1", entry.note)
        if link is not None:
            tag("UR", link(record))
        lines.append("ER  - ")
        lines.append("")
    return "\r\n".join(lines) + ("\r\n" if lines else "")


# Email ---------------------------------------------------------------------------------------------------------

def valid_email(value: Any) -> str:
    email = clean(value, 254)
    if not EMAIL.fullmatch(email):
        raise DomainError("catalogue-email-invalid", 422)
    return email


def email_list(session: Session, *, patron_id: int, list_id: int, recipient: str, language: str, now: datetime,
               link: Any, list_link: str = "") -> bool:
    """Send the list (titles, authors, years, notes and the records' links) to ``recipient`` through the
    outbox. The same list to the same address within a minute is sent once (a double click); at most
    MAIL_PER_DAY lists per patron and day. True when a message was queued."""
    lst = get_list(session, patron_id, list_id)
    email = valid_email(recipient)
    rows = entries(session, lst, "title")
    if not rows:
        raise DomainError("catalogue-list-empty", 422)
    prefix = f"catalogue:list-mail:p{patron_id}:"
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    sent_today = session.scalar(select(func.count()).where(OutboxMessage.key.like(prefix + "%"),
                                                           OutboxMessage.created_at >= day_start)) or 0
    if sent_today >= MAIL_PER_DAY:
        raise DomainError("catalogue-list-mail-limit", 429, limit=MAIL_PER_DAY)
    digest = hashlib.sha256(email.casefold().encode()).hexdigest()[:16]
    key = f"{prefix}l{lst.id}:{digest}:{now:%Y%m%d%H%M}"
    items = [{"title": r.title + (f": {r.subtitle}" if r.subtitle else ""), "authors": "; ".join(r.author_names()),
              "year": r.year or "", "note": e.note, "link": link(r)} for e, r in rows]
    return notify.enqueue(session, key=key, channel="email", recipient=email, template="catalogue_list",
                          language=language, now=now,
                          context={"name": lst.name, "description": lst.description, "items": items,
                                   "shared": list_link})
