"""/api/v1/status/…: the management API for status editors' tokens (as Statuspage's manage API), so a
deploy script can announce a break, move it, post updates and end it; incidents likewise.

The same service functions as the editor pages (one rule, one place): every change is audited, told
to subscribers and renews the static copy. Ids are those of /api/v2 ("m12", "i3"); a bare number is
accepted too. Open during every closure (staff run the break).
"""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, current_app, g

from app import clock, db, gate
from app.accounts.auth import api_staff
from app.errors import DomainError, problem
from app.platform.contract import operation
from app.status import queries, service, snapshot
from app.status.editor import ERRORS, ROLE
from app.status.models import Incident, Maintenance
from app.status.notices import event_path, public_url
from app.status.schemas import (
    Closing,
    IncidentCreate,
    IncidentPatch,
    MaintenanceCreate,
    MaintenancePatch,
    ManagedEvent,
    Messages,
)

bp = Blueprint("status_manage_api", __name__, url_prefix="/api/v1/status")
TAGS = ["status: management"]
REFUSED_409 = "Already completed, cancelled or resolved (`status-already-closed`), or not started yet " \
              "(`status-not-started`, for completing a break)"
REFUSED_422 = "Fields (422 validation-error), or the domain's rules: the end before the start or in the past " \
              "(`status-window-order`, `status-window-past`), no name or message (`status-title-missing`, " \
              "`status-text-missing`)"
NOT_FOUND = "No such maintenance or incident"
_ID = re.compile(r"^[mi]?([1-9][0-9]{0,9})$")


def _number(ident: str, prefix: str) -> int | None:
    found = _ID.match(ident)
    if found is None or (ident[0].isalpha() and ident[0] != prefix):
        return None
    value = int(found.group(1))
    return value if value <= 2_147_483_647 else None


def _maintenance(ident: str) -> Maintenance:
    number = _number(ident, "m")
    found = queries.maintenance(db.session(), number) if number else None
    if found is None:
        raise DomainError("not-found", 404)
    return found


def _incident(ident: str) -> Incident:
    number = _number(ident, "i")
    found = queries.incident(db.session(), number) if number else None
    if found is None:
        raise DomainError("not-found", 404)
    return found


def _texts(messages: Messages | None) -> dict[str, str]:
    return {k: v for k, v in (messages.model_dump() if messages else {}).items() if v}


def _answer(event: Maintenance | Incident) -> ManagedEvent:
    now = clock.now()
    if isinstance(event, Maintenance):
        view = queries.maintenance_view(event, "en", now)
        return ManagedEvent(id=f"m{event.id}", status="completed" if view.state == "cancelled" else view.state,
                            cancelled=view.state == "cancelled", name=dict(event.titles),
                            components=dict(view.components), shortlink=public_url(event_path(event)),
                            scheduled_for=event.scheduled_for, scheduled_until=event.scheduled_until,
                            cancelled_at=event.cancelled_at, resolved_at=event.completed_at,
                            impact="maintenance", updates=len(event.updates))
    return ManagedEvent(id=f"i{event.id}", status=event.status, name=dict(event.titles),
                        components=dict(event.component_statuses), shortlink=public_url(event_path(event)),
                        resolved_at=event.resolved_at, impact=event.impact, updates=len(event.updates))


def _saved(event: Maintenance | Incident, status: int = 200) -> Any:
    db.session().commit()
    snapshot.renew_after_change(current_app._get_current_object())  # type: ignore[attr-defined]
    return _answer(event), status


def _refused(err: DomainError) -> Any:
    db.session().rollback()
    if err.code == "not-found":
        raise err
    message = ERRORS.get(err.code)
    return problem(err.status, err.code, str(message) if message else None, **err.params)


# -- maintenances ---------------------------------------------------------------------------------------


@bp.post("/maintenances")
@gate.always_open
@api_staff(ROLE)
@operation("Announce a maintenance break", tags=TAGS, body=MaintenanceCreate,
           description="The listed components close by themselves at `scheduled_for` and reopen at "
                       "`scheduled_until` (or when completed). Subscribers are told at once.",
           responses={201: (ManagedEvent, "Announced: `id` as in /api/v2/scheduled-maintenances.json"),
                      422: REFUSED_422})
def create_maintenance(body: MaintenanceCreate) -> Any:
    try:
        m = service.create_maintenance(
            db.session(), titles=body.name.model_dump(), bodies=_texts(body.message), components=body.components,
            scheduled_for=body.scheduled_for, scheduled_until=body.scheduled_until,
            reads_open=body.read_own_data, actor=g.api_user, now=clock.now())
    except DomainError as err:
        return _refused(err)
    return _saved(m, 201)


@bp.patch("/maintenances/<ident>")
@gate.always_open
@api_staff(ROLE)
@operation("Reschedule a maintenance break or post an update", tags=TAGS, body=MaintenancePatch,
           description="With `scheduled_for` and `scheduled_until`: moves or extends the break (same calendar "
                       "event, everyone already told hears of it; `message` goes with it). With only "
                       "`message`: a timeline update (`verifying`: the work is done and being verified).",
           responses={200: (ManagedEvent, "Changed"), 404: NOT_FOUND, 409: REFUSED_409, 422: REFUSED_422})
