"""Browser-based reader apps on other origins: CORS on the reader-app API and OPDS, never on pages."""
from __future__ import annotations

ORIGIN = {"Origin": "https://reader.example"}


def test_a_preflight_for_borrowing_with_a_token_is_allowed(client):
    resp = client.options("/api/v1/books/1/borrow", headers={
        **ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"})
    assert resp.status_code == 204
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in resp.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in resp.headers  # tokens, never cookies


def test_answers_expose_what_apps_read(books, reader):
    reader.post(f"/api/v1/books/{books['mp3']}/borrow")
    loans = reader.get("/api/v1/loans", **ORIGIN)
    assert loans.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in loans.headers["Access-Control-Expose-Headers"]
    track = reader.get(f"/api/v1/books/{books['mp3']}/tracks/1", Range="bytes=0-9", **ORIGIN)
    assert track.status_code == 206 and "Content-Range" in track.headers["Access-Control-Expose-Headers"]
    unauthorized = reader.client.get("/opds/loans", headers=ORIGIN)
    assert unauthorized.status_code == 401 and unauthorized.headers["Access-Control-Allow-Origin"] == "*"
    assert "WWW-Authenticate" in unauthorized.headers["Access-Control-Expose-Headers"]


def test_a_token_can_be_had_from_another_origin(client, reader):
    resp = client.post("/api/v1/token", headers={**reader.basic, **ORIGIN}, json={"device_name": "web player"})
    assert resp.status_code == 201 and resp.headers["Access-Control-Allow-Origin"] == "*"


def test_pages_and_staff_apis_stay_same_origin(client):
    assert "Access-Control-Allow-Origin" not in client.get("/library", headers=ORIGIN).headers
    assert "Access-Control-Allow-Origin" not in client.post("/api/v1/registrations", headers=ORIGIN, json={}).headers


def test_a_preflight_passes_during_a_maintenance_break(client, maintenance):
    """The break is reported by the real request (503 + Retry-After), which the app can then read."""
    resp = client.options("/api/v1/books/1/borrow", headers={**ORIGIN, "Access-Control-Request-Method": "POST"})
    assert resp.status_code == 204
    closed = client.post("/api/v1/books/1/borrow", headers=ORIGIN)
    assert closed.status_code == 503 and closed.headers["Access-Control-Allow-Origin"] == "*"
    assert "Retry-After" in closed.headers["Access-Control-Expose-Headers"]
