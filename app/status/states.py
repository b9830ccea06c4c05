"""Pure rules of the status page: states computed from the clock, component statuses, the roll-up.

No I/O and no clock: values in, values out (the job and every reader use the same functions, so a
late job changes nothing a reader sees).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

SEVERITY = {"operational": 0, "under_maintenance": 1, "degraded_performance": 2, "partial_outage": 3,
            "major_outage": 4}
IMPACT_RANK = {"none": 0, "minor": 1, "major": 2, "critical": 3}
# Component status → (Statuspage indicator, description) as Statuspage words its roll-up.
ROLLUP = {"operational": ("none", "All Systems Operational"),
          "under_maintenance": ("minor", "Service Under Maintenance"),
          "degraded_performance": ("minor", "Partially Degraded Service"),
          "partial_outage": ("major", "Partial System Outage"),
          "major_outage": ("critical", "Major System Outage")}
IMPACT_DESCRIPTION = {"minor": "Minor Service Outage", "major": "Partial System Outage",
                      "critical": "Major System Outage"}
CLOSING_STATUSES = ("under_maintenance", "major_outage")
ACTIVE_MAINTENANCE = ("in_progress", "verifying")
FINAL_MAINTENANCE = ("completed", "cancelled")


class MaintenanceLike(Protocol):
    state: str
    scheduled_for: datetime
    scheduled_until: datetime
    completed_at: datetime | None
    cancelled_at: datetime | None
    components: list[str]


class IncidentLike(Protocol):
    status: str
    component_statuses: dict[str, str]
    impact: str


def maintenance_state(m: MaintenanceLike, now: datetime) -> str:
    """scheduled → in_progress (→ verifying) → completed, by the clock; cancelled stays cancelled."""
    if m.cancelled_at is not None:
        return "cancelled"
    if (m.completed_at is not None and m.completed_at <= now) or now >= m.scheduled_until:
        return "completed"
    if now >= m.scheduled_for:
        return "verifying" if m.state == "verifying" else "in_progress"
    return "scheduled"


def maintenance_end(m: MaintenanceLike) -> datetime:
    """When the window ended or is expected to end."""
    return m.completed_at if m.completed_at is not None and m.completed_at < m.scheduled_until \
        else m.scheduled_until


def worst(statuses: Iterable[str]) -> str:
    return max(statuses, key=lambda s: SEVERITY.get(s, 0), default="operational")


def component_statuses(codes: Iterable[str], maintenances: Iterable[MaintenanceLike],
                       incidents: Iterable[IncidentLike], now: datetime) -> dict[str, str]:
    """Each component's status: the worst of its active windows and open incidents."""
    found: dict[str, list[str]] = {code: ["operational"] for code in codes}
    for m in maintenances:
        if maintenance_state(m, now) in ACTIVE_MAINTENANCE:
            for code in m.components:
                found.setdefault(code, ["operational"]).append("under_maintenance")
    for incident in incidents:
        if incident.status != "resolved":
            for code, status in incident.component_statuses.items():
                found.setdefault(code, ["operational"]).append(status)
    return {code: worst(values) for code, values in found.items()}


def rollup(statuses: Iterable[str], incidents: Iterable[IncidentLike]) -> tuple[str, str]:
    """The page's (indicator, description): the worse of the components and the open incidents' impact."""
    indicator, description = ROLLUP[worst(statuses)]
    for incident in incidents:
        if incident.status != "resolved" and IMPACT_RANK.get(incident.impact, 0) > IMPACT_RANK[indicator]:
            indicator, description = incident.impact, IMPACT_DESCRIPTION[incident.impact]
    return indicator, description


def next_change(maintenances: Iterable[MaintenanceLike], now: datetime) -> datetime | None:
    """The next moment a window starts or ends: cached renderings are valid until then."""
    moments = [t for m in maintenances if maintenance_state(m, now) not in FINAL_MAINTENANCE
               for t in (m.scheduled_for, m.scheduled_until) if t > now]
    return min(moments, default=None)
