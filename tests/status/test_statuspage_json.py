"""/api/v2 holds Statuspage's documented shape: envelope, field names and vocabularies
(https://metastatuspage.com/api, the public v2 API every Statuspage page serves)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.status.helpers import incident, maintenance, set_clock

# The documented objects of Statuspage's public API v2 (field names as in its examples).
PAGE = {"id", "name", "url", "updated_at"}
STATUS = {"indicator", "description"}
COMPONENT = {"created_at", "description", "id", "name", "page_id", "position", "status", "updated_at"}
INCIDENT = {"created_at", "id", "impact", "incident_updates", "monitoring_at", "name", "page_id", "resolved_at",
            "shortlink", "status", "updated_at"}
INCIDENT_UPDATE = {"body", "created_at", "display_at", "id", "incident_id", "status", "updated_at"}
MAINTENANCE = INCIDENT | {"scheduled_for", "scheduled_until"}
COMPONENT_STATUSES = {"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"}
INDICATORS = {"none", "minor", "major", "critical"}
INCIDENT_STATES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
MAINTENANCE_STATES = {"scheduled", "in_progress", "verifying", "completed"}
IMPACTS = {"none", "minor", "major", "critical", "maintenance"}
ENVELOPES = {
    "summary": {"page", "components", "incidents", "scheduled_maintenances", "status"},
    "status": {"page", "status"},
    "components": {"page", "components"},
    "incidents": {"page", "incidents"},
    "incidents/unresolved": {"page", "incidents"},
    "scheduled-maintenances": {"page", "scheduled_maintenances"},
    "scheduled-maintenances/upcoming": {"page", "scheduled_maintenances"},
    "scheduled-maintenances/active": {"page", "scheduled_maintenances"},
}


def check_timestamp(value):
    assert value is None or (isinstance(value, str) and value.endswith("Z") and "T" in value), value


def check_component(c):
    assert COMPONENT <= set(c), COMPONENT - set(c)
    assert c["status"] in COMPONENT_STATUSES and isinstance(c["position"], int)
    check_timestamp(c["created_at"]), check_timestamp(c["updated_at"])


def check_event(e, fields, states):
    assert fields <= set(e), fields - set(e)
    assert e["status"] in states and e["impact"] in IMPACTS
    for key in ("created_at", "updated_at", "monitoring_at", "resolved_at"):
        check_timestamp(e[key])
    assert e["incident_updates"], "every event has at least its first update"
    for update in e["incident_updates"]:
        assert INCIDENT_UPDATE <= set(update), INCIDENT_UPDATE - set(update)
        assert update["incident_id"] == e["id"] and update["body"]
        assert update["status"] in states
    for c in e.get("components", []):
        check_component(c)


def check_document(doc, endpoint):
    assert set(doc) >= ENVELOPES[endpoint], (endpoint, set(doc))
    assert PAGE <= set(doc["page"])
    if "status" in doc:
        assert set(doc["status"]) == STATUS and doc["status"]["indicator"] in INDICATORS
    for c in doc.get("components", []):
        check_component(c)
    for e in doc.get("incidents", []):
        check_event(e, INCIDENT, INCIDENT_STATES)
    for e in doc.get("scheduled_maintenances", []):
        check_event(e, MAINTENANCE, MAINTENANCE_STATES)


@pytest.fixture()
def busy(app, sm, now):
    """One window in progress, one coming, one open incident, one resolved."""
    active = maintenance(app, sm, now - timedelta(hours=1), starts_in=timedelta(minutes=30), hours=3,
                         components=("registration",))
    coming = maintenance(app, sm, now, starts_in=timedelta(days=3))
    open_incident = incident(app, sm, now, {"login": "major_outage", "search": "degraded_performance"})
    return active, coming, open_incident


def test_every_endpoint_has_the_documented_envelope_and_fields(client, busy):
    for endpoint in ENVELOPES:
        resp = client.get(f"/api/v2/{endpoint}.json")
        assert resp.status_code == 200 and resp.mimetype == "application/json", endpoint
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        check_document(resp.json, endpoint)


def test_summary_rolls_up_components_incidents_and_maintenances(client, busy):
    active, coming, open_incident = busy
    doc = client.get("/api/v2/summary.json").json
    statuses = {c["id"]: c["status"] for c in doc["components"]}
    assert statuses["login"] == "major_outage" and statuses["search"] == "degraded_performance"
    assert statuses["registration"] == "under_maintenance" and statuses["cd_clubs"] == "operational"
    assert doc["status"]["indicator"] == "critical"
    assert [i["id"] for i in doc["incidents"]] == [f"i{open_incident}"]
    assert {m["id"]: m["status"] for m in doc["scheduled_maintenances"]} == {f"m{active}": "in_progress",
                                                                              f"m{coming}": "scheduled"}
    upcoming = client.get("/api/v2/scheduled-maintenances/upcoming.json").json["scheduled_maintenances"]
    assert [m["id"] for m in upcoming] == [f"m{coming}"]
    running = client.get("/api/v2/scheduled-maintenances/active.json").json["scheduled_maintenances"]
    assert [m["id"] for m in running] == [f"m{active}"]


def test_resolved_incidents_leave_unresolved_but_stay_in_the_list(app, client, sm, now, busy):
    from app.status import queries, service

    _, _, open_incident = busy
    with app.app_context(), sm.begin() as s:
        found = queries.incident(s, open_incident)
        service.update_incident(s, found, status="resolved", bodies={"en": "Fixed."}, impact="major",
                                component_statuses={}, expected_end=None, actor="test", now=now)
    assert client.get("/api/v2/incidents/unresolved.json").json["incidents"] == []
    listed = client.get("/api/v2/incidents.json").json["incidents"]
    assert [(i["id"], i["status"]) for i in listed] == [(f"i{open_incident}", "resolved")]
    assert listed[0]["resolved_at"] is not None
    doc = client.get("/api/v2/summary.json").json
    assert doc["status"]["indicator"] == "minor"  # only the window in progress remains


def test_all_quiet_reads_none_and_language_follows_lang_or_accept_language(client):
    doc = client.get("/api/v2/status.json").json
    assert doc["status"] == {"indicator": "none", "description": "All Systems Operational"}
    fi = client.get("/api/v2/components.json?lang=fi").json["components"]
    sv = client.get("/api/v2/components.json", headers={"Accept-Language": "sv"}).json["components"]
    assert fi[0]["name"].startswith("Kirjautuminen (") and sv[0]["name"].startswith("Inloggning (")


def test_an_unknown_endpoint_is_a_problem(client):
    resp = client.get("/api/v2/nothing.json")
    assert resp.status_code == 404 and resp.mimetype == "application/problem+json"


def test_a_cancelled_window_reads_completed_with_cancelled_at(app, client, sm, now):
    from app.status import queries, service

    mid = maintenance(app, sm, now)
    with app.app_context(), sm.begin() as s:
        service.cancel_maintenance(s, queries.maintenance(s, mid), bodies={}, actor="test", now=now)
    listed = client.get("/api/v2/scheduled-maintenances.json").json["scheduled_maintenances"]
    assert listed[0]["status"] == "completed" and listed[0]["cancelled_at"] is not None
    assert client.get("/api/v2/scheduled-maintenances/upcoming.json").json["scheduled_maintenances"] == []
    set_clock(app, now + timedelta(days=21, hours=1))
    assert client.get("/api/v2/scheduled-maintenances/active.json").json["scheduled_maintenances"] == []