def change_maintenance(ident: str, body: MaintenancePatch) -> Any:
    m = _maintenance(ident)
    now = clock.now()
    try:
        if body.scheduled_for is not None or body.scheduled_until is not None:
            service.reschedule_maintenance(db.session(), m, scheduled_for=body.scheduled_for or m.scheduled_for,
                                           scheduled_until=body.scheduled_until or m.scheduled_until,
                                           bodies=_texts(body.message), actor=g.api_user, now=now)
        else:
            service.add_maintenance_update(db.session(), m, bodies=_texts(body.message), verifying=body.verifying,
                                           actor=g.api_user, now=now)
    except DomainError as err:
        return _refused(err)
    return _saved(m)


@bp.post("/maintenances/<ident>/complete")
@gate.always_open
@api_staff(ROLE)
@operation("Complete a running maintenance break now: its services reopen at once", tags=TAGS, body=Closing,
           body_required=False, responses={200: (ManagedEvent, "Completed"), 404: NOT_FOUND, 409: REFUSED_409})
def complete_maintenance(ident: str, body: Closing) -> Any:
    m = _maintenance(ident)
    try:
        service.complete_maintenance(db.session(), m, bodies=_texts(body.message), actor=g.api_user,
                                     now=clock.now())
    except DomainError as err:
        return _refused(err)
    return _saved(m)


@bp.post("/maintenances/<ident>/cancel")
@gate.always_open
@api_staff(ROLE)
@operation("Cancel a maintenance break", tags=TAGS, body=Closing, body_required=False,
           description="Statuspage has no cancelled state: the break then reads `completed` with `cancelled_at`, "
                       "and its last update says it was cancelled.",
           responses={200: (ManagedEvent, "Cancelled"), 404: NOT_FOUND, 409: REFUSED_409})
def cancel_maintenance(ident: str, body: Closing) -> Any:
    m = _maintenance(ident)
    try:
        service.cancel_maintenance(db.session(), m, bodies=_texts(body.message), actor=g.api_user, now=clock.now())
    except DomainError as err:
        return _refused(err)
    return _saved(m)


# -- incidents ------------------------------------------------------------------------------------------


@bp.post("/incidents")
@gate.always_open
@api_staff(ROLE)
@operation("Report an incident (a disruption)", tags=TAGS, body=IncidentCreate,
           description="Components set to under_maintenance or major_outage close until the incident is resolved.",
           responses={201: (ManagedEvent, "Published: `id` as in /api/v2/incidents.json"), 422: REFUSED_422})
def create_incident(body: IncidentCreate) -> Any:
    try:
        incident = service.create_incident(
            db.session(), titles=body.name.model_dump(), bodies=_texts(body.message), impact=body.impact,
            status=body.status, component_statuses=dict(body.components), reads_open=body.read_own_data,
            expected_end=body.expected_end, actor=g.api_user, now=clock.now())
    except DomainError as err:
        return _refused(err)
    return _saved(incident, 201)


@bp.patch("/incidents/<ident>")
@gate.always_open
@api_staff(ROLE)
@operation("Post an incident update: a new state, impact or component states, with a message", tags=TAGS,
           body=IncidentPatch, description="Fields left out keep their value. `status: resolved` reopens every "
                                            "component at once.",
           responses={200: (ManagedEvent, "Updated"), 404: NOT_FOUND, 409: REFUSED_409, 422: REFUSED_422})
def change_incident(ident: str, body: IncidentPatch) -> Any:
    incident = _incident(ident)
    return _incident_update(incident, body.message, status=body.status or incident.status,
                            impact=body.impact or incident.impact,
                            components={**incident.component_statuses, **(body.components or {})},
                            expected_end=body.expected_end or incident.expected_end)


@bp.post("/incidents/<ident>/resolve")
@gate.always_open
@api_staff(ROLE)
@operation("Resolve an incident: every component it affects reopens", tags=TAGS, body=Closing,
           body_required=False, responses={200: (ManagedEvent, "Resolved"), 404: NOT_FOUND, 409: REFUSED_409})
def resolve_incident(ident: str, body: Closing) -> Any:
    incident = _incident(ident)
    message = body.message if body.message and _texts(body.message) else Messages(
        fi="Häiriö on korjattu.", sv="Störningen är åtgärdad.", en="The disruption is resolved.")
    return _incident_update(incident, message, status="resolved", impact=incident.impact,
                            components={c: "operational" for c in incident.component_statuses},
                            expected_end=None)


def _incident_update(incident: Incident, message: Messages, *, status: str, impact: str,
                     components: dict[str, str], expected_end: Any) -> Any:
    try:
        service.update_incident(db.session(), incident, status=status, bodies=_texts(message), impact=impact,
                                component_statuses=components, expected_end=expected_end, actor=g.api_user,
                                now=clock.now())
    except DomainError as err:
        return _refused(err)
    return _saved(incident)

