"""Saved searches with alerts (Tampere's [003] "Alerts service"): a patron saves a search (its text and
facets) under a name and chooses no alerts, daily or weekly. The job ``catalogue-search-alerts`` emails,
per due search, the records that are new to it — records imported after the search was saved or last
alerted (a higher record id than its watermark) that match it now; nothing new, no email.

Exactly once: the job handles one search per transaction. It writes a ``SearchAlert`` row for the search
and period (local day or ISO week) together with the outbox message (key ``catalogue:alert:<id>:<period>``)
and the new watermark, so a rerun — after a crash or on the same day — finds the period done and sends
nothing twice. Every alert carries a signed link that stops the alerts without logging in.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import desc, func, select
from sqlalchemy.orm import Session, sessionmaker

from app import audit
from app.accounts.models import Patron
from app.catalogue import search as catalogue_search
from app.catalogue.lists import clean
from app.catalogue.lists_models import FREQUENCIES, SavedSearch, SearchAlert
from app.catalogue.models import Record
from app.catalogue.search import SearchQuery
from app.errors import DomainError
from app.notify import service as notify

UNSUBSCRIBE_SALT = "kuulo.catalogue.alert-unsubscribe"
QUERY_LIMITS = {"q": 200, "material_type": 20, "language": 3, "available_at": 40, "years": 9, "age_rating": 2}
MAX_SAVED = 50
MAX_NAME = 100
MAX_LISTED = 50  # records named in one alert; the rest are counted and reached through the search's link


def normalise_query(values: Mapping[str, Any]) -> dict[str, str]:
    """The search's arguments as the catalogue page takes them, cleaned; empty ones left out."""
    out: dict[str, str] = {}
    for name, limit in QUERY_LIMITS.items():
        value = clean(values.get(name, ""), limit)
        if name == "age_rating" and not value.isdigit():
            value = ""
        if name == "years" and value and not all(part.isdigit() for part in value.split("-", 1)):
            value = ""
        if value:
            out[name] = value
    return out


def search_query(query: Mapping[str, Any], **options: Any) -> SearchQuery:
    q = normalise_query(query)
    return SearchQuery(text=q.get("q", ""), material_type=q.get("material_type", ""), language=q.get("language", ""),
                       available_at=q.get("available_at", ""), years=q.get("years", ""),
                       age_rating=int(q["age_rating"]) if "age_rating" in q else None, **options)


def _newest_record_id(session: Session) -> int:
    return int(session.scalar(select(func.max(Record.id))) or 0)


def _check_frequency(frequency: str) -> str:
    if frequency not in FREQUENCIES:
        raise DomainError("catalogue-frequency-invalid", 422)
    return frequency


def save_search(session: Session, *, patron_id: int, name: str, query: Mapping[str, Any], frequency: str,
                now: datetime) -> SavedSearch:
    """Save a search; records in the catalogue now are not new to it (its first alert names later ones)."""
    q = normalise_query(query)
    if not q:
        raise DomainError("catalogue-search-empty", 422)
    _check_frequency(frequency)
    name = clean(name, MAX_NAME) or q.get("q", "")[:MAX_NAME]
    if not name:
        raise DomainError("catalogue-search-name-missing", 422)
    if (session.scalar(select(func.count()).where(SavedSearch.patron_id == patron_id)) or 0) >= MAX_SAVED:
        raise DomainError("catalogue-too-many-searches", 409, limit=MAX_SAVED)
    saved = SavedSearch(patron_id=patron_id, name=name, query=q, frequency=frequency,
                        seen_record_id=_newest_record_id(session), created_at=now, updated_at=now)
    session.add(saved)
    session.flush()
    return saved


def saved_searches(session: Session, patron_id: int) -> list[SavedSearch]:
    return list(session.scalars(select(SavedSearch).where(SavedSearch.patron_id == patron_id)
                                .order_by(desc(SavedSearch.created_at), desc(SavedSearch.id))))


def get_saved(session: Session, patron_id: int, saved_id: int) -> SavedSearch:
    saved = session.get(SavedSearch, saved_id)
    if saved is None or saved.patron_id != patron_id:
        raise DomainError("catalogue-saved-search-not-found", 404)
    return saved


def set_frequency(session: Session, *, patron_id: int, saved_id: int, frequency: str, now: datetime) -> SavedSearch:
    saved = get_saved(session, patron_id, saved_id)
    if saved.frequency == "none" and frequency != "none":
        saved.seen_record_id = _newest_record_id(session)  # alerts start from now, not from the old watermark
    saved.frequency, saved.updated_at = _check_frequency(frequency), now
    session.flush()
    return saved


def delete_saved(session: Session, *, patron_id: int, saved_id: int) -> str:
    saved = get_saved(session, patron_id, saved_id)
    name = saved.name
    session.delete(saved)
    session.flush()
    return name


# Unsubscribe ---------------------------------------------------------------------------------------------------

def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(saved: SavedSearch) -> str:
    return str(_signer().dumps({"s": saved.id, "p": saved.patron_id}))


def saved_by_token(session: Session, token: str) -> SavedSearch:
    try:
        data = _signer().loads(token) if isinstance(token, str) and len(token) <= 500 else None
        saved = session.get(SavedSearch, int(data["s"])) if isinstance(data, dict) else None
    except (BadSignature, KeyError, TypeError, ValueError):
        saved = None
    if saved is None or not isinstance(data, dict) or data.get("p") != saved.patron_id:
        raise DomainError("catalogue-link-invalid", 404)
    return saved


