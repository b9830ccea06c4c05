"""Institutions: the public application, the manual review queue and the institution accounts [002].

Pages: /institutions/apply (public form), /institutions/application/<token> (the applicant's
private page), /staff/institutions/applications (the queue, role "reviewer"), /staff/institutions/figures.
API: /api/v1/institution-applications (public POST; queue actions for reviewer tokens).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session


def init_app(app: Flask) -> None:
    from app import audit
    from app.institutions import api, review_views, texts, views
    from app.navigation import StaffLink, add_staff_link
    from app.security import csrf

    for blueprint in (views.bp, review_views.bp, api.bp):
        app.register_blueprint(blueprint)
    audit.describe(texts.HISTORY)
    csrf.exempt(api.bp)  # JSON only: the public POST carries no cookies, the rest need bearer tokens
    add_staff_link(StaffLink("institutions_review.queue", _l("Institution applications"), ("reviewer",)))
    add_staff_link(StaffLink("institutions_review.figures", _l("Institution applications: figures"),
                             ("reviewer",)))
    add_staff_link(StaffLink("institutions_review.replies_page", _l("Institution applications: canned replies"),
                             ("admin",)))


def load_demo(session: Session, now: datetime) -> dict[str, Any]:
    from app.institutions.demo import load

    return load(session, now)
