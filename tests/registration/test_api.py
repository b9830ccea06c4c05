"""POST /api/v1/registrations: 201 new, 200 already registered, 422 field errors, 401, OpenAPI, gate."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import gate
from app.accounts.models import Patron
from app.notify.models import OutboxMessage
from app.registration.models import Registration
from tests import factories
from tests.registration.conftest import make_token, person

URL = "/api/v1/registrations"


def count(sm, model):
    with sm.begin() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_new_patron_is_201_and_the_same_code_again_is_200_with_the_same_patron(client, auth, sm, librarian):
    first = client.post(URL, json=person(), headers=auth)
    assert first.status_code == 201 and first.mimetype == "application/json"
    body = first.json
    assert body["created"] is True and body["registered_by_library"] == librarian["library"]
    assert set(body) == {"patron_id", "card_number", "created", "registered_at", "registered_by_library"}
    again = client.post(URL, json=person(email="other@example.test"), headers=auth)
    assert again.status_code == 200
    assert again.json == {**body, "created": False}
    assert (count(sm, Patron), count(sm, Registration), count(sm, OutboxMessage)) == (1, 1, 1)



def test_a_card_number_already_given_out_is_skipped(client, auth, sm, now):
    """Cards given out explicitly (demo cards, cards from an older system) are never handed out again."""
    with sm.begin() as s:
        factories.patron(s, now, card_number="2000000001")
    assert client.post(URL, json=person(), headers=auth).json["card_number"] == "2000000002"

def test_field_errors_are_problem_json_naming_each_field(client, auth, sm):
    # Shape first (the model: types, choices), then the rules (the identity code, the address's form).
    resp = client.post(URL, json=person("131052-308U", email="nope", postal_code=5, preferred_formats="audiobook"),
                       headers=auth)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    fields = {e["field"]: e["message"] for e in resp.json["errors"]}
    assert fields == {"postal_code": "Send text.", "preferred_formats": "Send a list."}
    resp = client.post(URL, json=person("131052-308U", email="nope", postal_code="5"), headers=auth)
    assert resp.status_code == 422
    fields = {e["field"]: e["message"] for e in resp.json["errors"]}
    assert set(fields) == {"national_id", "email", "postal_code"}
    assert "check character" in fields["national_id"]
    assert "131052-308U" not in resp.text  # the code is never echoed back
    assert count(sm, Patron) == 0


def test_missing_fields_are_each_named(client, auth):
    resp = client.post(URL, json={}, headers=auth)
    assert resp.status_code == 422
    names = {e["field"] for e in resp.json["errors"]}
    assert names == {"given_names", "surname", "national_id", "email", "street_address", "postal_code", "city",
                     "language", "eligibility_basis"}


def test_temporary_codes_are_refused_with_a_clear_message(client, auth):
    resp = client.post(URL, json=person("010594Y9087"), headers=auth)
    assert resp.status_code == 422
    assert "temporary identity code" in resp.json["errors"][0]["message"]


def test_field_messages_follow_accept_language(client, auth):
    resp = client.post(URL, json=person(postal_code="x"), headers={**auth, "Accept-Language": "fi"})
    assert resp.status_code == 422 and resp.json["errors"][0]["field"] == "postal_code"


def test_under_15_needs_guardian_fields(client, auth, sm):
    resp = client.post(URL, json=person("070915A4826"), headers=auth)
    assert {e["field"] for e in resp.json["errors"]} == {"guardian_name", "guardian_contact", "guardian_consent"}
    ok = client.post(URL, json=person("070915A4826", guardian_name="Karin Exempel",
                                      guardian_contact="karin@example.test", guardian_consent=True), headers=auth)
    assert ok.status_code == 201
    with sm.begin() as s:
        assert s.scalar(select(Registration.guardian_contact)) == "karin@example.test"


def test_not_json_is_400_problem(client, auth):
    resp = client.post(URL, data="given_names=x", headers=auth, content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    assert client.post(URL, json=["a"], headers=auth).status_code == 400


def test_no_token_is_401_problem_and_nothing_is_saved(client, sm, librarian):
    resp = client.post(URL, json=person())
    assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
    assert client.post(URL, json=person(), headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert count(sm, Patron) == 0


def test_a_token_without_the_librarian_role_is_403(client, sm, now):
    with sm.begin() as s:
        factories.staff(s, now, "producer", email="producer@test.kuulo")
    token = make_token(sm, now, "producer@test.kuulo")
    assert client.post(URL, json=person(), headers={"Authorization": f"Bearer {token}"}).status_code == 403


def test_a_librarian_without_a_library_gets_403_problem(client, sm, now):
    with sm.begin() as s:
        user = factories.staff(s, now, "admin", email="admin@test.kuulo")
        user.library_id = None
    token = make_token(sm, now, "admin@test.kuulo")
    resp = client.post(URL, json=person(), headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 403 and resp.json["type"].endswith("staff-without-library")
    assert count(sm, Patron) == 0


def test_registration_is_in_the_openapi_document(client):
    doc = client.get("/api/openapi.json").json
    op = doc["paths"]["/api/v1/registrations"]["post"]
    assert {"200", "201", "401", "409", "422"} <= set(op["responses"])
    assert op["parameters"][0]["name"] == "Idempotency-Key"
    props = doc["components"]["schemas"]["RegistrationRequest"]["properties"]
    assert props["eligibility_basis"]["enum"] == ["visual_impairment", "reading_disability", "physical_disability",
                                                  "intellectual_disability", "memory_disorder", "other"]


class Closed:
    def __init__(self, now):
        self.now = now

    def closure(self, component, now, language):
        if component != "registration":
            return None
        return gate.Closure(component, self.now + timedelta(hours=1), "http://kuulo.test/status/1", "Maintenance")


@pytest.fixture()
def registration_closed(now):
    gate.set_provider(Closed(now))
    yield
    gate.set_provider(None)


def test_closed_for_maintenance_the_api_says_503_and_saves_nothing(client, auth, sm, registration_closed):
    resp = client.post(URL, json=person(), headers=auth)
    assert resp.status_code == 503 and resp.mimetype == "application/problem+json"
    assert resp.headers["Retry-After"] == str(3600 + 1)
    assert count(sm, Patron) == 0


def test_closed_for_maintenance_the_form_says_so(staff_client, sm, registration_closed):
    assert staff_client.get("/staff/registrations/new").status_code == 503
    resp = staff_client.post("/staff/registrations/new", data=person())
    assert resp.status_code == 503 and "temporarily closed" in resp.text
    assert count(sm, Patron) == 0
