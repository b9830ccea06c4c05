"""The services are named as users think of them, each with what closes and what stays open, the same in
the editor's form and in /api/v2/components.json; the form asks for at least one as a group."""
from __future__ import annotations

import re

from app import gate
from app.status.texts import COMPONENT_CLOSES, COMPONENT_NAMES, COMPONENT_STAYS_OPEN
from tests import factories

EN = {"Accept-Language": "en"}


def test_every_component_has_a_name_and_its_reach_in_three_languages():
    for table in (COMPONENT_NAMES, COMPONENT_CLOSES, COMPONENT_STAYS_OPEN):
        assert tuple(table) == gate.COMPONENTS
        assert all(set(texts) == {"fi", "sv", "en"} and all(texts.values()) for texts in table.values())
    assert COMPONENT_NAMES["self_service"]["en"] == "Self-service stations and self-service libraries"


def test_components_json_names_them_in_users_words_with_what_closes(client):
    comps = {c["id"]: c for c in client.get("/api/v2/components.json?lang=en").json["components"]}
    assert list(comps) == list(gate.COMPONENTS)
    assert comps["registration"]["name"] == "Patron registration"
    assert "borrowing" in comps["web_library"]["name"].lower() and "borrowing" in comps["reader_apps"]["name"].lower()
    assert comps["registration"]["description"].startswith("Registering new patrons")
    fi = {c["id"]: c for c in client.get("/api/v2/components.json?lang=fi").json["components"]}
    assert fi["registration"]["description"] == COMPONENT_CLOSES["registration"]["fi"]


def test_the_break_form_says_what_closes_and_asks_for_one_service_as_a_group(client, sm, now):
    with sm.begin() as s:
        factories.staff(s, now, "status_editor")
    factories.login_staff(client)
    page = client.get("/staff/status/maintenance/new", headers=EN).text
    boxes = re.findall(r"<input[^>]*name=\"components\"[^>]*>", page)
    assert len(boxes) == len(gate.COMPONENTS) and not any("required" in b for b in boxes)
    assert "Services that close <span class=\"required\">(choose at least one)</span>" in page
    assert "Closes: Registering new patrons" in page and "Stays open: Everything else: borrowing" in page
    assert all('aria-describedby="components-' in b for b in boxes)
    resp = client.post("/staff/status/maintenance/new", headers=EN, data={
        "title_en": "Break", "starts": "2026-12-01T10:00", "ends": "2026-12-01T11:00"})
    assert resp.status_code == 200 and "Choose at least one service." in resp.text


def test_the_incident_form_says_each_services_reach_too(client, sm, now):
    with sm.begin() as s:
        factories.staff(s, now, "status_editor")
    factories.login_staff(client)
    page = client.get("/staff/status/incidents/new", headers=EN).text
    assert 'id="component_registration-hint"' in page
    assert "Closes: Registering new patrons" in page
