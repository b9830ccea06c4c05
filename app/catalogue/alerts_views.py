"""Saved searches' pages: /catalogue/saved-searches (patron login: list, run, change the alerts, delete),
saving the search in hand (/catalogue/saved-searches/new?q=…), and the alert's stop link
/catalogue/saved-searches/stop/<signed token> (no login). Routes join the catalogue blueprint."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField

from app import clock, db, gate
from app.accounts.auth import patron_required
from app.catalogue import alerts
from app.catalogue.lists_views import ConfirmForm, _patron_id
from app.catalogue.views import bp, describe
from app.errors import DomainError

FREQUENCY_LABELS: dict[str, Any] = {"none": _l("No alerts"), "daily": _l("Daily: email me new titles every day"),
                                    "weekly": _l("Weekly: email me new titles once a week")}
MESSAGES: dict[str, Any] = {
    "catalogue-search-empty": _l("There is nothing to save: search for something first."),
    "catalogue-search-name-missing": _l("Give the search a name."),
    "catalogue-too-many-searches": _l("You have as many saved searches as one can have (%(limit)s). Delete one "
                                      "first."),
    "catalogue-frequency-invalid": _l("Choose how often to get alerts from the list."),
    "catalogue-saved-search-not-found": _l("That saved search was not found."),
}


def _message(err: DomainError) -> str:
    text = MESSAGES.get(err.code)
    return str(text) % err.params if text is not None and err.params else str(text or err.code)


def _choices() -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in FREQUENCY_LABELS.items()]


class SaveSearchForm(FlaskForm):
    name = StringField(_l("Name of the search"))
    frequency = RadioField(_l("Alerts of new titles by email"), choices=[], validate_choice=False)
    q = HiddenField()
    material_type = HiddenField()
    language = HiddenField()
    available_at = HiddenField()
    years = HiddenField()
    age_rating = HiddenField()


class FrequencyForm(FlaskForm):
    frequency = RadioField(_l("Alerts"), choices=[], validate_choice=False)


def _short_labels() -> dict[str, str]:
    return {"none": _("No alerts"), "daily": _("Daily"), "weekly": _("Weekly")}


@bp.get("/saved-searches")
@patron_required
def saved_searches() -> Any:
    return _index()


def _index(status: int = 200) -> Any:
    mine = alerts.saved_searches(db.session(), _patron_id())
    forms = {}
    for saved in mine:
        form = FrequencyForm(formdata=None, prefix=f"s{saved.id}", frequency=saved.frequency)
        form.frequency.choices = list(_short_labels().items())
        forms[saved.id] = form
    return render_template("catalogue/saved_searches.html", searches=mine, forms=forms, describe=describe,
                           search_path=alerts.search_path, labels=_short_labels(),
                           confirm_form=ConfirmForm()), status


@bp.route("/saved-searches/new", methods=["GET", "POST"])
@patron_required
def save_search() -> Any:
    source = request.form if request.method == "POST" else request.args
    query = alerts.normalise_query(source)
    form = SaveSearchForm() if request.method == "POST" else \
        SaveSearchForm(formdata=None, name=query.get("q", "")[:alerts.MAX_NAME], frequency="weekly", **query)
    form.frequency.choices = _choices()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("The form had expired. Please send it again."), "error")
            status = 400
        else:
            s = db.session()
            try:
                saved = alerts.save_search(s, patron_id=_patron_id(), name=form.name.data or "", query=query,
                                           frequency=form.frequency.data or "", now=clock.now())
            except DomainError as err:
                s.rollback()
                flash(_message(err), "error")
                status = err.status
            else:
                s.commit()
                if saved.frequency == "none":
                    flash(_("The search “%(name)s” was saved.", name=saved.name), "success")
                else:
                    flash(_("The search “%(name)s” was saved. New titles will come to your email %(how)s.",
                            name=saved.name, how=_("daily") if saved.frequency == "daily" else _("weekly")),
                          "success")
                return redirect(url_for("catalogue.saved_searches"), 303)
    return render_template("catalogue/save_search.html", form=form, query=query, described=describe(query),
                           search_path=alerts.search_path(query)), status


@bp.post("/saved-searches/<int:saved_id>/frequency")
@patron_required
def change_frequency(saved_id: int) -> Any:
    s = db.session()
    alerts.get_saved(s, _patron_id(), saved_id)
    form = FrequencyForm(prefix=f"s{saved_id}")
    if not form.validate_on_submit():
        flash(_("The form had expired. Please send it again."), "error")
        return _index(400)
    try:
        saved = alerts.set_frequency(s, patron_id=_patron_id(), saved_id=saved_id, frequency=form.frequency.data or "",
                                     now=clock.now())
    except DomainError as err:
        s.rollback()
        flash(_message(err), "error")
        return _index(err.status)
    s.commit()
    flash(_("Alerts for “%(name)s”: %(frequency)s.", name=saved.name, frequency=_short_labels()[saved.frequency]),
          "success")
    return redirect(url_for("catalogue.saved_searches") + f"#search-{saved_id}", 303)


@bp.post("/saved-searches/<int:saved_id>/delete")
@patron_required
def delete_saved_search(saved_id: int) -> Any:
    s = db.session()
    alerts.get_saved(s, _patron_id(), saved_id)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form had expired. Please send it again."), "error")
        return _index(400)
    name = alerts.delete_saved(s, patron_id=_patron_id(), saved_id=saved_id)
    s.commit()
    flash(_("The saved search “%(name)s” was deleted.", name=name), "success")
    return redirect(url_for("catalogue.saved_searches"), 303)


@bp.route("/saved-searches/stop/<token>", methods=["GET", "POST"])
@gate.always_open
def stop_alerts(token: str) -> Any:
    """The alert email's link: works without logging in; asks first (mail scanners follow links)."""
    s = db.session()
    saved = alerts.saved_by_token(s, token)
    form = ConfirmForm()
    done = False
    if form.validate_on_submit():
        alerts.unsubscribe(s, token, now=clock.now())
        s.commit()
        done = True
    elif request.method == "POST":
        flash(_("The form had expired. Please send it again."), "error")
    return render_template("catalogue/stop_alerts.html", saved=saved, form=form, done=done,
                           described=describe(saved.query)), 400 if request.method == "POST" and not done else 200


