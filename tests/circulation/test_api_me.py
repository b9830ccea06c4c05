"""The patron's own `me` endpoints of issue 18, with a device token and with the browser's login (changes need
the page's CSRF token): profile and its changes, cards and reporting one lost, dependants, pausing and
resuming a hold, the loan-history setting. Every answer is checked against its declaration (API_CHECK_RESPONSES)."""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from app.accounts import service as accounts
from app.accounts.models import Patron
from app.circulation import service
from app.circulation.models import PatronCirculation
from tests import factories
from tests.circulation import helpers
from tests.circulation.helpers import HOME, borrower, item, lend

ME = "/api/v1/circulation/me"


@pytest.fixture(autouse=True)
def libraries(app: Any, sm: Any, now: Any) -> None:
    app.config["FAKE_NOW"] = now.isoformat()  # the pages' clock is the test's
    with app.app_context(), sm.begin() as s:
        helpers.build_libraries(s, now)


def token_of(sm: Any, now: Any, patron_id: int) -> dict[str, str]:
    with sm.begin() as s:
        raw, _tok = accounts.issue_token(s, now=now, days=30, patron=s.get(Patron, patron_id))
    return {"Authorization": f"Bearer {raw}"}


def make(app: Any, sm: Any, now: Any, library: str = "lumme", **kw: Any) -> int:
    with app.app_context(), sm.begin() as s:
        return borrower(s, now, library, **kw)


def test_profile_read_and_changed_by_a_device_token(app, client, sm, now):
    me = make(app, sm, now, "lumme", phone="+358 40 111 2222")
    auth = token_of(sm, now, me)
    assert client.get(f"{ME}/profile").status_code == 401
    profile = client.get(f"{ME}/profile", headers=auth)
    assert profile.status_code == 200
    body = profile.json
    assert body["phone"] == "+358 40 111 2222" and body["library"] == "Lumme library"
    assert "name" not in body["editable"] and "email" in body["editable"]
    changed = client.patch(f"{ME}/profile", headers=auth, json={
        "email": "new@test.kuulo", "notice_channels": ["email", "sms"], "receipts_by_email": True,
        "hold_nickname": "Kirjatoukka"})
    assert changed.status_code == 200, changed.text
    assert (changed.json["email"], changed.json["notice_channels"], changed.json["hold_nickname"]) == \
        ("new@test.kuulo", ["email", "sms"], "Kirjatoukka")
    assert changed.json["phone"] == "+358 40 111 2222"  # not given: unchanged
    assert client.patch(f"{ME}/profile", headers=auth, json={"email": "not an address"}).status_code == 422
    assert client.patch(f"{ME}/profile", headers=auth, json={"notice_channels": ["pigeon"]}).status_code == 422
    rng = body["advance_notice_range"]
    if rng is not None:
        too_many = client.patch(f"{ME}/profile", headers=auth, json={"advance_notice_days": rng["max"] + 1})
        assert too_many.status_code == 422 and too_many.json["type"].endswith("advance-notice-days-invalid")
        ok = client.patch(f"{ME}/profile", headers=auth, json={"advance_notice_days": rng["min"]})
        assert ok.json["advance_notice_days"] == rng["min"]
        cleared = client.patch(f"{ME}/profile", headers=auth, json={"advance_notice_days": None})
        assert cleared.json["advance_notice_days"] is None


def test_cards_listed_and_one_reported_lost_with_the_browser_session_and_csrf(app, client, sm, now):
    me = make(app, sm, now, "tampere")
    with sm.begin() as s:
        number = s.get(Patron, me).card_number
    assert factories.login_patron(client, number).status_code == 302
    cards = client.get(f"{ME}/cards")
    assert cards.status_code == 200
    [card] = cards.json["cards"]
    assert (card["number"], card["status"], card["primary"]) == (number, "active", True)
    assert cards.json["replacement_fee"]["amount"] == "5.00"  # tampere.toml
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"{ME}/cards/{card['card_id']}/lost").status_code == 403  # no X-CSRFToken
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/account/cards").text).group(1)
    lost = client.post(f"{ME}/cards/{card['card_id']}/lost", headers={"X-CSRFToken": token})
    assert lost.status_code == 200 and lost.json["status"] == "lost" and lost.json["lost_at"]
    again = client.post(f"{ME}/cards/{card['card_id']}/lost", headers={"X-CSRFToken": token})
    assert again.status_code == 409 and again.json["reason"] == "card_not_active"
    assert client.post(f"{ME}/cards/2147483647/lost", headers={"X-CSRFToken": token}).status_code == 404
    # the lost card no longer gives a token
    assert client.post("/api/v1/token", auth=(number, factories.PIN)).status_code == 401


