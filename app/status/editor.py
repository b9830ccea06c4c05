"""Editor pages for the status_editor role: announce, update, reschedule, cancel and complete planned
windows, open and update incidents; every form can be previewed before it is published.

Open during every closure (staff run the break). After each change the static snapshot is renewed.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import clock, db, gate
from app.accounts.auth import staff_required
from app.errors import DomainError
from app.i18n import current_language
from app.status import forms, queries, service, snapshot
from app.status.models import Incident, Maintenance
from app.status.texts import LANGUAGES, pick

bp = Blueprint("status_editor", __name__, url_prefix="/staff/status")
ROLE = "status_editor"
ERRORS = {
    "status-already-closed": _l("This has already ended and can no longer be changed."),
    "status-not-started": _l("The break has not started yet: cancel or reschedule it instead."),
    "status-window-order": _l("The end must be after the start."),
    "status-window-past": _l("The end must be in the future."),
    "status-components": _l("Choose at least one service."),
    "status-title-missing": _l("Write the title in at least one language."),
    "status-text-missing": _l("Write the update in at least one language."),
}


def _saved(message: str) -> None:
    db.session().commit()
    flash(message, "success")
    snapshot.renew_after_change(current_app._get_current_object())  # type: ignore[attr-defined]


def _refused(err: DomainError) -> None:
    db.session().rollback()
    flash(str(ERRORS.get(err.code, _("The change could not be saved."))), "error")


def _previews(event_for_language: Any) -> list[tuple[str, Any]]:
    return [(lang, event_for_language(lang)) for lang in LANGUAGES]


@bp.get("")
@gate.always_open
@staff_required(ROLE)
def dashboard() -> Any:
    view = queries.status_view(db.session(), clock.now(), current_language())
    return render_template("status/editor/dashboard.html", view=view)


def _maintenance_fields(form: forms.MaintenanceForm) -> dict[str, Any]:
    return dict(titles=form.texts("title"), bodies=form.texts("body"), components=form.components.data,
                scheduled_for=forms.to_utc(form.starts.data), scheduled_until=forms.to_utc(form.ends.data),
                reads_open=form.reads_open.data, actor=current_user, now=clock.now())


@bp.route("/maintenance/new", methods=["GET", "POST"])
@gate.always_open
@staff_required(ROLE)
def new_maintenance() -> Any:
    form, previews = forms.MaintenanceForm(), None
    if form.validate_on_submit():
        fields = _maintenance_fields(form)
        try:
            if not request.form.get("preview"):
                m = service.create_maintenance(db.session(), **fields)
                _saved(_("The maintenance break is announced."))
                return redirect(url_for(".maintenance", maintenance_id=m.id))
            draft = service.new_maintenance(**fields)
            previews = _previews(lambda lang: queries.maintenance_view(draft, lang, fields["now"]))
        except DomainError as err:
            _refused(err)
    return render_template("status/editor/maintenance_new.html", form=form, previews=previews)


def _maintenance_or_404(maintenance_id: int) -> Maintenance:
    return queries.maintenance(db.session(), maintenance_id) or abort(404)


def _manage_maintenance(m: Maintenance, status: int = 200, previews: Any = None, **given: Any) -> Any:
    now = clock.now()
    page_forms = {"update": forms.MaintenanceUpdateForm(prefix="update"),
                  "reschedule": forms.RescheduleForm(prefix="reschedule", starts=forms.to_local(m.scheduled_for),
                                                     ends=forms.to_local(m.scheduled_until)),
                  "cancel": forms.CloseForm(prefix="cancel"), "complete": forms.CloseForm(prefix="complete")}
    page_forms.update(given)
    event = queries.maintenance_view(m, current_language(), now)
    return render_template("status/editor/maintenance.html", event=event, forms=page_forms, previews=previews,
                           now=now), status


@bp.get("/maintenance/<int:maintenance_id>")
@gate.always_open
@staff_required(ROLE)
def maintenance(maintenance_id: int) -> Any:
    return _manage_maintenance(_maintenance_or_404(maintenance_id))


@bp.post("/maintenance/<int:maintenance_id>/<action>")
@gate.always_open
@staff_required(ROLE)
def change_maintenance(maintenance_id: int, action: str) -> Any:
    m = _maintenance_or_404(maintenance_id)
    form_class = {"update": forms.MaintenanceUpdateForm, "reschedule": forms.RescheduleForm,
                  "cancel": forms.CloseForm, "complete": forms.CloseForm}.get(action) or abort(404)
    form = form_class(prefix=action)
    if not form.validate_on_submit():
        return _manage_maintenance(m, 422, **{action: form})
    if request.form.get("preview"):
        return _manage_maintenance(m, previews=_previews(lambda lang: pick(form.texts("body"), lang)), **{action: form})
    try:
        _apply(m, action, form)
    except DomainError as err:
        _refused(err)
        return redirect(url_for(".maintenance", maintenance_id=m.id))
    _saved(str(DONE[action]))
    return redirect(url_for(".maintenance", maintenance_id=m.id))


DONE = {"update": _l("The update is published."), "reschedule": _l("The break is rescheduled."),
        "cancel": _l("The break is cancelled."), "complete": _l("The break is completed: the services are open.")}


def _apply(m: Maintenance, action: str, form: Any) -> None:
    common = dict(bodies=form.texts("body"), actor=current_user, now=clock.now())
    if action == "update":
        service.add_maintenance_update(db.session(), m, verifying=form.verifying.data, **common)
    elif action == "reschedule":
        service.reschedule_maintenance(db.session(), m, scheduled_for=forms.to_utc(form.starts.data),
                                       scheduled_until=forms.to_utc(form.ends.data), **common)
    elif action == "cancel":
        service.cancel_maintenance(db.session(), m, **common)
    else:
        service.complete_maintenance(db.session(), m, **common)


def _incident_fields(form: forms.IncidentForm) -> dict[str, Any]:
    return dict(titles=form.texts("title"), bodies=form.texts("body"), impact=form.impact.data,
                status=form.status.data, component_statuses=form.component_statuses(),
                reads_open=form.reads_open.data, expected_end=forms.to_utc(form.expected_end.data),
                actor=current_user, now=clock.now())


@bp.route("/incidents/new", methods=["GET", "POST"])
@gate.always_open
@staff_required(ROLE)
def new_incident() -> Any:
    form, previews = forms.IncidentForm(), None
    form.label_components(current_language())
    if form.validate_on_submit():
        fields = _incident_fields(form)
        try:
            if not request.form.get("preview"):
                incident = service.create_incident(db.session(), **fields)
                _saved(_("The incident is published."))
                return redirect(url_for(".incident", incident_id=incident.id))
            draft = service.new_incident(**fields)
            previews = _previews(lambda lang: queries.incident_view(draft, lang))
        except DomainError as err:
            _refused(err)
    return render_template("status/editor/incident_new.html", form=form, previews=previews)


def _manage_incident(incident: Incident, form: forms.IncidentUpdateForm | None = None, status: int = 200,
                     previews: Any = None) -> Any:
    if form is None:
        form = forms.IncidentUpdateForm(prefix="update", status=incident.status, impact=incident.impact,
                                        expected_end=forms.to_local(incident.expected_end),
                                        **{f"component_{c}": s for c, s in incident.component_statuses.items()})
    form.label_components(current_language())
    event = queries.incident_view(incident, current_language())
    return render_template("status/editor/incident.html", event=event, form=form, previews=previews), status


@bp.get("/incidents/<int:incident_id>")
@gate.always_open
@staff_required(ROLE)
def incident(incident_id: int) -> Any:
    return _manage_incident(queries.incident(db.session(), incident_id) or abort(404))


@bp.post("/incidents/<int:incident_id>/update")
@gate.always_open
@staff_required(ROLE)
def update_incident(incident_id: int) -> Any:
    found = queries.incident(db.session(), incident_id) or abort(404)
    form = forms.IncidentUpdateForm(prefix="update")
    if not form.validate_on_submit():
        return _manage_incident(found, form, 422)
    if request.form.get("preview"):
        return _manage_incident(found, form, previews=_previews(lambda lang: pick(form.texts("body"), lang)))
    try:
        service.update_incident(db.session(), found, status=form.status.data, bodies=form.texts("body"),
                                impact=form.impact.data, component_statuses=form.component_statuses(),
                                expected_end=forms.to_utc(form.expected_end.data), actor=current_user,
                                now=clock.now())
    except DomainError as err:
        _refused(err)
        return redirect(url_for(".incident", incident_id=found.id))
    _saved(_("The update is published."))
    return redirect(url_for(".incident", incident_id=found.id))
