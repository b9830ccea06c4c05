"""Circulation core: loans, renewals, holds, fines, notices and payments.

The modules money, calendar, policy, fines, notices and decisions are pure (stdlib only, no clock,
no I/O); a library's rules come from a policy preset in ``presets/``. ``service`` is the public
entry for other domains; ``api`` the JSON endpoints; ``jobs`` the nightly run.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any


def init_app(app: Any) -> None:
    from app.circulation import (
        api,
        api_desk,  # noqa: F401  # the desk's record and payment routes on api.bp
    )
    from app.security import csrf

    for blueprint in (api.bp, api.patron_bp):
        app.register_blueprint(blueprint)
        csrf.exempt(blueprint)  # bearer-token JSON: no cookies, no CSRF
    # The patron's pages (My account): loans, holds, fines, profile, cards; summary on /account.
    from flask_babel import lazy_gettext as _l

    from app.circulation import account_views
    from app.navigation import add_patron_link

    app.register_blueprint(account_views.bp)
    app.jinja_env.globals["circulation_overview"] = account_views.overview
    for endpoint, label in (("circulation_account.loans", _l("Loans and renewals")),
                            ("circulation_account.holds", _l("Holds")),
                            ("circulation_account.fines", _l("Fines and payments")),
                            ("circulation_account.profile", _l("My details and notices")),
                            ("circulation_account.cards", _l("Library cards")),
                            ("circulation_account.history", _l("Loan history"))):
        add_patron_link(endpoint, label)
    from app.circulation.desk import views as desk_views

    desk_views.init_app(app)  # the librarian's circulation desk (pages)
    from app.circulation.desk import calendars, items, letters, reports  # the desk's back office

    for desk_module in (items, calendars, letters, reports):
        desk_module.init_app(app)
    from app.circulation.sip2 import api as selfservice_api
    from app.circulation.sip2.cli import sip2_cli

    app.register_blueprint(selfservice_api.bp)  # the self-service door (terminal HTTP Basic; no cookies)
    csrf.exempt(selfservice_api.bp)
    app.cli.add_command(sip2_cli)  # `flask sip2 serve`, terminals, self-service hours
    from app.circulation.sip2 import views as selfservice_views

    selfservice_views.init_app(app)  # self-service pages: terminals, the desk's and the patron's views


def load_demo(session: Any, now: datetime) -> dict[str, int]:
    from app.circulation.demo import load_demo as load
    from app.circulation.desk.demo import load_demo as load_desk
    from app.circulation.sip2.demo import load_demo as load_selfservice

    return load(session, now) | load_desk(session, now) | load_selfservice(session, now)
