"""Renderings of the public status resources, cached per language until something changes.

One function, ``render(key, language, now)``, makes every public resource — the page, the /api/v2
JSON documents, the feeds — so the live routes, the in-memory cache and the static snapshot all
serve the very same bytes. Keys are the snapshot's paths ("status/index.html", "api/v2/summary.json").
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, render_template

from app import db
from app.status import cache, feeds, queries, statuspage
from app.status.queries import EventView, StatusView

PAGE = "status/index.html"
DETAIL_TEMPLATE = "status/event.html"
FEEDS = {"status/history.atom": ("application/atom+xml; charset=utf-8", feeds.atom),
         "status/history.rss": ("application/rss+xml; charset=utf-8", feeds.rss),
         "status/maintenance.ics": ("text/calendar; charset=utf-8", feeds.ics)}
JSON_TYPE = "application/json"
SNAPSHOT_NOTICE = "<!--kuulo:snapshot-notice-->"


@dataclass(frozen=True)
class Rendered:
    body: bytes
    content_type: str


def api_key(endpoint: str) -> str:
    return f"api/v2/{endpoint}.json"


PUBLIC_KEYS = [PAGE, *FEEDS, *(api_key(e) for e in statuspage.ENDPOINTS)]


def detail_key(kind: str, ident: int) -> str:
    return f"status/{kind}/{ident}.html"


def detail(event: EventView, now: datetime) -> Rendered:
    body = render_template(DETAIL_TEMPLATE, event=event, now=now, snapshot_notice=SNAPSHOT_NOTICE)
    return Rendered(body.encode("utf-8"), "text/html; charset=utf-8")


def recent_events(language: str, now: datetime) -> list[EventView]:
    maintenances, incidents = queries.recent(db.session())
    events = [queries.maintenance_view(m, language, now) for m in maintenances]
    events += [queries.incident_view(i, language) for i in incidents]
    return sorted(events, key=lambda e: e.starts_at, reverse=True)


def make(key: str, language: str, now: datetime, view: StatusView | None = None,
         recent: list[EventView] | None = None) -> tuple[Rendered, datetime | None]:
    """Render ``key`` now (reads the database unless given the view); returns it and when it goes stale."""
    view = view or queries.status_view(db.session(), now, language)
    if key == PAGE:
        body = render_template("status/status.html", view=view, snapshot_notice=SNAPSHOT_NOTICE)
        return Rendered(body.encode("utf-8"), "text/html; charset=utf-8"), view.valid_until
    if key in FEEDS:
        content_type, make_feed = FEEDS[key]
        return Rendered(make_feed(view), content_type), view.valid_until
    endpoint = key.removeprefix("api/v2/").removesuffix(".json")
    if endpoint in ("incidents", "scheduled-maintenances") and recent is None:
        recent = recent_events(language, now)
    doc = statuspage.document(endpoint, view, recent)
    return Rendered(json.dumps(doc, ensure_ascii=False).encode("utf-8"), JSON_TYPE), view.valid_until


def render(key: str, language: str, now: datetime) -> Rendered:
    """The cached rendering of ``key`` (see ``cache.cached`` for when it is made again)."""
    return cache.cached(current_app._get_current_object(), (key, language), now,  # type: ignore[attr-defined]
                        lambda: make(key, language, now))
