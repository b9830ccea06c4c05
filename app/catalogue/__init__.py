"""The physical library's catalogue: MARC 21 records (``flask catalogue import``), full-text and identifier
search with facets (SQLite FTS5 / PostgreSQL tsvector), availability by branch from circulation's copies,
holds from the record page, and lending's audiobooks as e-audiobook records in the same search."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session


def init_app(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from app.catalogue import api, service, views
    from app.catalogue.cli import catalogue_cli
    from app.circulation import api as circulation_api
    from app.navigation import add_main_link, add_patron_link
    from app.security import csrf

    for blueprint in (views.bp, api.bp):
        app.register_blueprint(blueprint)
    csrf.exempt(api.bp)  # read-only JSON
    app.cli.add_command(catalogue_cli)
    add_main_link("catalogue.search", _l("Catalogue"))
    add_patron_link("catalogue.lists_index", _l("Favourites lists"))  # Tampere's My account tabs [003]
    add_patron_link("catalogue.saved_searches", _l("Saved searches"))
    circulation_api.add_record_resolver(service.record_key_of)


def load_demo(session: Session, now: datetime) -> dict[str, Any]:
    from app.catalogue.demo import load

    return load(session, now)
