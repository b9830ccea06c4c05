"""Hostile request bodies get a clear 4xx problem+json and save nothing — never a 500 (the robustness
issue's reproductions, on the two JSON endpoints that take the most personal data: a librarian's
registration and the public institution application)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.accounts import service as accounts
from app.institutions.models import InstitutionApplication
from app.registration.models import Registration
from tests import factories
from tests.institutions.helpers import application
from tests.registration.conftest import librarian, make_token, person  # noqa: F401 - the fixture

REGISTRATIONS, APPLICATIONS = "/api/v1/registrations", "/api/v1/institution-applications"


@pytest.fixture()
def auth(sm, now, librarian):  # noqa: F811
    return {"Authorization": f"Bearer {make_token(sm, now, librarian['email'])}"}


@pytest.fixture(autouse=True)
def nothing_saved(sm):
    yield
    with sm.begin() as s:
        assert s.scalar(select(func.count()).select_from(Registration)) == 0
        assert s.scalar(select(func.count()).select_from(InstitutionApplication)) == 0


def post(client, url, raw: bytes | str, headers=None):
    data = raw.encode() if isinstance(raw, str) else raw
    return client.post(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})


def problem_of(resp, status):
    assert resp.status_code == status, resp.text[:300]
    assert resp.mimetype == "application/problem+json"
    return resp.json


def fields(body) -> dict[str, str]:
    return {e["field"]: e["message"] for e in body["errors"]}


@pytest.fixture(params=["registration", "application"])
def endpoint(request, auth):
    return (REGISTRATIONS, auth, person) if request.param == "registration" else (APPLICATIONS, {}, application)


def test_json_nested_2000_levels_deep_is_400(client, endpoint):
    url, headers, _ = endpoint
    body = problem_of(post(client, url, '{"a":' + "[" * 2000 + "]" * 2000 + "}", headers), 400)
    assert "nested too deeply" in body["detail"]


def test_json_nested_deeper_than_python_can_parse_is_400(client, endpoint):
    url, headers, _ = endpoint
    problem_of(post(client, url, "[" * 100_000 + "]" * 100_000, headers), 400)


@pytest.mark.parametrize("raw", ['{"given_names":', "[null, null]", '"text"', "12", "null", "{'a': 1}",
                                 '{"a": NaN}', '{"a": 1' + "0" * 5000 + "}"])
def test_malformed_json_and_bodies_that_are_not_objects_are_400(client, endpoint, raw):
    url, headers, _ = endpoint
    problem_of(post(client, url, raw, headers), 400)


def test_a_body_that_is_not_utf8_is_400(client, endpoint):
    url, headers, make = endpoint
    problem_of(post(client, url, json.dumps(make()).encode("utf-16"), headers), 400)


@pytest.mark.parametrize("field", ["surname", "city"])
def test_a_lone_surrogate_is_422_naming_the_field(client, auth, field):
    raw = json.dumps(person(**{field: "Te\ud800st"}))  # json.dumps writes it as the escape \ud800
    body = problem_of(post(client, REGISTRATIONS, raw, auth), 422)
    assert list(fields(body)) == [field]
    assert "cannot be stored" in fields(body)[field]


def test_a_lone_surrogate_in_the_eligibility_note_is_422(client, auth):
    body = problem_of(post(client, REGISTRATIONS, json.dumps(person(eligibility_note="x\udfffy")), auth), 422)
    assert list(fields(body)) == ["eligibility_note"]


@pytest.mark.parametrize("where", ["name", "responsible_person.surname"])
def test_a_nul_byte_or_surrogate_in_an_institution_application_is_422(client, where):
    body = application()
    if where == "name":
        body["name"] = "Kou\u0000lu"
    else:
        body["responsible_person"]["surname"] = "Vir\ud83dtanen"
    assert list(fields(problem_of(post(client, APPLICATIONS, json.dumps(body)), 422))) == [where]


def test_wrong_json_types_are_422_naming_each_field(client, endpoint):
    url, headers, make = endpoint
    body = make()
    body.update({"city": 12, "postal_code": ["00100"], "email": None})
    names = fields(problem_of(post(client, url, json.dumps(body), headers), 422))
    assert set(names) == {"city", "postal_code", "email"}


def test_the_messages_are_translated(client, auth):
    raw = json.dumps(person(city=12))
    resp = post(client, REGISTRATIONS, raw, {**auth, "Accept-Language": "fi"})
    assert fields(problem_of(resp, 422))["city"] == "Lähetä tekstiä."
    resp = post(client, REGISTRATIONS, raw, {**auth, "Accept-Language": "sv"})
    assert fields(problem_of(resp, 422))["city"] == "Skicka text."


def test_a_json_body_over_1_mib_is_413_even_on_the_public_api(client):
    body = application()
    body["notes"] = "x" * (2 * 1024 * 1024)
    problem_of(post(client, APPLICATIONS, json.dumps(body)), 413)


def test_ids_beyond_the_databases_integer_are_404_in_paths(client, auth):
    for url in ("/api/v1/clubs/2147483648", "/api/v1/clubs/99999999999999999999999",
                "/api/v1/institution-applications/2147483648"):
        problem_of(client.get(url, headers=auth), 404)


def test_ids_beyond_the_databases_integer_are_422_in_bodies(client, sm, now):
    with sm.begin() as s:
        patron = factories.patron(s, now, card_number="2000000001")
        raw, _ = accounts.issue_token(s, now=now, days=30, patron=patron, name="test")
    resp = client.post("/api/v1/club-memberships", json={"club_id": 2147483648},
                       headers={"Authorization": f"Bearer {raw}"})
    assert list(fields(problem_of(resp, 422))) == ["club_id"]
    resp = client.post("/api/v1/club-memberships", json={"club_id": "1"}, headers={"Authorization": f"Bearer {raw}"})
    assert list(fields(problem_of(resp, 422))) == ["club_id"]


def test_an_upload_larger_than_the_document_limit_is_413_before_anything_is_read(app, client):
    limit = app.config["INSTITUTIONS_DOCUMENT_MAX_BYTES"]
    assert app.config["MAX_CONTENT_LENGTH"] == limit + 1024 * 1024
    body = b"x" * (limit + 2 * 1024 * 1024)
    resp = client.post("/institutions/apply", data=body, headers={"Content-Type": "multipart/form-data; boundary=x",
                                                                   "Accept-Language": "en"})
    assert resp.status_code == 413 and resp.mimetype == "text/html"
    assert "too large" in resp.text
