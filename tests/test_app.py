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



def _pooled_connections(app):
    from app import db

    return list(db.engine(app).pool._pool.queue)  # the connection records waiting in the pool


def _kill_the_apps_connections(app):
    """What a database restart does to pooled connections: the server ends them."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from app import db

    admin = create_engine(db.engine(app).url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    admin.dispose()


def test_pooled_connections_are_pinged_only_after_sitting_idle(app, client, monkeypatch):
    """No round trip per checkout under load; a connection idle longer than DATABASE_PING_AFTER_SECONDS
    that the server dropped meanwhile (a database restart) is replaced before a request uses it."""
    from app import db

    engine = db.engine(app)
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL connections")
    pings = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(1) or real_ping(conn))
    unknown_token = {"Authorization": "Bearer not-a-token"}
    for _ in range(3):
        assert client.get("/api/v1/loans", headers=unknown_token).status_code == 401  # after a token lookup
    assert pings == [] and _pooled_connections(app)

    for record in _pooled_connections(app):  # as if unused for longer than the limit
        record.info[db.IDLE_SINCE] -= app.config["DATABASE_PING_AFTER_SECONDS"] + 1
    _kill_the_apps_connections(app)
    assert client.get("/api/v1/loans", headers=unknown_token).status_code == 401
    assert pings == [1]  # the idle connection was pinged, found dead and replaced; the request never saw it
