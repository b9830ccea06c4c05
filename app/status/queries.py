"""The status page as a reader sees it at ``now``, in one language: a plain read model.

Built from the windows and incidents of the last 90 days plus every one still open; the states are
computed from the clock here (``states.py``), so the page is right even when the job runs late.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from app.gate import COMPONENTS
from app.status import states
from app.status.models import Incident, Maintenance, StatusUpdate
from app.status.texts import LocalText, component_name, pick
from app.status.uptime import ComponentUptime, uptime

HISTORY_DAYS = 90
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # when Kuulo's components were first listed


@dataclass(frozen=True)
class UpdateView:
    id: int
    status: str
    kind: str
    body: LocalText
    display_at: datetime
    created_at: datetime
    components: dict[str, str] = field(default_factory=dict)  # the components' states when it was written

    @property
    def shown_status(self) -> str:
        """The state to say for this entry: a cancelled break's last entry says "cancelled" (its
        Statuspage status stays "completed")."""
        return "cancelled" if self.kind == "cancelled" else self.status


@dataclass(frozen=True)
class EventView:
    kind: str  # "maintenance" | "incident"
    id: int
    title: LocalText
    state: str  # computed at ``now``: scheduled/in_progress/verifying/completed/cancelled or incident states
    impact: str
    components: dict[str, str]  # code → status while the event is active
    reads_open: bool
    starts_at: datetime  # scheduled_for / started_at
    ends_at: datetime | None  # (expected) end
    created_at: datetime
    updated_at: datetime
    monitoring_at: datetime | None
    resolved_at: datetime | None  # completed_at / cancelled_at / resolved_at
    updates: list[UpdateView]  # newest first
    path: str
    uid: str = ""
    sequence: int = 0
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None

    @property
    def closed(self) -> bool:
        return self.state in ("completed", "cancelled", "resolved")


@dataclass(frozen=True)
class ComponentView:
    code: str
    name: str
    status: str
    position: int


@dataclass
class StatusView:
    now: datetime
    language: str
    components: list[ComponentView]
    indicator: str
    description: str
    active: list[EventView] = field(default_factory=list)  # maintenance in progress / open incidents
    upcoming: list[EventView] = field(default_factory=list)
    history: list[EventView] = field(default_factory=list)  # closed in the last 90 days, newest first
    updated_at: datetime = EPOCH
    valid_until: datetime | None = None
    uptime: list[ComponentUptime] = field(default_factory=list)  # the 90-day bars, per component

    @property
    def events(self) -> list[EventView]:
        return self.active + self.upcoming + self.history


def _updates(rows: list[StatusUpdate], language: str) -> list[UpdateView]:
    return [UpdateView(u.id or 0, u.status, u.kind, pick(u.bodies, language), u.display_at, u.created_at,
                       dict(u.component_states or {}))
            for u in sorted(rows, key=lambda u: (u.display_at, u.id or 0), reverse=True)]


def maintenance_view(m: Maintenance, language: str, now: datetime) -> EventView:
    state = states.maintenance_state(m, now)
    ended = m.cancelled_at or (m.completed_at if state == "completed" else None)
    if state == "completed" and ended is None:
        ended = m.scheduled_until
    return EventView("maintenance", m.id or 0, pick(m.titles, language), state, "maintenance",
                     {c: "under_maintenance" for c in m.components}, m.reads_open, m.scheduled_for,
                     states.maintenance_end(m), m.created_at, _updated_at(m, now), None, ended,
                     _updates(m.updates, language), f"/status/maintenance/{m.id}", m.uid, m.sequence,
                     m.scheduled_for, m.scheduled_until)


def _updated_at(m: Maintenance, now: datetime) -> datetime:
    """The last change a reader can see, including the clock's own (start and end of the window)."""
    moments = [m.updated_at] + [t for t in (m.scheduled_for, states.maintenance_end(m))
                                if t <= now and not m.cancelled_at]
    return max(moments)


