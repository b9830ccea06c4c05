"""Public status pages: /status, each event's page, the feeds, and email subscriptions.

Every route here stays open during any closure (``@gate.always_open``): people need the status page
most when the rest is closed, and it must answer even when the database does not.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from app import clock, db, gate
from app.i18n import current_language
from app.status import forms, queries, rendering, subscriptions
from app.status.rendering import Rendered
from app.status.serving import serve

bp = Blueprint("status", __name__)


@bp.get("/status")
@gate.always_open
def page() -> Any:
    return serve(rendering.PAGE)


@bp.get("/status/history.atom")
@gate.always_open
def atom() -> Any:
    return serve("status/history.atom")


@bp.get("/status/history.rss")
@gate.always_open
def rss() -> Any:
    return serve("status/history.rss")


@bp.get("/status/maintenance.ics")
@gate.always_open
def ics() -> Any:
    return serve("status/maintenance.ics")


def _maintenance_page(maintenance_id: int) -> Any:
    def make(language: str, now: datetime) -> Rendered:
        m = queries.maintenance(db.session(), maintenance_id)
        if m is None:
            abort(404)
        return rendering.detail(queries.maintenance_view(m, language, now), now)

    return make


@bp.get("/status/maintenance/<int:maintenance_id>")
@gate.always_open
def maintenance(maintenance_id: int) -> Any:
    return serve(rendering.detail_key("maintenance", maintenance_id), _maintenance_page(maintenance_id))


@bp.get("/status/incidents/<int:incident_id>")
@gate.always_open
def incident(incident_id: int) -> Any:
    def make(language: str, now: datetime) -> Rendered:
        found = queries.incident(db.session(), incident_id)
        if found is None:
            abort(404)
        return rendering.detail(queries.incident_view(found, language), now)

    return serve(rendering.detail_key("incident", incident_id), make)


@bp.route("/status/subscribe", methods=["GET", "POST"])
@gate.always_open
def subscribe() -> Any:
    form = forms.SubscribeForm(language=current_language())
    if form.validate_on_submit():
        subscriptions.request_subscription(db.session(), email=form.email.data, language=form.language.data,
                                           components=form.components.data or [], now=clock.now())
        db.session().commit()
        return render_template("status/subscribe_sent.html", email=form.email.data)
    return render_template("status/subscribe.html", form=form)


@bp.route("/status/subscribe/confirm/<token>", methods=["GET", "POST"])
@gate.always_open
def confirm(token: str) -> Any:
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        sub = subscriptions.confirm_subscription(db.session(), token, now=clock.now())
        db.session().commit()
        flash(_("Your subscription is confirmed. Messages go to %(email)s.", email=sub.email), "success")
        return redirect(url_for("status.page"))
    return render_template("status/link_action.html", form=form, action="confirm")


@bp.route("/status/unsubscribe/<token>", methods=["GET", "POST"])
@gate.always_open
def unsubscribe(token: str) -> Any:
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        subscriptions.unsubscribe(db.session(), token, now=clock.now())
        db.session().commit()
        flash(_("You have unsubscribed. No more status messages will be sent to you."), "success")
        return redirect(url_for("status.page"))
    return render_template("status/link_action.html", form=form, action="unsubscribe")


@bp.route("/status/notices/stop/<token>", methods=["GET", "POST"])
@gate.always_open
def stop_notices(token: str) -> Any:
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        subscriptions.stop_notices(db.session(), token, now=clock.now())
        db.session().commit()
        flash(_("You will get no more advance notices of maintenance breaks by email."), "success")
        return redirect(url_for("status.page"))
    return render_template("status/link_action.html", form=form, action="stop")
