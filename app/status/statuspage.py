"""The /api/v2 JSON in the shape of Atlassian Statuspage's public API, so widgets and monitors read it.

Same envelope (``page`` plus the list), field names and vocabularies: component statuses operational,
under_maintenance, degraded_performance, partial_outage, major_outage; incidents investigating,
identified, monitoring, resolved; maintenances scheduled, in_progress, verifying, completed; impact
none, minor, major, critical (maintenance for windows); indicator none, minor, major, critical.
A cancelled window reads as completed there (Statuspage has no such state) with ``cancelled_at`` set.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app

from app.status import labels
from app.status.queries import EPOCH, EventView, StatusView
from app.status.texts import component_name, component_reach

PAGE_ID = "kuulo"
ENDPOINTS = ("summary", "status", "components", "incidents", "incidents/unresolved", "scheduled-maintenances",
             "scheduled-maintenances/upcoming", "scheduled-maintenances/active")


def stamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    value = value.astimezone(UTC)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


def _base_url() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def page(view: StatusView) -> dict[str, Any]:
    return {"id": PAGE_ID, "name": "Kuulo", "url": _base_url() + "/status",
            "time_zone": current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Helsinki"),
            "updated_at": stamp(view.updated_at)}


def status(view: StatusView) -> dict[str, str]:
    description = view.description if view.language == "en" else str(labels.ROLLUP[view.description])
    return {"indicator": view.indicator, "description": description}


def _component_updated(view: StatusView, code: str) -> datetime:
    return max([e.updated_at for e in view.events if code in e.components], default=EPOCH)


def components(view: StatusView) -> list[dict[str, Any]]:
    return [{"id": c.code, "name": c.name, "status": c.status, "created_at": stamp(EPOCH),
             "updated_at": stamp(_component_updated(view, c.code)), "position": c.position,
             "description": component_reach(c.code, view.language)[0],
             "showcase": True, "start_date": None, "group_id": None, "page_id": PAGE_ID, "group": False,
             "only_show_if_degraded": False} for c in view.components]


def _event_id(event: EventView) -> str:
    return f"{'m' if event.kind == 'maintenance' else 'i'}{event.id}"


def _update(event: EventView, language: str, update: Any, before: dict[str, str]) -> dict[str, Any]:
    """One update; ``before``: the components' states at the previous update (for old_status)."""
    body = labels.update_text(update)
    states = update.components or {code: status for code, status in event.components.items()}  # older rows
    affected = [{"code": code, "name": component_name(code, language), "old_status": before.get(code, "operational"),
                 "new_status": status} for code, status in states.items()]
    return {"id": f"u{update.id}", "status": update.status, "body": body,
            "body_language": update.body.language if update.body.text else language,
            "incident_id": _event_id(event), "created_at": stamp(update.created_at),
            "updated_at": stamp(update.created_at), "display_at": stamp(update.display_at),
            "affected_components": affected, "deliver_notifications": True, "custom_tweet": None, "tweet_id": None}


def _updates(e: EventView, language: str) -> list[dict[str, Any]]:
    """Newest first, as Statuspage lists them; each with the states before and after it."""
    answered, before = [], {}
    for update in reversed(e.updates):
        answered.append(_update(e, language, update, before))
        before = update.components or before
    return answered[::-1]


def event(view: StatusView, e: EventView) -> dict[str, Any]:
    affected = [c for c in components(view) if c["id"] in e.components]
    data: dict[str, Any] = {
        "id": _event_id(e), "name": e.title.text, "status": "completed" if e.state == "cancelled" else e.state,
        "created_at": stamp(e.created_at), "updated_at": stamp(e.updated_at), "monitoring_at": stamp(e.monitoring_at),
        "resolved_at": stamp(e.resolved_at), "impact": e.impact, "shortlink": _base_url() + e.path,
        "started_at": stamp(e.starts_at), "page_id": PAGE_ID,
        "incident_updates": _updates(e, view.language), "components": affected,
    }
    if e.kind == "maintenance":
        data |= {"scheduled_for": stamp(e.scheduled_for), "scheduled_until": stamp(e.scheduled_until),
                 "cancelled_at": stamp(e.resolved_at) if e.state == "cancelled" else None}
    return data


def document(endpoint: str, view: StatusView, recent: list[EventView] | None = None) -> dict[str, Any]:
    """The JSON body of ``/api/v2/<endpoint>.json``; ``recent`` (newest first) for the two history lists."""
    doc: dict[str, Any] = {"page": page(view)}
    maintenances = [e for e in view.active + view.upcoming if e.kind == "maintenance"]
    incidents = [e for e in view.active if e.kind == "incident"]
    if endpoint == "summary":
        doc |= {"components": components(view), "incidents": [event(view, e) for e in incidents],
                "scheduled_maintenances": [event(view, e) for e in maintenances], "status": status(view)}
    elif endpoint == "status":
        doc["status"] = status(view)
    elif endpoint == "components":
        doc["components"] = components(view)
    elif endpoint == "incidents/unresolved":
        doc["incidents"] = [event(view, e) for e in incidents]
    elif endpoint == "incidents":
        doc["incidents"] = [event(view, e) for e in recent or [] if e.kind == "incident"]
    elif endpoint == "scheduled-maintenances":
        doc["scheduled_maintenances"] = [event(view, e) for e in recent or [] if e.kind == "maintenance"]
    elif endpoint == "scheduled-maintenances/upcoming":
        doc["scheduled_maintenances"] = [event(view, e) for e in maintenances if e.state == "scheduled"]
    elif endpoint == "scheduled-maintenances/active":
        doc["scheduled_maintenances"] = [event(view, e) for e in maintenances if e.state != "scheduled"]
    else:
        raise KeyError(endpoint)
    return doc
