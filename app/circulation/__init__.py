"""Circulation core: loans, renewals, holds, fines, notices and payments.

The modules money, calendar, policy, fines, notices and decisions are pure (stdlib only, no clock,
no I/O); a library's rules come from a policy preset in ``presets/``. ``service`` is the public
entry for other domains; ``api`` the JSON endpoints; ``jobs`` the nightly run.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any


def init_app(app: Any) -> None:
    from app.circulation import api
    from app.security import csrf

    for blueprint in (api.bp, api.patron_bp):
        app.register_blueprint(blueprint)
        csrf.exempt(blueprint)  # bearer-token JSON: no cookies, no CSRF


def load_demo(session: Any, now: datetime) -> dict[str, int]:
    from app.circulation.demo import load_demo as load

    return load(session, now)
