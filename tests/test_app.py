"""The platform edge: health, problem+json, OpenAPI, languages, security headers, CSRF, role pages."""
from __future__ import annotations

import pytest

from tests import factories


def test_healthz_ok(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json["database"] == "ok"


def test_healthz_503_when_database_unreachable(database_url, tmp_path):
    from app import create_app

    # A PostgreSQL server on a closed loopback port: the engine cannot connect.
    app = create_app({"DATABASE_URL": "postgresql+psycopg://kuulo@127.0.0.1:9/kuulo", "TESTING": True})
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503
    assert resp.json["database"] == "unreachable"


def test_unknown_api_path_is_problem_json(client):
    resp = client.get("/api/v1/no-such-thing")
    assert resp.status_code == 404
    assert resp.mimetype == "application/problem+json"
    body = resp.json
    assert body["type"].endswith("/not-found") and body["status"] == 404 and body["title"]


def test_unknown_page_is_html_in_the_users_language(client):
    resp = client.get("/no-such-page", headers={"Accept-Language": "sv"})
    assert resp.status_code == 404
    assert resp.mimetype == "text/html"
    assert 'lang="sv"' in resp.text


def test_openapi_document_lists_the_token_endpoint(client):
    doc = client.get("/api/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert "post" in doc["paths"]["/api/v1/token"]


@pytest.mark.parametrize("header,expected", [("fi", "fi"), ("sv-FI,sv;q=0.9", "sv"), ("en-GB", "en"),
                                             ("de", "fi")])
def test_accept_language_picks_the_page_language(client, header, expected):
    assert f'<html lang="{expected}"' in client.get("/", headers={"Accept-Language": header}).text


def test_language_switcher_overrides_accept_language(client):
    resp = client.get("/language/en?next=/login", headers={"Accept-Language": "fi"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    assert '<html lang="en"' in client.get("/", headers={"Accept-Language": "fi"}).text


def test_language_switcher_refuses_offsite_redirects(client):
    resp = client.get("/language/en?next=//evil.example/")
    assert resp.headers["Location"] == "/"


def test_security_headers(client):
    resp = client.get("/")
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"


def test_forms_require_csrf(app_config):
    from app import create_app

    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    resp = app.test_client().post("/login", data={"card_number": "2000000001", "secret": "1234"},
                                  headers={"Accept-Language": "en"})
    assert resp.status_code == 400
    assert "sent again" in resp.text or "send the form again" in resp.text.lower()


def test_staff_route_needs_login_then_role(client, sm, now):
    assert client.get("/staff/audit").status_code == 302
    with sm.begin() as s:
        factories.staff(s, now, "librarian")
    factories.login_staff(client)
    resp = client.get("/staff/audit")
    assert resp.status_code == 403
    assert "administrator" in resp.text  # the page says which role is missing


def test_patron_cannot_open_staff_pages(client, sm, now):
    with sm.begin() as s:
        card = factories.patron(s, now).card_number
    factories.login_patron(client, card)
    assert client.get("/staff").status_code == 302


def test_money_is_formatted_per_locale(app):
    from app.i18n import money

    with app.test_request_context(headers={"Accept-Language": "fi"}):
        assert money(150, "EUR").replace("\xa0", " ") == "1,50 €"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert money(150, "EUR") == "€1.50"
        assert "CZK" in money(8000, "CZK")
