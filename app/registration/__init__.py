"""Remote patron registration by librarians of member libraries (SPEC §3): form, search, JSON API."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session


def init_app(app: Flask) -> None:
    from app.navigation import StaffLink, add_patron_link, add_staff_link
    from app.registration import api, views
    from app.security import csrf

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)  # bearer-token JSON: no cookies, no CSRF
    add_staff_link(StaffLink("registration.new_registration", _l("Register a patron"), ("librarian",)))
    add_patron_link("registration.my_data", _l("Download the data held about me"))
    add_staff_link(StaffLink("registration.search", _l("Find a registered patron"), ("librarian",)))


def load_demo(session: Session, now: datetime) -> dict[str, Any]:
    from app.registration.demo import load

    return load(session, now)