def incident_components(incident: Incident) -> dict[str, str]:
    """Every component the incident ever affected (kept after recovery), with its state now."""
    ever = set(incident.affected_components or []) | set(incident.component_statuses)
    for update in incident.updates:
        ever |= {c for c, s in (update.component_states or {}).items() if s != "operational"}
    return {c: incident.component_statuses.get(c, "operational") for c in COMPONENTS if c in ever}


def incident_view(incident: Incident, language: str) -> EventView:
    return EventView("incident", incident.id or 0, pick(incident.titles, language), incident.status,
                     incident.impact, incident_components(incident), incident.reads_open, incident.started_at,
                     incident.expected_end if incident.status != "resolved" else incident.resolved_at,
                     incident.created_at, incident.updated_at, incident.monitoring_at, incident.resolved_at,
                     _updates(incident.updates, language), f"/status/incidents/{incident.id}")


def load(session: Session, now: datetime) -> tuple[list[Maintenance], list[Incident]]:
    since = now - timedelta(days=HISTORY_DAYS)
    maintenances = session.scalars(
        select(Maintenance).options(selectinload(Maintenance.updates))
        .where(or_(Maintenance.scheduled_until >= since, Maintenance.state.not_in(states.FINAL_MAINTENANCE)))
        .order_by(Maintenance.scheduled_for)).all()
    incidents = session.scalars(
        select(Incident).options(selectinload(Incident.updates))
        .where(or_(Incident.status != "resolved", Incident.resolved_at >= since))
        .order_by(Incident.started_at)).all()
    return list(maintenances), list(incidents)


def status_view(session: Session, now: datetime, language: str) -> StatusView:
    maintenances, incidents = load(session, now)
    return build(maintenances, incidents, now, language)


def build(maintenances: list[Maintenance], incidents: list[Incident], now: datetime, language: str) -> StatusView:
    statuses = states.component_statuses(COMPONENTS, maintenances, incidents, now)
    indicator, description = states.rollup(statuses.values(), incidents)
    view = StatusView(now, language, [ComponentView(code, component_name(code, language), statuses[code], i + 1)
                                      for i, code in enumerate(COMPONENTS)], indicator, description)
    since = now - timedelta(days=HISTORY_DAYS)
    events = [maintenance_view(m, language, now) for m in maintenances]
    events += [incident_view(i, language) for i in incidents]
    for event in events:
        if event.state in ("in_progress", "verifying") or (event.kind == "incident" and not event.closed):
            view.active.append(event)
        elif event.state == "scheduled":
            view.upcoming.append(event)
        elif (event.resolved_at or event.starts_at) >= since:
            view.history.append(event)
    view.active.sort(key=lambda e: e.starts_at)
    view.upcoming.sort(key=lambda e: e.starts_at)
    view.history.sort(key=lambda e: e.resolved_at or e.starts_at, reverse=True)
    view.updated_at = max([e.updated_at for e in events], default=EPOCH)
    view.valid_until = states.next_change(maintenances, now)
    view.uptime = uptime({c.code: c.name for c in view.components}, maintenances, incidents, now, _zone())
    return view


def _zone() -> ZoneInfo:
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or "Europe/Helsinki")


def maintenance(session: Session, maintenance_id: int) -> Maintenance | None:
    return session.get(Maintenance, maintenance_id, options=[selectinload(Maintenance.updates)])


def incident(session: Session, incident_id: int) -> Incident | None:
    return session.get(Incident, incident_id, options=[selectinload(Incident.updates)])


def recent(session: Session, limit: int = 50) -> tuple[list[Maintenance], list[Incident]]:
    """The 50 most recent of each, as Statuspage's incidents.json and scheduled-maintenances.json list them."""
    maintenances = session.scalars(select(Maintenance).options(selectinload(Maintenance.updates))
                                   .order_by(Maintenance.scheduled_for.desc()).limit(limit)).all()
    incidents = session.scalars(select(Incident).options(selectinload(Incident.updates))
                                .order_by(Incident.started_at.desc()).limit(limit)).all()
    return list(maintenances), list(incidents)
