"""The management API: a deploy script announces, moves, updates and ends breaks and incidents with an
editor's token; every change is audited and shows at once on the status JSON and the gate."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts import service as accounts
from app.accounts.models import StaffUser
from app.audit import AuditEvent
from tests import factories
from tests.status.helpers import set_clock

NAME = {"fi": "Päivityskatko", "sv": "Uppdateringsavbrott", "en": "Upgrade break"}
MESSAGE = {"fi": "Rekisteröinti on kiinni.", "sv": "Registreringen är stängd.", "en": "Registration is closed."}


def token_for(sm, now, *roles, email="editor@test.kuulo"):
    with sm.begin() as s:
        factories.staff(s, now, *roles, email=email)
    with sm.begin() as s:
        user = s.scalar(select(StaffUser).where(StaffUser.email == email))
        raw, _ = accounts.issue_token(s, now=now, days=30, staff=user, name="deploy script")
    return {"Authorization": f"Bearer {raw}", "Accept-Language": "en"}


@pytest.fixture()
def editor(sm, now):
    return token_for(sm, now, "status_editor")


def stamp(value):
    return value.isoformat().replace("+00:00", "Z")


def announce(client, editor, now, starts=timedelta(minutes=-1), hours=1, components=("registration",), **extra):
    body = {"name": NAME, "message": MESSAGE, "scheduled_for": stamp(now + starts),
            "scheduled_until": stamp(now + starts + timedelta(hours=hours)), "components": list(components),
            "read_own_data": True, **extra}
    return client.post("/api/v1/status/maintenances", json=body, headers=editor)


def audit_actions(sm):
    with sm() as s:
        return [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.action.like("status.%"))
                                            .order_by(AuditEvent.id))]


def test_a_break_announced_by_the_api_closes_at_once_and_completing_it_reopens(client, editor, sm, now):
    resp = announce(client, editor, now)
    assert resp.status_code == 201
    ident = resp.json["id"]
    assert ident.startswith("m") and resp.json["status"] == "in_progress"
    active = client.get("/api/v2/scheduled-maintenances/active.json").json["scheduled_maintenances"]
    assert [m["id"] for m in active] == [ident] and active[0]["name"] == "Upgrade break"
    assert client.post("/api/v1/registrations", json={}, headers=editor).status_code == 503
    done = client.post(f"/api/v1/status/maintenances/{ident}/complete", headers=editor)
    assert done.status_code == 200 and done.json["status"] == "completed"
    assert client.get("/api/v2/scheduled-maintenances/active.json").json["scheduled_maintenances"] == []
    assert client.post("/api/v1/registrations", json={}, headers=editor).status_code != 503
    assert audit_actions(sm) == ["status.maintenance.created", "status.maintenance.completed"]


def test_reschedule_update_and_cancel(client, editor, sm, now):
    ident = announce(client, editor, now, starts=timedelta(days=2)).json["id"]
    number = ident[1:]
    moved = client.patch(f"/api/v1/status/maintenances/{number}", headers=editor,
                         json={"scheduled_for": stamp(now + timedelta(days=3)),
                               "scheduled_until": stamp(now + timedelta(days=3, hours=2)),
                               "message": {"en": "Moved by a day."}})
    assert moved.status_code == 200 and moved.json["scheduled_for"].startswith((now + timedelta(days=3)).date().isoformat())
    noted = client.patch(f"/api/v1/status/maintenances/{ident}", headers=editor,
                         json={"message": {"fi": "Lisätietoa.", "en": "More news."}})
    assert noted.status_code == 200 and noted.json["updates"] == 3
    cancelled = client.post(f"/api/v1/status/maintenances/{ident}/cancel", headers=editor,
                            json={"message": {"en": "Not needed after all."}})
    assert cancelled.status_code == 200 and cancelled.json["status"] == "completed" and cancelled.json["cancelled"]
    doc = client.get("/api/v2/scheduled-maintenances.json?lang=en").json["scheduled_maintenances"][0]
    assert doc["status"] == "completed" and doc["cancelled_at"]
    assert doc["incident_updates"][0]["body"] == "Cancelled: Not needed after all."
    again = client.post(f"/api/v1/status/maintenances/{ident}/cancel", headers=editor)
    assert again.status_code == 409 and again.json["type"].endswith("status-already-closed")
    assert audit_actions(sm) == ["status.maintenance.created", "status.maintenance.rescheduled",
                                 "status.maintenance.updated", "status.maintenance.cancelled"]


def test_refusals_are_clear_problems(client, editor, sm, now):
    past = announce(client, editor, now, starts=timedelta(hours=-3), hours=1)
    assert past.status_code == 422 and "future" in past.json["detail"]
    unknown = announce(client, editor, now, components=("lending",))
    assert unknown.status_code == 422
    assert client.post("/api/v1/status/maintenances/m999/complete", headers=editor).status_code == 404
    assert client.post("/api/v1/status/maintenances/i1/complete", headers=editor).status_code == 404
    assert client.post("/api/v1/status/maintenances/99999999999/complete", headers=editor).status_code == 404
    scheduled = announce(client, editor, now, starts=timedelta(hours=2)).json["id"]
    early = client.post(f"/api/v1/status/maintenances/{scheduled}/complete", headers=editor)
    assert early.status_code == 409 and early.json["type"].endswith("status-not-started")
    assert client.patch(f"/api/v1/status/maintenances/{scheduled}", headers=editor, json={}).status_code == 422


def test_only_status_editors_tokens_may_manage(client, sm, now):
    librarian = token_for(sm, now, "librarian", email="lib@test.kuulo")
    assert announce(client, librarian, now).status_code == 403
    assert announce(client, {"Authorization": "Bearer nope"}, now).status_code == 401
    assert client.post("/api/v1/status/maintenances", json={}).status_code == 401


def test_incidents_keep_every_component_they_ever_affected(client, editor, sm, now):
    created = client.post("/api/v1/status/incidents", headers=editor, json={
        "name": {"en": "Login trouble"}, "message": {"en": "Looking into it."}, "impact": "major",
        "components": {"login": "major_outage", "search": "degraded_performance"}})
    assert created.status_code == 201
    ident = created.json["id"]
    assert client.post("/login", data={"card_number": "1", "secret": "1"}).status_code == 503
    changed = client.patch(f"/api/v1/status/incidents/{ident}", headers=editor, json={
        "message": {"en": "Search is fine again."}, "status": "identified", "components": {"search": "operational"}})
    assert changed.status_code == 200 and changed.json["components"] == {"login": "major_outage"}
    set_clock(client.application, now + timedelta(minutes=30))
    resolved = client.post(f"/api/v1/status/incidents/{ident}/resolve", headers=editor)
    assert resolved.status_code == 200 and resolved.json["status"] == "resolved"
    assert client.post("/login", data={"card_number": "1", "secret": "1"}).status_code != 503
    doc = client.get("/api/v2/incidents.json?lang=en").json["incidents"][0]
    assert [c["id"] for c in doc["components"]] == ["login", "search"]
    last, middle, first = doc["incident_updates"]
    assert {c["code"]: (c["old_status"], c["new_status"]) for c in first["affected_components"]} == {
        "login": ("operational", "major_outage"), "search": ("operational", "degraded_performance")}
    assert {c["code"]: c["new_status"] for c in middle["affected_components"]} == {
        "login": "major_outage", "search": "operational"}
    assert {c["code"]: (c["old_status"], c["new_status"]) for c in last["affected_components"]} == {
        "login": ("major_outage", "operational"), "search": ("operational", "operational")}
    page = client.get(f"/status/incidents/{ident[1:]}", headers={"Accept-Language": "en"}).text
    assert "Login" in page and "Search" in page
    assert audit_actions(sm) == ["status.incident.created", "status.incident.updated", "status.incident.updated"]


def test_the_operations_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").json["paths"]
    assert {"post"} <= set(paths["/api/v1/status/maintenances"])
    assert "patch" in paths["/api/v1/status/maintenances/{ident}"]
    for action in ("complete", "cancel"):
        assert "post" in paths[f"/api/v1/status/maintenances/{{ident}}/{action}"]
    assert "patch" in paths["/api/v1/status/incidents/{ident}"]
    assert "post" in paths["/api/v1/status/incidents/{ident}/resolve"]
