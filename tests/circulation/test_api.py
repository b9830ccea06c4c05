"""The circulation JSON API: desk operations with a staff token, the patron's own account with a
device token, problem+json with reason codes, Paytrail's signed return and callback, OpenAPI."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.accounts import service as accounts
from app.accounts.models import Patron
from app.circulation.models import FeeEntry, PatronCirculation
from app.circulation.service_common import add_fee
from tests import factories
from tests.circulation.fake_paytrail import FakePaytrail
from tests.circulation.helpers import borrower, item, lend, money

pytestmark = pytest.mark.usefixtures("libraries")


@pytest.fixture()
def staff_token(sm: Any, now: Any) -> dict[str, str]:
    with sm.begin() as s:
        user = factories.staff(s, now, "librarian", email="desk@test.kuulo")
        raw, _tok = accounts.issue_token(s, now=now, days=30, staff=user)
    return {"Authorization": f"Bearer {raw}"}


def patron_token(sm: Any, now: Any, patron_id: int) -> dict[str, str]:
    with sm.begin() as s:
        raw, _tok = accounts.issue_token(s, now=now, days=30, patron=s.get(Patron, patron_id))
    return {"Authorization": f"Bearer {raw}"}


def card_of(sm: Any, patron_id: int) -> str:
    with sm.begin() as s:
        return s.get(Patron, patron_id).card_number


def test_desk_checkout_renew_and_checkin(client, sm, now, staff_token):
    with sm.begin() as s:
        patron = borrower(s, now, "lumme")
        barcode = item(s, now, "lumme")
    card = card_of(sm, patron)
    made = client.post("/api/v1/circulation/checkouts", headers=staff_token,
                       json={"card_number": card, "item_barcode": barcode, "branch": "mikkeli"})
    assert made.status_code == 201 and made.json["due_at"].startswith("2026-12-21T19:00:00")
    again = client.post("/api/v1/circulation/checkouts", headers=staff_token,
                        json={"card_number": card, "item_barcode": barcode, "branch": "mikkeli"})
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert again.json["reason"] == "item_not_available"
    assert again.json["type"].endswith("/circulation-item-not-available")
    renewed = client.post("/api/v1/circulation/renewals", headers=staff_token, json={"card_number": card})
    assert renewed.status_code == 200 and renewed.json["results"][0]["reason"] == "too_soon"
    back = client.post("/api/v1/circulation/checkins", headers=staff_token,
                       json={"item_barcode": barcode, "branch": "savonlinna", "book_drop": False})
    assert back.status_code == 200 and back.json["routing"] == {"action": "shelf", "branch": "savonlinna",
                                                                 "hold_id": None}


def test_validation_and_unknown_things(client, staff_token):
    missing = client.post("/api/v1/circulation/checkouts", headers=staff_token, json={})
    assert missing.status_code == 422 and {e["field"] for e in missing.json["errors"]} == {
        "card_number", "item_barcode", "branch"}
    unknown = client.post("/api/v1/circulation/checkins", headers=staff_token,
                          json={"item_barcode": "NOPE", "branch": "mikkeli"})
    assert unknown.status_code == 404 and unknown.mimetype == "application/problem+json"


def test_desk_api_needs_a_librarian_token(client, sm, now):
    assert client.post("/api/v1/circulation/checkouts", json={}).status_code == 401
    with sm.begin() as s:
        user = factories.staff(s, now, "producer", email="p@test.kuulo")
        raw, _tok = accounts.issue_token(s, now=now, days=1, staff=user)
    assert client.post("/api/v1/circulation/checkouts", json={},
                       headers={"Authorization": f"Bearer {raw}"}).status_code == 403


def test_billing_ban_refusal_carries_the_numbers(client, sm, now, staff_token):
    with sm.begin() as s:
        patron = borrower(s, now, "tampere")
        add_fee(s, patron_id=patron, library_id=s.get(PatronCirculation, patron).library_id, kind="overdue_fine",
                amount=money("tampere", "10.01"), reason="t", now=now, actor="t", dedup_key=None)
        barcode = item(s, now, "tampere")
    resp = client.post("/api/v1/circulation/checkouts", headers=staff_token,
                       json={"card_number": card_of(sm, patron), "item_barcode": barcode, "branch": "linna"})
    assert resp.status_code == 409 and resp.json["reason"] == "billing_ban"
    assert resp.json["details"]["balance"] == {"amount": "10.01", "currency": "EUR", "minor": 1001}
    assert "suspended" in resp.json["detail"]


def test_patron_account_renewals_and_holds_with_a_device_token(client, sm, now):
    with sm.begin() as s:
        patron = borrower(s, now, "tampere")
        late = lend(s, now - timedelta(days=30), "tampere", patron, item(s, now, "tampere")).id
        soon = lend(s, now - timedelta(days=26), "tampere", patron, item(s, now, "tampere")).id
        wanted = item(s, now, "tampere")
        lend(s, now, "tampere", borrower(s, now, "tampere"), wanted)
    token = patron_token(sm, now, patron)
    account = client.get("/api/v1/circulation/me/account", headers=token).json
    assert [(line["loan_id"], line["due_state"]) for line in account["loans"]] == [(late, "overdue"),
                                                                                  (soon, "due_soon")]
    assert account["loans"][0]["accruing_fine"]["amount"] == "0.40"
    assert account["balance"]["amount"] == "0.00" and account["billing_ban"]["banned"] is False
    renewed = client.post("/api/v1/circulation/me/renewals", headers=token, json={"loan_ids": [late]})
    assert renewed.json["results"][0]["renewed"] and renewed.json["results"][0]["fine_registered"]["minor"] == 40
    assert "message" not in renewed.json["results"][0]  # only a refusal says why
    assert set(renewed.json["results"][0]["details"]) == {"renewals_left"}
    placed = client.post("/api/v1/circulation/me/holds", headers=token, json={"item_barcode": wanted})
    assert placed.status_code == 201 and placed.json["queue_position"] == 1
    holds = client.get("/api/v1/circulation/me/holds", headers=token).json["holds"]
    assert holds[0]["state"] == "waiting" and holds[0]["pickup_branch"] == "linna"
    assert holds[0]["placed_at"] == now.isoformat()  # times as isoformat writes them: +00:00
    assert client.delete(f"/api/v1/circulation/me/holds/{placed.json['hold_id']}", headers=token).status_code == 204
    assert client.get("/api/v1/circulation/me/account").status_code == 401


def test_online_payment_through_the_api_and_paytrail(client, sm, now, app, monkeypatch):
    fake = FakePaytrail()
    from app.circulation import api

    monkeypatch.setattr(api, "provider_from_config", lambda config: __import__(
        "tests.circulation.fake_paytrail", fromlist=["provider"]).provider(fake))
    with sm.begin() as s:
        patron = borrower(s, now, "tampere")
        add_fee(s, patron_id=patron, library_id=s.get(PatronCirculation, patron).library_id, kind="notice_fee",
                amount=money("tampere", "4.00"), reason="t", now=now, actor="t", dedup_key=None)
    started = client.post("/api/v1/circulation/me/payments", headers=patron_token(sm, now, patron))
    assert started.status_code == 201 and started.json["amount"]["minor"] == 400
    transaction = started.json["href"].rsplit("/", 1)[1]
    params = fake.result(transaction)
    assert client.get("/api/v1/circulation/payments/paytrail/callback",
                      query_string={**params, "signature": "0" * 64}).status_code == 401
    callback = client.get("/api/v1/circulation/payments/paytrail/callback", query_string=params)
    assert callback.status_code == 200 and callback.json == {"outcome": "booked"}
    back = client.get("/api/v1/circulation/payments/paytrail/return", query_string=params)
    assert back.status_code == 303 and back.headers["Location"].endswith("payment=already_booked")
    with sm.begin() as s:
        assert s.scalar(select(func.sum(FeeEntry.amount_minor)).where(FeeEntry.patron_id == patron)) == 0


def test_staff_account_view_and_desk_payment(client, sm, now, staff_token):
    with sm.begin() as s:
        patron = borrower(s, now, "czech")
        add_fee(s, patron_id=patron, library_id=s.get(PatronCirculation, patron).library_id, kind="notice_fee",
                amount=money("czech", "100.00"), reason="t", now=now, actor="t", dedup_key=None)
    card = card_of(sm, patron)
    assert client.post(f"/api/v1/circulation/patrons/{card}/payments", headers=staff_token,
                       json={"amount": "1.505"}).status_code == 422
    assert client.post(f"/api/v1/circulation/patrons/{card}/payments", headers=staff_token,
                       json={"amount": "100.00"}).status_code == 201
    account = client.get(f"/api/v1/circulation/patrons/{card}/account", headers=staff_token).json
    assert account["balance"]["minor"] == 0 and account["patron"]["preset"] == "czech"


def test_the_api_is_in_the_openapi_description(client):
    paths = client.get("/api/openapi.json").json["paths"]
    for path in ("/api/v1/circulation/checkouts", "/api/v1/circulation/renewals", "/api/v1/circulation/checkins",
                 "/api/v1/circulation/holds", "/api/v1/circulation/me/account",
                 "/api/v1/circulation/payments/paytrail/callback"):
        assert path in paths, path
