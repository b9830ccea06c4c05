"""Status page for maintenance breaks and outages, and the closure decisions the platform obeys.

Publishes the status (page, Statuspage-compatible JSON, Atom/RSS, iCalendar, email) and answers the
gate (``app.gate``): a window in progress, or an open incident that puts a service under maintenance or
out of order, closes that service's routes with 503 + Retry-After and a link to the announcement.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session


def init_app(app: Flask) -> None:
    from app import gate
    from app.navigation import StaffLink, add_main_link, add_staff_link
    from app.security import csrf
    from app.status import api, editor, labels, manage_api, views
    from app.status.gate_provider import StatusClosures

    for blueprint in (views.bp, api.bp, editor.bp, manage_api.bp):
        app.register_blueprint(blueprint)
    csrf.exempt(manage_api.bp)  # bearer-token JSON (editors' tokens): no cookies, no CSRF
    gate.set_provider(StatusClosures())
    add_main_link("status.page", _l("Service status"))
    app.jinja_env.globals.update(labels.jinja_globals())
    app.jinja_env.filters["status_when"] = labels.when
    add_staff_link(StaffLink("status_editor.dashboard", _l("Status page and maintenance breaks"),
                             ("status_editor",)))


def load_demo(session: Session, now: datetime) -> dict[str, Any]:
    from app.status.demo import load_demo as load

    return load(session, now)
