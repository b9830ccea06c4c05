"""The club API: the public list, memberships for reader apps (device token) and library systems (staff token)."""
from __future__ import annotations

import base64

import pytest

from app.accounts import service as accounts
from tests import factories
from tests.cdclub import helpers

ADDRESS = {"street_address": "Kotikatu 3", "postal_code": "00500", "city": "Helsinki"}


@pytest.fixture()
def world(app, sm, now):
    with helpers.tx(app, sm) as s:
        club = helpers.club(s, now)
        online = helpers.club(s, now, code="verkkoklubi", delivery_format="online")
        patron = factories.patron(s, now)
        librarian = factories.staff(s, now, "librarian", email="librarian@test.kuulo")
        status_editor = factories.staff(s, now, "status_editor", email="editor@test.kuulo")
        staff_token, _ = accounts.issue_token(s, now=now, days=30, staff=librarian, name="ils")
        editor_token, _ = accounts.issue_token(s, now=now, days=30, staff=status_editor, name="x")
        return {"club_id": club.id, "online_id": online.id, "card": patron.card_number,
                "staff": {"Authorization": f"Bearer {staff_token}"},
                "editor": {"Authorization": f"Bearer {editor_token}"}}


def device_token(client, card):
    auth = base64.b64encode(f"{card}:1234".encode()).decode()
    resp = client.post("/api/v1/token", headers={"Authorization": f"Basic {auth}"})
    return {"Authorization": f"Bearer {resp.json['access_token']}"}


def test_the_club_list_needs_no_login_and_tells_the_calendar(client, world):
    resp = client.get("/api/v1/clubs")
    assert resp.status_code == 200
    clubs = resp.json["clubs"]
    assert [c["code"] for c in clubs] == ["dekkariklubi", "verkkoklubi"]
    crime = clubs[0]
    assert crime["name"] == "dekkariklubi en" and crime["names"]["fi"] == "dekkariklubi fi"
    assert crime["delivery_format"] == "cd" and crime["disc_cap"] == 14 and crime["books_per_period"] == 3
    assert crime["upcoming_periods"][0] == {"period": "2027-01", "production_start": "2026-12-11",
                                           "delivery_date": "2027-01-15"}
    assert crime["first_delivery_if_joining_now"]["delivery_date"] == "2027-01-15"
    assert client.get(f"/api/v1/clubs/{world['club_id']}", headers={"Accept-Language": "fi"}).json["name"] == \
        "dekkariklubi fi"
    assert client.get("/api/v1/clubs/999").status_code == 404


def test_a_reader_app_joins_pauses_and_leaves(client, world):
    token = device_token(client, world["card"])
    assert client.get("/api/v1/club-memberships").status_code == 401
    missing = client.post("/api/v1/club-memberships", json={"club_id": world["club_id"]}, headers=token)
    assert missing.status_code == 422 and missing.mimetype == "application/problem+json"
    assert {e["field"] for e in missing.json["errors"]} == {"address.street_address", "address.postal_code",
                                                            "address.city"}
    joined = client.post("/api/v1/club-memberships", json={"club_id": world["club_id"], "address": ADDRESS},
                         headers=token)
    assert joined.status_code == 201
    body = joined.json
    assert body["status"] == "active" and body["first_period"] == "2027-01"
    assert body["next_delivery"] == {"period": "2027-01", "delivery_date": "2027-01-15"}
    again = client.post("/api/v1/club-memberships", json={"club_id": world["club_id"], "address": ADDRESS},
                        headers=token)
    assert again.status_code == 409 and again.json["type"].endswith("/already-member")
    online = client.post("/api/v1/club-memberships", json={"club_id": world["online_id"]}, headers=token)
    assert online.status_code == 201
    listed = client.get("/api/v1/club-memberships", headers=token).json["memberships"]
    assert len(listed) == 2
    url = f"/api/v1/club-memberships/{body['id']}"
    paused = client.patch(url, json={"status": "paused"}, headers=token)
    assert paused.status_code == 200 and paused.json["status"] == "paused" and paused.json["next_delivery"] is None
    moved = client.patch(url, json={"status": "active", "address": {**ADDRESS, "city": "Espoo",
                                                                      "postal_code": "02100"}}, headers=token)
    assert moved.json["status"] == "active" and moved.json["address"]["city"] == "Espoo"
    left = client.delete(url, headers=token)
    assert left.status_code == 200 and left.json["status"] == "left" and left.json["still_receiving"] == []
    assert client.delete(url, headers=token).status_code == 409


def test_a_patron_cannot_touch_someone_elses_membership(app, client, sm, now, world):
    token = device_token(client, world["card"])
    with helpers.tx(app, sm) as s:
        other = helpers.member(s, app, helpers.club(s, now, code="toinen"), now, "Toinen")
    assert client.get(f"/api/v1/club-memberships/{other.id}", headers=token).status_code == 404
    assert client.delete(f"/api/v1/club-memberships/{other.id}", headers=token).status_code == 404


def test_a_library_system_manages_members_with_a_staff_token(client, world):
    url = f"/api/v1/clubs/{world['club_id']}/members"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=world["editor"]).status_code == 403
    unknown = client.post(url, json={"card_number": "0000", "address": ADDRESS}, headers=world["staff"])
    assert unknown.status_code == 422 and unknown.json["errors"][0]["field"] == "card_number"
    added = client.post(url, json={"card_number": world["card"], "address": ADDRESS}, headers=world["staff"])
    assert added.status_code == 201 and added.json["card_number"] == world["card"]
    assert [m["card_number"] for m in client.get(url, headers=world["staff"]).json["members"]] == [world["card"]]
    one = f"{url}/{world['card']}"
    assert client.get(one, headers=world["staff"]).json["status"] == "active"
    assert client.patch(one, json={"status": "paused"}, headers=world["staff"]).json["status"] == "paused"
    assert client.patch(one, json={"status": "gone"}, headers=world["staff"]).status_code == 422
    assert client.delete(one, headers=world["staff"]).json["status"] == "left"
    assert client.get(f"{url}/999999", headers=world["staff"]).status_code == 404
    assert client.delete(one).status_code == 401


def test_the_openapi_document_describes_the_club_endpoints(client):
    paths = client.get("/api/openapi.json").json["paths"]
    for path in ("/api/v1/clubs", "/api/v1/clubs/{club_id}", "/api/v1/club-memberships",
                 "/api/v1/club-memberships/{member_id}", "/api/v1/clubs/{club_id}/members",
                 "/api/v1/clubs/{club_id}/members/{card_number}"):
        assert path in paths, path
    assert set(paths["/api/v1/club-memberships/{member_id}"]) == {"get", "patch", "delete"}
