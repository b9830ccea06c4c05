"""JSON API authentication answers: 403 for a valid token of the wrong kind, and a challenge on every 401."""
from __future__ import annotations

import base64
import re

from app.accounts import service
from tests import factories

BEARER = 'Bearer realm="kuulo"'
BASIC = 'Basic realm="kuulo"'
# Answered without a token by design (as in tests/test_route_security.py), and the payment provider's callback,
# which authenticates by a signature in its parameters (no scheme a client could be challenged with).
PUBLIC_API = re.compile(r"^/api/(openapi\.json|v2/.*|v1/token|v1/clubs.*|v1/institution-applications"
                        r"|v1/circulation/payments/paytrail/.*)$")


def tokens(sm, now) -> dict[str, dict[str, str]]:
    with sm.begin() as s:
        librarian = factories.staff(s, now, "librarian", "reviewer", "producer", "status_editor")
        patron = factories.patron(s, now)
        staff_raw, _ = service.issue_token(s, now=now, days=30, staff=librarian)
        patron_raw, _ = service.issue_token(s, now=now, days=30, patron=patron)
    return {"staff": {"Authorization": f"Bearer {staff_raw}"}, "patron": {"Authorization": f"Bearer {patron_raw}"}}


def basic(card: str, pin: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{card}:{pin}".encode()).decode()}


def test_a_patron_device_token_on_a_staff_api_is_403_not_401(client, sm, now):
    headers = tokens(sm, now)["patron"]
    resp = client.post("/api/v1/registrations", json={}, headers=headers)
    assert resp.status_code == 403 and resp.mimetype == "application/problem+json"
    assert resp.json["type"].endswith("/forbidden") and resp.json["required_token"] == "staff"
    assert "staff API token" in resp.json["detail"] and "WWW-Authenticate" not in resp.headers
    assert client.get("/api/v1/circulation/patrons/1/account", headers=headers).status_code == 403


def test_a_staff_token_on_a_patron_api_is_403(client, sm, now):
    headers = tokens(sm, now)["staff"]
    for method, url in (("GET", "/api/v1/tokens"), ("GET", "/api/v1/circulation/me/account"),
                        ("GET", "/api/v1/loans"), ("GET", "/api/v1/books/1/manifest"),
                        ("POST", "/api/v1/books/1/borrow")):
        resp = client.open(url, method=method, headers=headers)
        assert resp.status_code == 403, (url, resp.status_code)
        assert resp.json["required_token"] == "patron" and "device token" in resp.json["detail"], url


def test_a_revoked_or_unknown_token_is_still_401_with_the_challenge(client, sm, now):
    headers = tokens(sm, now)["patron"]
    assert client.delete("/api/v1/token", headers=headers).status_code == 204  # revoked now
    for auth in (headers, {"Authorization": "Bearer not-a-token"}):
        resp = client.post("/api/v1/registrations", json={}, headers=auth)
        assert resp.status_code == 401 and resp.headers["WWW-Authenticate"] == BEARER


TERMINAL_API = {"/api/v1/self-service/door-checks"}


def test_every_401_of_the_json_api_carries_www_authenticate(app, client):
    checked = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or PUBLIC_API.match(rule.rule):
            continue
        takes_basic = rule.endpoint.startswith("lending_api.")  # the reader-app API also takes card + PIN
        url = re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for auth in ({}, {"Authorization": "Bearer wrong"}, basic("2000000001", "0000")):
                resp = client.open(url, method=method, headers=auth)
                if resp.status_code != 401:
                    continue
                challenge = resp.headers.get("WWW-Authenticate", "")
                if rule.rule in TERMINAL_API:  # self-service terminals sign in with their own Basic credentials
                    assert challenge.startswith("Basic realm="), (method, rule.rule, challenge)
                else:
                    assert challenge.startswith(BEARER), (method, rule.rule, challenge)
                    assert (BASIC in challenge) == takes_basic, (method, rule.rule, challenge)
                checked.add(rule.endpoint)
    assert {"registration_api.create_registration", "accounts_api.list_tokens", "lending_api.borrow"} <= checked


def test_the_token_endpoint_challenges_with_basic(client, sm, now):
    with sm.begin() as s:
        card = factories.patron(s, now).card_number
    for headers in ({}, basic(card, "0000"), basic("2999999999", "1234")):
        resp = client.post("/api/v1/token", headers=headers)
        assert resp.status_code == 401 and resp.headers["WWW-Authenticate"] == f"{BEARER}, {BASIC}"
