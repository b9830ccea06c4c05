"""Every staff route checks login and role; every form route is CSRF-protected; APIs answer 401."""
from __future__ import annotations

import re

from tests import factories

PUBLIC_STAFF = {"/staff/login"}
# JSON routes that answer without a token, by design.
PUBLIC_API = re.compile(r"^/api/(openapi\.json|docs|v2/.*|v1/token|v1/clubs.*|v1/records.*|v1/institution-applications)$")


def concrete(rule) -> str:
    return re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)


def staff_rules(app):
    return [r for r in app.url_map.iter_rules()
            if r.rule.startswith("/staff") and r.rule not in PUBLIC_STAFF and "GET" in r.methods]


def test_anonymous_visitors_are_sent_to_the_staff_login(app, client):
    rules = staff_rules(app)
    assert rules, "no staff routes found"
    for rule in rules:
        resp = client.get(concrete(rule))
        assert resp.status_code == 302 and "/staff/login" in resp.headers["Location"], rule.rule


def test_patrons_cannot_open_staff_routes(app, client, sm, now):
    with sm.begin() as s:
        card = factories.patron(s, now).card_number
    factories.login_patron(client, card)
    for rule in staff_rules(app):
        resp = client.get(concrete(rule))
        assert resp.status_code == 302, rule.rule


def test_staff_without_the_role_get_a_403_that_names_it(app, client, sm, now):
    with sm.begin() as s:
        factories.staff(s, now)  # no roles at all
    factories.login_staff(client)
    refused = 0
    for rule in staff_rules(app):
        if rule.rule in ("/staff", "/staff/password", "/staff/totp"):
            continue
        resp = client.get(concrete(rule))
        assert resp.status_code in (403, 404), rule.rule
        if resp.status_code == 403:
            refused += 1
            assert "This page needs the role" in resp.text, rule.rule
    assert refused >= 2


def test_private_api_routes_answer_401_problem_without_a_token(app, client):
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or PUBLIC_API.match(rule.rule):
            continue
        method = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        resp = client.open(concrete(rule), method=method)
        assert resp.status_code in (401, 404), (rule.rule, method, resp.status_code)
        assert resp.mimetype == "application/problem+json", rule.rule
        checked += 1
    assert checked >= 2


def test_only_json_blueprints_are_exempt_from_csrf(app):
    from app.security import csrf

    for bp in csrf._exempt_blueprints:
        name = getattr(bp, "name", str(bp))
        assert "api" in name, f"blueprint {name} skips CSRF but is not a JSON API"
