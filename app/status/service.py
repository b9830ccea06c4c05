"""The status package's public functions: announce, update, reschedule, cancel and complete planned
windows; open and update incidents. They flush, never commit; the caller owns the transaction.

Each change raises the window's iCalendar SEQUENCE, writes a timeline entry, tells subscribers (and,
for windows already announced to patrons, every patron) through the outbox, and marks the session so
the cached pages are dropped when the transaction commits.
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.errors import DomainError
from app.gate import COMPONENTS
from app.status import notices
from app.status.cache import mark_changed
from app.status.models import (
    COMPONENT_STATUSES,
    IMPACTS,
    INCIDENT_STATES,
    Incident,
    Maintenance,
    StatusUpdate,
)
from app.status.states import ACTIVE_MAINTENANCE, FINAL_MAINTENANCE, maintenance_state
from app.status.texts import clean


def _check_window(scheduled_for: datetime, scheduled_until: datetime, now: datetime) -> None:
    if scheduled_until <= scheduled_for:
        raise DomainError("status-window-order", 422)
    if scheduled_until <= now:
        raise DomainError("status-window-past", 422)


def _check_components(components: list[str]) -> list[str]:
    chosen = [c for c in COMPONENTS if c in set(components)]
    if not chosen or len(chosen) != len(set(components)):
        raise DomainError("status-components", 422)
    return chosen


def _titles(titles: Mapping[str, str | None]) -> dict[str, str]:
    written = clean(titles)
    if not written:
        raise DomainError("status-title-missing", 422)
    return written


def _update(event: Maintenance | Incident, *, status: str, kind: str, bodies: Mapping[str, str | None],
            actor: Any, now: datetime, display_at: datetime | None = None,
            auto_key: str | None = None) -> StatusUpdate:
    entry = StatusUpdate(status=status, kind=kind, bodies=clean(bodies), display_at=display_at or now,
                         created_at=now, created_by=audit.actor_label(actor), auto_key=auto_key,
                         component_states=_states_now(event, status))
    event.updates.append(entry)
    event.updated_at = now
    return entry


def _states_now(event: Maintenance | Incident, status: str) -> dict[str, str]:
    """The event's components and their states as this update is written (kept for the history); an
    incident also remembers every component it has ever affected."""
    if isinstance(event, Maintenance):
        closed = status in ACTIVE_MAINTENANCE
        return {c: "under_maintenance" if closed else "operational" for c in event.components}
    ever = set(event.affected_components or []) | set(event.component_statuses)
    event.affected_components = [c for c in COMPONENTS if c in ever]
    return {c: event.component_statuses.get(c, "operational") for c in event.affected_components}


def new_maintenance(*, titles: Mapping[str, str | None], bodies: Mapping[str, str | None], components: list[str],
                    scheduled_for: datetime, scheduled_until: datetime, reads_open: bool, actor: Any,
                    now: datetime) -> Maintenance:
    """A window not added to any session: what ``create_maintenance`` would save (used for previews)."""
    _check_window(scheduled_for, scheduled_until, now)
    m = Maintenance(uid=f"{uuid.uuid4()}@kuulo", titles=_titles(titles), components=_check_components(components),
                    scheduled_for=scheduled_for, scheduled_until=scheduled_until, reads_open=reads_open,
                    state="scheduled", sequence=0, created_by=audit.actor_label(actor), created_at=now,
                    updated_at=now, updates=[])
    _update(m, status="scheduled", kind="created", bodies=bodies, actor=actor, now=now)
    return m


def create_maintenance(session: Session, **fields: Any) -> Maintenance:
    """Announce a planned window (``fields`` as for ``new_maintenance``); subscribers are told at once."""
    m = new_maintenance(**fields)
    session.add(m)
    session.flush()
    audit.record(session, actor=fields["actor"], action="status.maintenance.created", now=fields["now"],
                 record_type="status_maintenance", record_id=m.id, components=m.components,
                 scheduled_for=m.scheduled_for.isoformat(), scheduled_until=m.scheduled_until.isoformat())
    notices.tell_subscribers(session, m, m.updates[-1], now=fields["now"])
    mark_changed(session)
    return m


def _open_maintenance(m: Maintenance, now: datetime) -> str:
    state = maintenance_state(m, now)
    if state in FINAL_MAINTENANCE:
        raise DomainError("status-already-closed", 409, state=state)
    return state


def add_maintenance_update(session: Session, m: Maintenance, *, bodies: Mapping[str, str | None],
                           verifying: bool = False, actor: Any, now: datetime) -> StatusUpdate:
    """Add a timeline entry; ``verifying`` moves a running window to "verifying"."""
    state = _open_maintenance(m, now)
    if not clean(bodies):
        raise DomainError("status-text-missing", 422)
    if verifying and state == "in_progress":
        m.state = state = "verifying"
    m.sequence += 1
    entry = _update(m, status=state, kind="note", bodies=bodies, actor=actor, now=now)
    session.flush()
    audit.record(session, actor=actor, action="status.maintenance.updated", now=now,
                 record_type="status_maintenance", record_id=m.id, update=entry.id, state=state)
    notices.tell_subscribers(session, m, entry, now=now)
    mark_changed(session)
    return entry


def reschedule_maintenance(session: Session, m: Maintenance, *, scheduled_for: datetime,
                           scheduled_until: datetime, bodies: Mapping[str, str | None], actor: Any,
                           now: datetime) -> StatusUpdate:
    """Move or extend a window: same UID, higher SEQUENCE, a message to everyone already told."""
    _open_maintenance(m, now)
    _check_window(scheduled_for, scheduled_until, now)
    before = (m.scheduled_for, m.scheduled_until)
    m.scheduled_for, m.scheduled_until = scheduled_for, scheduled_until
    m.sequence += 1
    state = maintenance_state(m, now)
    if state == "scheduled":
        m.state = "scheduled"  # moved back into the future: the job announces its (new) start again
    entry = _update(m, status=state, kind="rescheduled", bodies=bodies, actor=actor, now=now)
    session.flush()
    audit.record(session, actor=actor, action="status.maintenance.rescheduled", now=now,
                 record_type="status_maintenance", record_id=m.id, before=[t.isoformat() for t in before],
                 after=[scheduled_for.isoformat(), scheduled_until.isoformat()])
    notices.tell_everyone(session, m, entry, "rescheduled", now=now)
    mark_changed(session)
    return entry


def cancel_maintenance(session: Session, m: Maintenance, *, bodies: Mapping[str, str | None], actor: Any,
                       now: datetime) -> StatusUpdate:
    """Call a window off: the calendar event becomes CANCELLED; everyone already told hears of it."""
    _open_maintenance(m, now)
    m.cancelled_at, m.state = now, "cancelled"
    m.sequence += 1
    entry = _update(m, status="completed", kind="cancelled", bodies=bodies, actor=actor, now=now)
    session.flush()
    audit.record(session, actor=actor, action="status.maintenance.cancelled", now=now,
                 record_type="status_maintenance", record_id=m.id)
    notices.tell_everyone(session, m, entry, "cancelled", now=now)
    mark_changed(session)
    return entry


def complete_maintenance(session: Session, m: Maintenance, *, bodies: Mapping[str, str | None], actor: Any,
                         now: datetime) -> StatusUpdate:
    """End a running window early ("the downtime is over"): the services reopen at once."""
    state = _open_maintenance(m, now)
    if state == "scheduled":
        raise DomainError("status-not-started", 409)
    return _complete(session, m, bodies=bodies, actor=actor, now=now, at=now)


def _complete(session: Session, m: Maintenance, *, bodies: Mapping[str, str | None], actor: Any, now: datetime,
              at: datetime, auto_key: str | None = None) -> StatusUpdate:
    m.completed_at, m.state = at, "completed"
    m.sequence += 1
    entry = _update(m, status="completed", kind="completed", bodies=bodies, actor=actor, now=now,
                    display_at=at, auto_key=auto_key)
    session.flush()
    audit.record(session, actor=actor, action="status.maintenance.completed", now=now,
                 record_type="status_maintenance", record_id=m.id)
    notices.tell_everyone(session, m, entry, "completed", now=now)
    mark_changed(session)
    return entry


def move_maintenances(session: Session, now: datetime) -> int:
    """Write down the states the clock has reached (start, end), each once; returns how many moved."""
    moved = 0
    rows = session.scalars(select(Maintenance).where(Maintenance.state.not_in(FINAL_MAINTENANCE))
                           .order_by(Maintenance.scheduled_for)).all()
    for m in rows:
        state = maintenance_state(m, now)
        if state == "completed":
            _complete(session, m, bodies={}, actor="system:status-job", now=now, at=m.scheduled_until,
                      auto_key=f"m{m.id}:completed")
        elif state in ("in_progress", "verifying") and m.state == "scheduled":
            m.state, m.sequence = state, m.sequence + 1
            entry = _update(m, status=state, kind="started", bodies={}, actor="system:status-job", now=now,
                            display_at=m.scheduled_for, auto_key=f"m{m.id}:started:{m.scheduled_for:%Y%m%dT%H%M}")
            session.flush()
            notices.tell_subscribers(session, m, entry, now=now)
            mark_changed(session)
        else:
            continue
        moved += 1
    session.flush()
    return moved


def _check_incident(impact: str, status: str, component_statuses: Mapping[str, str]) -> dict[str, str]:
    if impact not in IMPACTS or status not in INCIDENT_STATES:
        raise DomainError("status-invalid-state", 422)
    affected = {c: s for c, s in component_statuses.items() if s and s != "operational"}
    if any(c not in COMPONENTS or s not in COMPONENT_STATUSES for c, s in affected.items()):
        raise DomainError("status-components", 422)
    return affected


def new_incident(*, titles: Mapping[str, str | None], bodies: Mapping[str, str | None], impact: str,
                 status: str, component_statuses: Mapping[str, str], reads_open: bool,
                 expected_end: datetime | None, actor: Any, now: datetime) -> Incident:
    """An incident not added to any session (used for previews and by ``create_incident``)."""
    incident = Incident(titles=_titles(titles), impact=impact, status=status, reads_open=reads_open,
                        component_statuses=_check_incident(impact, status, component_statuses),
                        expected_end=expected_end, started_at=now, created_by=audit.actor_label(actor),
                        created_at=now, updated_at=now, updates=[])
    _set_incident_times(incident, status, now)
    _update(incident, status=status, kind="created", bodies=bodies, actor=actor, now=now)
    return incident


def create_incident(session: Session, **fields: Any) -> Incident:
    incident = new_incident(**fields)
    session.add(incident)
    session.flush()
    audit.record(session, actor=fields["actor"], action="status.incident.created", now=fields["now"],
                 record_type="status_incident", record_id=incident.id, impact=incident.impact,
                 components=incident.component_statuses)
    notices.tell_subscribers(session, incident, incident.updates[-1], now=fields["now"])
    mark_changed(session)
    return incident


def _set_incident_times(incident: Incident, status: str, now: datetime) -> None:
    if status == "monitoring" and incident.monitoring_at is None:
        incident.monitoring_at = now
    incident.resolved_at = now if status == "resolved" else None


def update_incident(session: Session, incident: Incident, *, status: str, bodies: Mapping[str, str | None],
                    impact: str, component_statuses: Mapping[str, str], expected_end: datetime | None,
                    actor: Any, now: datetime) -> StatusUpdate:
    """A new timeline entry with the incident's new state; "resolved" reopens its components."""
    if incident.status == "resolved":
        raise DomainError("status-already-closed", 409, state="resolved")
    if not clean(bodies):
        raise DomainError("status-text-missing", 422)
    incident.component_statuses = _check_incident(impact, status, component_statuses)
    incident.status, incident.impact, incident.expected_end = status, impact, expected_end
    _set_incident_times(incident, status, now)
    entry = _update(incident, status=status, kind="note", bodies=bodies, actor=actor, now=now)
    session.flush()
    audit.record(session, actor=actor, action="status.incident.updated", now=now, record_type="status_incident",
                 record_id=incident.id, status=status, impact=impact)
    notices.tell_subscribers(session, incident, entry, now=now)
    mark_changed(session)
    return entry
