"""Static copies of the public status resources in the media store, for when the database is down.

``publish`` renders the page (each language), the /api/v2 JSON and the feeds, plus the pages of the
open and upcoming events, under ``status-snapshot/<lang>/<path>`` — and the default language once
more under ``status-snapshot/<path>`` — so a plain web server or a CDN in front of the bucket can
serve them. ``manifest.json`` says when the copy was made. The app answers from here when its
database cannot be reached (``read``), saying how old the copy is.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from flask import Flask

from app import clock, db, storage
from app.status import queries, rendering
from app.status.statuspage import stamp

PREFIX = "status-snapshot"
MANIFEST = f"{PREFIX}/manifest.json"


@dataclass(frozen=True)
class Snapshot:
    body: bytes
    content_type: str
    taken_at: datetime


def _details(view: queries.StatusView, now: datetime) -> dict[str, rendering.Rendered]:
    """The pages of every open or upcoming event (their links are on the page and in closure notices)."""
    return {rendering.detail_key(e.kind, e.id): rendering.detail(e, now) for e in view.active + view.upcoming}


def _render_language(app: Flask, language: str) -> tuple[datetime, dict[str, rendering.Rendered]]:
    with app.app_context():  # a fresh context: nobody logged in, this language only
        now = clock.now()
        with app.test_request_context("/status", headers={"Accept-Language": language}):
            view = queries.status_view(db.session(), now, language)
            recent = rendering.recent_events(language, now)
        rendered = {}
        for key in rendering.PUBLIC_KEYS:
            path = "/" + key.removesuffix("/index.html")
            with app.test_request_context(path, headers={"Accept-Language": language}):
                rendered[key] = rendering.make(key, language, now, view, recent)[0]
        with app.test_request_context("/status", headers={"Accept-Language": language}):
            rendered |= _details(view, now)
    return now, rendered


def publish(app: Flask) -> int:
    """Render and store every public resource in every language; returns how many files were written."""
    store = storage.store(app)
    files: dict[str, str] = {}
    languages = list(app.config["LANGUAGES"])
    taken_at = None
    for language in languages:
        now, rendered = _render_language(app, language)
        taken_at = taken_at or now
        for key, item in rendered.items():
            targets = [f"{PREFIX}/{language}/{key}"] + ([f"{PREFIX}/{key}"] if language == languages[0] else [])
            for target in targets:
                store.put_bytes(target, item.body, item.content_type)
                files[target.removeprefix(PREFIX + "/")] = item.content_type
    manifest = {"taken_at": stamp(taken_at), "languages": languages, "default_language": languages[0],
                "files": files}
    store.put_bytes(MANIFEST, json.dumps(manifest, indent=1).encode(), "application/json")
    return len(files)


def read(app: Flask, key: str, language: str) -> Snapshot | None:
    """The stored copy of ``key`` in ``language`` (or the default language), or None."""
    store = storage.store(app)
    try:
        manifest = json.loads(store.get_bytes(MANIFEST))
    except Exception:  # no snapshot yet: a missing file, or an S3 error (botocore)
        return None
    taken_at = datetime.fromisoformat(manifest["taken_at"].replace("Z", "+00:00"))
    for candidate in (f"{language}/{key}", key):
        content_type = manifest.get("files", {}).get(candidate)
        if content_type is None:
            continue
        try:
            return Snapshot(store.get_bytes(f"{PREFIX}/{candidate}"), content_type, taken_at)
        except Exception:  # missing object: try the next candidate
            continue
    return None


def renew_after_change(app: Flask) -> None:
    """After an editor's change is committed (page or API): renew the static copy, unless switched off.
    A failure is only logged: the live page is right, and the job renews the copy within minutes."""
    if not app.config.get("STATUS_SNAPSHOT_ON_CHANGE", True):
        return
    try:
        publish(app)
    except Exception:
        app.logger.exception("status: could not renew the snapshot")
