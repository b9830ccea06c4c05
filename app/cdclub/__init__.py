"""CD book clubs: clubs, the computed production calendar, members, production runs and labels [002]."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session


def init_app(app: Flask) -> None:
    from app import audit
    from app.cdclub import account, api, member_views, messages, views  # noqa: F401  (member_views: routes)
    from app.navigation import StaffLink, add_patron_link, add_staff_link
    from app.security import csrf

    for blueprint in (views.bp, account.bp, api.bp):
        app.register_blueprint(blueprint)
    csrf.exempt(api.bp)  # bearer-token JSON: no cookies, no CSRF
    audit.describe(messages.HISTORY)
    add_staff_link(StaffLink("cdclub.dashboard", _l("CD book clubs: production calendar and runs"),
                             ("producer", "librarian")))
    add_patron_link("cdclub_account.my_clubs", _l("My CD book clubs"))
    add_staff_link(StaffLink("cdclub.patron_lookup", _l("CD book clubs: a patron's memberships"),
                             ("librarian", "producer")))
    from app.lending.dodp import service as dodp

    dodp.set_club_books(delivered_books)  # "My club books" in DAISY players' menus


def delivered_books(session: Session, patron_id: int) -> list[int]:
    """The lending books online clubs have put on the patron's shelf, newest delivery first."""
    from sqlalchemy import select

    from app.cdclub.models import OnlineDelivery, RunRecipient, RunTitle

    return list(session.scalars(
        select(RunTitle.book_id).join(OnlineDelivery, OnlineDelivery.run_title_id == RunTitle.id)
        .join(RunRecipient, RunRecipient.id == OnlineDelivery.recipient_id)
        .where(RunRecipient.patron_id == patron_id, OnlineDelivery.loan_id.is_not(None))
        .order_by(OnlineDelivery.created_at.desc(), OnlineDelivery.id.desc())))


def load_demo(session: Session, now: datetime) -> dict[str, Any]:
    from app.cdclub.demo import load

    return load(session, now)
