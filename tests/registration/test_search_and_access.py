"""Librarians find patrons (identity code only in a POST body); every lookup is audited; right of access."""
from __future__ import annotations

import json

from sqlalchemy import select

from app.accounts.models import Patron
from app.audit import AuditEvent
from tests import factories
from tests.registration.conftest import form_data, person

SEARCH = "/staff/registrations/search"


def registered(staff_client, sm, code="010594Y308V"):
    staff_client.post("/staff/registrations/new", data=form_data(code))
    with sm.begin() as s:
        return s.scalar(select(Patron).order_by(Patron.id.desc()))


def audit_actions(sm, action):
    with sm.begin() as s:
        return s.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_search_by_identity_code_is_a_post_and_shows_only_the_masked_code(staff_client, sm, librarian):
    patron = registered(staff_client, sm)
    page = staff_client.get(SEARCH).text
    assert 'method="post" action="/staff/registrations/search/identity-code"' in page
    resp = staff_client.post(SEARCH + "/identity-code", data={"code-national_id": "010594y308v"})
    assert resp.status_code == 200 and "One patron found." in resp.text
    assert patron.card_number in resp.text and "010594Y***V" in resp.text
    assert "010594Y308V" not in resp.text.upper()
    events = audit_actions(sm, "registration.looked_up")
    assert len(events) == 1 and events[0].record_id == str(patron.id)
    assert events[0].details == {"method": "identity_code", "found": True}
    assert events[0].actor.startswith(f"staff:{librarian['id']}")
    assert "308" not in json.dumps(events[0].details)


def test_search_by_identity_code_not_found_and_malformed(staff_client, sm):
    resp = staff_client.post(SEARCH + "/identity-code", data={"code-national_id": "131052-308T"})
    assert "No patron is registered with this identity code." in resp.text
    assert audit_actions(sm, "registration.looked_up")[0].details["found"] is False
    bad = staff_client.post(SEARCH + "/identity-code", data={"code-national_id": "131052-308U"})
    assert bad.status_code == 422 and "check character" in bad.text and "131052-308U" not in bad.text


def test_search_by_card_number(staff_client, sm):
    patron = registered(staff_client, sm)
    resp = staff_client.post(SEARCH + "/card", data={"card-card_number": patron.card_number})
    assert "One patron found." in resp.text and "Testi Tapani Henkilö" in resp.text
    assert "No patron has this library card number." in staff_client.post(
        SEARCH + "/card", data={"card-card_number": "999"}).text


def test_the_record_page_shows_what_a_librarian_needs_and_is_audited(staff_client, sm):
    patron = registered(staff_client, sm)
    page = staff_client.get(f"/staff/registrations/{patron.id}").text
    for text in ("010594Y***V", "Kirjastokatu 1, 00100 Helsinki", "Visual impairment", "Test Staff",
                 "Tampereen kaupunginkirjasto", patron.card_number):
        assert text in page
    assert "010594Y308V" not in page
    assert len(audit_actions(sm, "registration.viewed")) == 1
    assert staff_client.get("/staff/registrations/999999").status_code == 404


def test_a_patron_downloads_their_data_as_json(staff_client, sm, app):
    patron = registered(staff_client, sm)
    with sm.begin() as s:
        from app.accounts import service as accounts

        accounts.set_patron_secret(s, s.get(Patron, patron.id), pin="2468", now=patron.created_at, actor="test")
    reader = app.test_client()
    assert factories.login_patron(reader, patron.card_number, "2468").status_code == 302
    page = reader.get("/account/my-data", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "/account/my-data.json" in page.text
    resp = reader.get("/account/my-data.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert "attachment" in resp.headers["Content-Disposition"]
    data = json.loads(resp.data)
    assert data["account"]["card_number"] == patron.card_number
    reg = data["registration"]
    assert reg["national_id"] == "010594Y***V" and reg["birth_date"] == "1994-05-01"
    assert reg["street_address"] == "Kirjastokatu 1" and reg["registered_by_library"] == "Tampereen kaupunginkirjasto"
    assert data["messages"][0]["subject"] and "registration.created" in {e["action"] for e in data["events"]}
    assert "010594Y308V" not in resp.text and "/reset/" not in resp.text
    assert len(audit_actions(sm, "registration.data_exported")) == 1


def test_only_a_logged_in_patron_gets_their_data(client, staff_client):
    assert client.application.test_client().get("/account/my-data.json").status_code == 302
    assert staff_client.get("/account/my-data.json").status_code == 302  # staff are not patrons


def test_an_under_15_patrons_data_names_the_guardian(client, auth, sm, app):
    client.post("/api/v1/registrations", json=person("070915A4826", guardian_name="Karin Exempel",
                                                      guardian_contact="+358 50 333 4444", guardian_consent=True),
                headers=auth)
    with sm.begin() as s:
        patron = s.scalar(select(Patron))
        from app.registration import service

        data = service.patron_data(s, patron, now=patron.created_at)
    assert data["registration"]["guardian"] == {"name": "Karin Exempel", "contact": "+358 50 333 4444",
                                                "consent": True}