def test_dependants_of_a_guardian(app, client, sm, now):
    guardian = make(app, sm, now)
    child = make(app, sm, now, category="child", birth_date=date(2016, 5, 1), guardian_id=guardian)
    answer = client.get(f"{ME}/dependants", headers=token_of(sm, now, guardian))
    assert answer.status_code == 200
    assert [(d["patron_id"], d["kind"]) for d in answer.json["dependants"]] == [(child, "person")]
    assert client.get(f"{ME}/dependants", headers=token_of(sm, now, child)).json == {"dependants": []}


def test_a_waiting_hold_is_paused_and_resumed(app, client, sm, now):
    me, other = make(app, sm, now), make(app, sm, now)
    with app.app_context(), sm.begin() as s:
        barcode = item(s, now, "lumme")
        lend(s, now - timedelta(days=2), "lumme", other, barcode)
        hold_id = service.place_hold(s, patron_id=me, item_barcode=barcode, now=now, actor="t").hold.id
    auth = token_of(sm, now, me)
    later = (now.date() + timedelta(days=20)).isoformat()
    paused = client.post(f"{ME}/holds/{hold_id}/pause", headers=auth, json={"until": later})
    assert paused.status_code == 200 and paused.json == {"hold_id": hold_id, "state": "suspended",
                                                          "suspended_until": later}
    twice = client.post(f"{ME}/holds/{hold_id}/pause", headers=auth, json={})
    assert twice.status_code == 409 and twice.json["reason"] == "hold_not_waiting"
    holds = client.get(f"{ME}/holds", headers=auth).json["holds"]
    assert holds[0]["state"] == "suspended" and holds[0]["suspended_until"] == later
    resumed = client.post(f"{ME}/holds/{hold_id}/resume", headers=auth)
    assert resumed.status_code == 200 and resumed.json["state"] == "waiting"
    assert client.post(f"{ME}/holds/{hold_id}/resume", headers=auth).json["reason"] == "hold_not_suspended"
    past = client.post(f"{ME}/holds/{hold_id}/pause", headers=auth, json={"until": "2001-01-01"})
    assert past.status_code == 409 and past.json["reason"] == "suspension_date_invalid"
    assert client.post(f"{ME}/holds/{hold_id}/pause", headers=auth, json={"until": "soon"}).status_code == 422
    assert client.post(f"{ME}/holds/{hold_id}/pause", headers=token_of(sm, now, other), json={}).status_code == 404


def test_loan_history_setting_entries_and_deletion(app, client, sm, now):
    me = make(app, sm, now)
    auth = token_of(sm, now, me)
    first = client.get(f"{ME}/loan-history", headers=auth)
    assert first.status_code == 200 and first.json["setting"]["enabled"] is False and first.json["entries"] == []
    on = client.put(f"{ME}/loan-history/setting", headers=auth, json={"enabled": True})
    assert on.status_code == 200 and on.json["enabled"] is True and on.json["changed_at"]
    with app.app_context(), sm.begin() as s:
        barcode = item(s, now, "lumme")
        lend(s, now - timedelta(days=1), "lumme", me, barcode)
        service.checkin(s, item_barcode=barcode, branch=HOME["lumme"], now=now, actor="test")
    listed = client.get(f"{ME}/loan-history", headers=auth).json
    assert [e["title"] for e in listed["entries"]] == [f"Title {barcode}"] and listed["setting"]["entries"] == 1
    assert client.put(f"{ME}/loan-history/setting", headers=auth, json={"enabled": "yes"}).status_code == 422
    assert client.delete(f"{ME}/loan-history", headers=auth).status_code == 204
    assert client.get(f"{ME}/loan-history", headers=auth).json["entries"] == []


def test_a_patron_who_borrows_nothing_gets_404_not_500(app, client, sm, now):
    with sm.begin() as s:
        lone = factories.patron(s, now, email="lone@test.kuulo").id
        assert s.get(PatronCirculation, lone) is None
    auth = token_of(sm, now, lone)
    assert client.get(f"{ME}/profile", headers=auth).status_code == 404
    assert client.get(f"{ME}/cards", headers=auth).status_code == 404
    assert client.get(f"{ME}/dependants", headers=auth).status_code == 200
