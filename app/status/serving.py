"""Answering a public status request: from the cache, freshly rendered, or — when the database cannot be
reached — from the last snapshot, saying how old it is."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime

from flask import Flask, Response, current_app, render_template, request, session
from flask_babel import format_timedelta
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app import clock
from app.errors import problem, wants_json
from app.i18n import current_language
from app.status import labels, rendering, snapshot
from app.status.rendering import Rendered

DATABASE_DOWN = (DBAPIError, PoolTimeout)


def _personal() -> bool:
    """A logged-in visitor or a pending flash message: the page is theirs alone, never cached."""
    return bool(session.get("_user_id") or session.get("_flashes"))


def _database_resting(app: Flask) -> bool:
    """After a failure, answer from the snapshot for a few seconds instead of waiting on the database again."""
    return time.monotonic() < app.extensions.get("kuulo.status.database_down_until", 0.0)


def _database_failed(app: Flask) -> None:
    pause = float(app.config.get("STATUS_DATABASE_RETRY_SECONDS", 10))
    app.extensions["kuulo.status.database_down_until"] = time.monotonic() + pause


def serve(key: str, make: Callable[[str, datetime], Rendered] | None = None) -> Response:
    """``key`` as a response; ``make(language, now)`` renders uncached resources (event pages)."""
    language, now = current_language(), clock.now()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if _database_resting(app):
        return from_snapshot(key, language, now)
    try:
        if make is not None:
            item = make(language, now)
        elif _personal() or (key == rendering.PAGE and request.query_string):
            item = rendering.make(key, language, now)[0]
        else:
            item = rendering.render(key, language, now)
    except DATABASE_DOWN:
        current_app.logger.warning("status: database unreachable, answering %s from the snapshot", key)
        _database_failed(app)
        return from_snapshot(key, language, now)
    return _response(item.body, item.content_type, key)


def _response(body: bytes, content_type: str, key: str) -> Response:
    resp = Response(body, content_type=content_type)
    resp.headers["Vary"] = "Accept-Language, Cookie"
    resp.headers["Cache-Control"] = "public, max-age=30" if not _personal() else "private, no-store"
    if key.startswith("api/v2/"):
        resp.headers["Access-Control-Allow-Origin"] = "*"  # status widgets on other sites read it
    return resp


def from_snapshot(key: str, language: str, now: datetime) -> Response:
    copy = snapshot.read(current_app._get_current_object(), key, language)  # type: ignore[attr-defined]
    if copy is None:
        if wants_json():
            return problem(503, "service-unavailable", headers={"Retry-After": "60"})
        return Response(render_template("errors/error.html", status=503, title=labels.NO_SNAPSHOT), 503)
    age = max(0, int((now - copy.taken_at).total_seconds()))
    body = copy.body
    if copy.content_type.startswith("text/html"):
        notice = render_template("status/_snapshot_notice.html", taken_at=copy.taken_at,
                                 age=format_timedelta(now - copy.taken_at, threshold=1.1))
        body = body.replace(rendering.SNAPSHOT_NOTICE.encode(), notice.encode("utf-8"), 1)
    elif copy.content_type.startswith("application/json"):
        doc = json.loads(body)
        doc["snapshot"] = {"taken_at": snapshot.stamp(copy.taken_at), "age_seconds": age}
        body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    resp = _response(body, copy.content_type, key)
    resp.headers["Age"] = str(age)
    resp.headers["X-Kuulo-Snapshot"] = snapshot.stamp(copy.taken_at) or ""
    resp.headers["Cache-Control"] = "no-cache"
    return resp