def unsubscribe(session: Session, token: str, *, now: datetime) -> SavedSearch:
    """Stop the alerts of the search the signed link names (the search stays saved); twice is harmless."""
    saved = saved_by_token(session, token)
    if saved.frequency != "none":
        saved.frequency, saved.updated_at = "none", now
        audit.record(session, actor="system:catalogue-alert-link", action="catalogue.alert.unsubscribed", now=now,
                     record_type="catalogue_saved_search", record_id=saved.id)
    return saved


# The job -------------------------------------------------------------------------------------------------------

def period_of(frequency: str, now: datetime, timezone: str = "Europe/Helsinki") -> str:
    local = now.astimezone(ZoneInfo(timezone)).date()
    if frequency == "weekly":
        year, week, _ = local.isocalendar()
        return f"w{year}-W{week:02d}"
    return f"d{local.isoformat()}"


def new_record_ids(session: Session, saved: SavedSearch, upto: int) -> list[int]:
    """Records with an id above the search's watermark (and at most ``upto``) that match it, newest first."""
    q = search_query(saved.query)
    stmt = select(Record.id).where(Record.id > saved.seen_record_id, Record.id <= upto)
    if q.text:
        exact = catalogue_search.identifier_ids(session, q.text)
        if exact:
            stmt = stmt.where(Record.id.in_(exact))
        else:
            terms = catalogue_search.words(q.text)
            if not terms:
                return []
            stmt = stmt.where(Record.id.in_(catalogue_search.backend(session).ids(terms)))
    stmt = stmt.where(*catalogue_search._filters(q))
    return list(session.scalars(stmt.order_by(desc(Record.id)).limit(10_000)))


def outbox_key(saved: SavedSearch, period: str) -> str:
    return f"catalogue:alert:{saved.id}:{period}"


def public_url(path: str) -> str:
    return str(current_app.config.get("BASE_URL") or "").rstrip("/") + path


def search_path(query: Mapping[str, Any]) -> str:
    from urllib.parse import urlencode

    q = normalise_query(query)
    return "/catalogue" + ("?" + urlencode(q) if q else "")


def alert_one(session: Session, saved: SavedSearch, now: datetime, timezone: str) -> str:
    """Handle one due search for the current period: 'sent', 'nothing' (no new records or no address) or
    'done' (the period was handled already)."""
    period = period_of(saved.frequency, now, timezone)
    if session.scalar(select(SearchAlert.id).where(SearchAlert.saved_search_id == saved.id,
                                                   SearchAlert.period == period)):
        return "done"
    upto = _newest_record_id(session)
    ids = new_record_ids(session, saved, upto)
    patron = session.get(Patron, saved.patron_id)
    key = ""
    if ids and patron is not None and patron.active and patron.email:
        listed = session.scalars(select(Record).where(Record.id.in_(ids[:MAX_LISTED]))
                                 .order_by(desc(Record.id))).all()
        items = [{"title": r.title + (f": {r.subtitle}" if r.subtitle else ""),
                  "authors": "; ".join(r.author_names()), "year": r.year or "",
                  "link": public_url(f"/catalogue/records/{r.id}")} for r in listed]
        key = outbox_key(saved, period)
        notify.enqueue(session, key=key, channel="email", recipient=patron.email, template="catalogue_alert",
                       language=patron.language or "fi", now=now,
                       context={"name": saved.name, "items": items, "total": len(ids),
                                "more": max(0, len(ids) - len(items)), "frequency": saved.frequency,
                                "search_link": public_url(search_path(saved.query)),
                                "manage_link": public_url("/catalogue/saved-searches"),
                                "stop_link": public_url(f"/catalogue/saved-searches/stop/{unsubscribe_token(saved)}")})
    session.add(SearchAlert(saved_search_id=saved.id, period=period, outbox_key=key, record_ids=ids[:MAX_LISTED],
                            created_at=now))
    saved.seen_record_id = max(saved.seen_record_id, upto)
    saved.last_alert_at = now
    session.flush()
    return "sent" if key else "nothing"


def due_ids(session: Session, now: datetime, timezone: str) -> list[int]:
    out: list[int] = []
    for frequency in ("daily", "weekly"):
        done = select(SearchAlert.saved_search_id).where(SearchAlert.period == period_of(frequency, now, timezone))
        out += session.scalars(select(SavedSearch.id).where(SavedSearch.frequency == frequency,
                                                            SavedSearch.id.not_in(done)).order_by(SavedSearch.id))
    return out


def send_alerts(sm: sessionmaker[Session], now: datetime, timezone: str = "Europe/Helsinki") -> dict[str, int]:
    """Every due search in a transaction of its own (a crash loses at most the one in hand, and a rerun
    redoes only what was not committed)."""
    counts = {"sent": 0, "nothing": 0, "done": 0}
    with sm() as session:
        ids = due_ids(session, now, timezone)
    for saved_id in ids:
        with sm.begin() as session:
            saved = session.get(SavedSearch, saved_id)
            if saved is None or saved.frequency not in ("daily", "weekly"):
                continue
            counts[alert_one(session, saved, now, timezone)] += 1
    return counts
