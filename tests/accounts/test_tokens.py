"""Reader-app device tokens: issued for card + PIN, stored hashed, expiring, listed, revocable."""
from __future__ import annotations

import base64
from datetime import timedelta

from app.accounts import service
from app.accounts.models import ApiToken
from tests import factories


def basic(card: str, pin: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{card}:{pin}".encode()).decode()}


def test_token_for_card_and_pin_then_list_and_revoke(client, sm, now):
    with sm.begin() as s:
        card = factories.patron(s, now).card_number
    resp = client.post("/api/v1/token", headers=basic(card, "1234"), json={"device_name": "Pratsam Reader"})
    assert resp.status_code == 201
    token = resp.json["access_token"]
    with sm.begin() as s:
        stored = s.query(ApiToken).one()
        assert stored.token_hash != token and len(stored.token_hash) == 64
    auth = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/tokens", headers=auth).json["tokens"]
    assert listed[0]["name"] == "Pratsam Reader" and listed[0]["current"] and "access_token" not in listed[0]
    assert client.delete("/api/v1/token", headers=auth).status_code == 204
    assert client.get("/api/v1/tokens", headers=auth).status_code == 401


def test_wrong_pin_is_401_and_lockout_is_429_with_retry_after(client, sm, now):
    with sm.begin() as s:
        card = factories.patron(s, now).card_number
    for _ in range(9):
        assert client.post("/api/v1/token", headers=basic(card, "0000")).status_code == 401
    resp = client.post("/api/v1/token", headers=basic(card, "0000"))
    assert resp.status_code == 429 and resp.mimetype == "application/problem+json"
    assert int(resp.headers["Retry-After"]) > 0
    assert client.post("/api/v1/token", headers=basic(card, "1234")).status_code == 429


def test_password_does_not_open_the_pin_api(client, sm, now):
    with sm.begin() as s:
        p = factories.patron(s, now)
        service.set_patron_secret(s, p, password="kirja2026", now=now, actor="test")
        card = p.card_number
    assert client.post("/api/v1/token", headers=basic(card, "kirja2026")).status_code == 401


def test_expired_token_is_refused(sm, now):
    with sm.begin() as s:
        p = factories.patron(s, now)
        raw, _ = service.issue_token(s, now=now, days=90, patron=p)
    with sm.begin() as s:
        assert service.token_from_bearer(s, raw, now + timedelta(days=89)) is not None
        assert service.token_from_bearer(s, raw, now + timedelta(days=90)) is None


def test_patron_signs_a_device_out_from_the_account_page(client, sm, now):
    with sm.begin() as s:
        p = factories.patron(s, now)
        raw, tok = service.issue_token(s, now=now, days=90, patron=p, name="BARD Mobile")
        card, token_id = p.card_number, tok.id
    factories.login_patron(client, card)
    page = client.get("/account").text
    assert "BARD Mobile" in page
    client.post(f"/account/devices/{token_id}/revoke")
    assert "signed out" in client.get("/account").text
    with sm.begin() as s:
        assert service.token_from_bearer(s, raw, now) is None


def test_a_patron_cannot_revoke_someone_elses_token(client, sm, now):
    with sm.begin() as s:
        a = factories.patron(s, now, email="a@x.test")
        b = factories.patron(s, now, email="b@x.test")
        _, tok = service.issue_token(s, now=now, days=90, patron=b)
        card, token_id = a.card_number, tok.id
    factories.login_patron(client, card)
    assert client.post(f"/account/devices/{token_id}/revoke").status_code == 404
