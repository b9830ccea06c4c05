"""Audiobook lending for reader apps and the browser (SPEC §5).

Ingest (``flask media ingest``), e-loans under the circulation core's policy (preset ``celia``),
the reader-app JSON API (/api/v1), OPDS 2.0 (/opds), Readium audiobook manifests, track streaming
with Range, listening positions, and the web library with an accessible player (/library).
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

SAMPLES = Path(__file__).resolve().parent.parent.parent / "media" / "samples"
LANGUAGE_NAMES = {"fi": "suomi", "sv": "svenska", "en": "English", "se": "davvisámegiella"}


def duration_text(seconds: float) -> str:
    total = int(round(seconds or 0))
    hours, minutes, secs = total // 3600, total % 3600 // 60, total % 60
    if hours:
        return _("%(h)d h %(m)d min", h=hours, m=minutes)
    if minutes:
        return _("%(m)d min %(s)d s", m=minutes, s=secs)
    return _("%(s)d s", s=secs)


def init_app(app: Flask) -> None:
    from app.lending import api, opds, staff, views
    from app.lending.cli import media_cli
    from app.security import csrf

    for blueprint in (views.bp, api.bp, opds.bp, staff.bp):
        app.register_blueprint(blueprint)
    csrf.exempt(api.bp)  # bearer/basic-authenticated JSON: no cookies, no CSRF
    from app.lending.dodp import views as dodp_views

    app.register_blueprint(dodp_views.bp)
    dodp_views.start()  # a changed PIN or password ends the patron's DAISY player sessions
    csrf.exempt(dodp_views.endpoint)  # SOAP from DAISY players: a session cookie, but no forms or browsers
    app.cli.add_command(media_cli)
    from flask_babel import lazy_gettext as _l

    from app.navigation import StaffLink, add_main_link, add_patron_link, add_staff_link

    add_main_link("lending.catalogue", _l("Audiobooks"))
    add_patron_link("lending.loans", _l("My audiobook loans"))
    from app.lending import account_loans

    account_loans.init_app(app)  # the audiobook loans also on circulation's loans page (/account/loans)
    add_staff_link(StaffLink("lending_staff.books", _l("Audiobook catalogue: withdraw or return books"), ("producer",)))
    app.add_template_filter(duration_text, "lending_duration")
    app.add_template_filter(lambda code: LANGUAGE_NAMES.get(code, code), "lending_language")


def load_demo(session: Session, now: datetime) -> dict[str, Any]:
    """Ingest the sample books in media/samples into the media store (unchanged books are skipped),
    and give demo patron 2000000002 one loan with a listening position. The patron 2000000001 gets no
    loans, so the demo catalogue offers them a borrow link for every book."""
    from app import storage
    from app.accounts.models import Patron
    from app.lending import ingest, service
    from app.lending.models import Audiobook

    store = storage.store()
    results = [ingest.ingest(session, store, ingest.read_source(path), now=now, actor="system:demo")
               for path in sorted(SAMPLES.iterdir()) if not path.name.startswith(".")]
    sven = session.scalar(select(Patron).where(Patron.card_number == "2000000002"))
    saga = session.scalar(select(Audiobook).where(Audiobook.title == "En liten saga"))
    if sven is not None and saga is not None:
        loan = service.borrow(session, sven, saga, now=now, policy=service.lending_policy()).loan
        if service.get_position(session, sven.id, saga.id) is None:
            service.save_position(session, sven, saga, track=2, offset=1.5, recorded_at=loan.started_at,
                                  device="demo", now=now)
    return {"audiobooks": len(results),
            "new or updated audiobooks": sum(1 for r in results if r.status != "unchanged")}
