"""The circulation API under hostile input and against its declared contract: bodies that are not JSON objects
are 400, text no database can store and ids no row can have are 422 naming the field, a device token on a desk
endpoint is 403, an unreachable payment provider is the documented 503, and each refusal is documented."""
from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from app.circulation import schemas
from app.circulation.api_json import REASONS
from app.circulation.models import FeeEntry, Loan, PatronCirculation, Payment
from app.circulation.service_common import add_fee
from tests.circulation.fake_paytrail import FakePaytrail, provider
from tests.circulation.helpers import borrower, build_libraries, item, money
from tests.circulation.test_api import card_of, patron_token, staff_token  # noqa: F401 - staff_token: a fixture
from tests.conftest import closed_port

API = "/api/v1/circulation"


@pytest.fixture()
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "PAYTRAIL_API_URL": f"http://127.0.0.1:{closed_port()}"}


@pytest.fixture(autouse=True)
def libraries(app, sm, now):
    """The four presets' libraries, built in an app context of their own: each request then has its own, and
    its session is closed at its end, as in production (conftest's fixture keeps one context for the test)."""
    with app.app_context(), sm.begin() as s:
        build_libraries(s, now)


@pytest.fixture()
def desk(sm, now, staff_token):  # noqa: F811
    """A staff token, a lumme borrower's card number and an item on the shelf."""
    with sm.begin() as s:
        patron = borrower(s, now, "lumme")
        barcode = item(s, now, "lumme")
    return {"headers": staff_token, "card": card_of(sm, patron), "barcode": barcode, "patron": patron}


def post_raw(client, url: str, raw: str | bytes, headers: dict[str, str]):
    data = raw.encode() if isinstance(raw, str) else raw
    return client.post(url, data=data, headers={"Content-Type": "application/json", **headers})


def problem_of(resp, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text[:500]
    assert resp.mimetype == "application/problem+json"
    return resp.json


def fields(body: dict[str, Any]) -> dict[str, str]:
    return {e["field"]: e["message"] for e in body["errors"]}


def loans(sm) -> int:
    with sm.begin() as s:
        return s.scalar(select(func.count()).select_from(Loan))


@pytest.mark.parametrize("raw", ["[]", '[{"card_number": "1"}]', '"text"', "12", "null"])
def test_a_body_that_is_not_a_json_object_is_400(client, sm, desk, raw):
    body = problem_of(post_raw(client, f"{API}/checkouts", raw, desk["headers"]), 400)
    assert body["type"].endswith("/bad-request") and body["reason"] == "not-object"
    assert loans(sm) == 0


@pytest.mark.parametrize("raw", ['{"card_number":', "{'a': 1}", '{"book_drop": NaN}', "\xff\xfe{}"])
def test_malformed_json_is_400(client, desk, raw):
    raw_bytes = raw.encode("latin-1") if raw.startswith("\xff") else raw.encode()
    for url in (f"{API}/checkouts", f"{API}/checkins", f"{API}/renewals"):
        problem_of(post_raw(client, url, raw_bytes, desk["headers"]), 400)


def test_malformed_json_on_the_patrons_own_renewals_is_400_and_no_body_renews_all(client, sm, now, desk):
    token = patron_token(sm, now, desk["patron"])
    problem_of(post_raw(client, f"{API}/me/renewals", '{"loan_ids": [1,', token), 400)
    problem_of(post_raw(client, f"{API}/me/renewals", "[1, 2]", token), 400)
    resp = client.post(f"{API}/me/renewals", headers=token)  # no body at all: renew everything (none here)
    assert resp.status_code == 200 and resp.json == {"results": []}


@pytest.mark.parametrize(("field", "value"), [("card_number", "20\u000001"), ("card_number", "20\ud800"),
                                              ("item_barcode", "L\u00000001"), ("item_barcode", "L\udfff1")])
def test_nul_or_a_lone_surrogate_in_a_card_number_or_barcode_is_422_naming_the_field(client, sm, desk, field, value):
    body = {"card_number": desk["card"], "item_barcode": desk["barcode"], "branch": "mikkeli", field: value}
    answer = problem_of(post_raw(client, f"{API}/checkouts", json.dumps(body), desk["headers"]), 422)
    assert list(fields(answer)) == [field] and "cannot be stored" in fields(answer)[field]
    assert loans(sm) == 0


def test_nul_in_the_barcode_of_a_checkin_and_in_a_card_number_in_the_path_is_422(client, desk):
    raw = json.dumps({"item_barcode": "L\u00000001", "branch": "mikkeli"})
    assert list(fields(problem_of(post_raw(client, f"{API}/checkins", raw, desk["headers"]), 422))) == [
        "item_barcode"]
    resp = client.get(f"{API}/patrons/20%0001/account", headers=desk["headers"])
    assert list(fields(problem_of(resp, 422))) == ["card_number"]


def test_blank_and_wrongly_typed_fields_are_422_naming_each(client, desk):
    body = {"card_number": "  ", "item_barcode": 12, "branch": "mikkeli", "channel": "web"}
    answer = problem_of(post_raw(client, f"{API}/checkouts", json.dumps(body), desk["headers"]), 422)
    assert set(fields(answer)) == {"card_number", "item_barcode", "channel"}
    raw = json.dumps({"item_barcode": desk["barcode"], "branch": "mikkeli", "book_drop": "yes"})
    assert list(fields(problem_of(post_raw(client, f"{API}/checkins", raw, desk["headers"]), 422))) == ["book_drop"]


@pytest.mark.parametrize("loan_ids", [[2 ** 40], ["1"], [1.5], [True], [0]])
def test_loan_ids_beyond_the_databases_integer_or_not_whole_numbers_are_422(client, sm, now, desk, loan_ids):
    token = patron_token(sm, now, desk["patron"])
    answer = problem_of(client.post(f"{API}/me/renewals", json={"loan_ids": loan_ids}, headers=token), 422)
    assert list(fields(answer)) == ["loan_ids.0"]
    answer = problem_of(client.post(f"{API}/renewals", json={"card_number": desk["card"], "loan_ids": loan_ids},
                                    headers=desk["headers"]), 422)
    assert list(fields(answer)) == ["loan_ids.0"]


def test_loan_ids_that_are_not_a_list_are_422(client, desk):
    answer = problem_of(client.post(f"{API}/renewals", json={"card_number": desk["card"], "loan_ids": "1,2"},
                                    headers=desk["headers"]), 422)
    assert list(fields(answer)) == ["loan_ids"]


def test_a_hold_id_beyond_the_databases_integer_is_404(client, sm, now, desk):
    token = patron_token(sm, now, desk["patron"])
    for url, headers in ((f"{API}/holds/2147483648", desk["headers"]), (f"{API}/me/holds/2147483648", token),
                         (f"{API}/me/holds/99999999999999999999", token)):
        problem_of(client.delete(url, headers=headers), 404)
    problem_of(client.delete(f"{API}/holds/2147483647", headers=desk["headers"]), 404)  # the largest: no such hold


def test_a_patrons_device_token_on_a_desk_endpoint_is_403(client, sm, now, desk):
    token = patron_token(sm, now, desk["patron"])
    body = {"card_number": desk["card"], "item_barcode": desk["barcode"], "branch": "mikkeli"}
    for method, url, payload in (("POST", f"{API}/checkouts", body), ("GET", f"{API}/patrons/{desk['card']}/account",
                                                                      None),
                                 ("DELETE", f"{API}/holds/1", None)):
        answer = problem_of(client.open(url, method=method, json=payload, headers=token), 403)
        assert answer["type"].endswith("/forbidden")
    assert loans(sm) == 0


def test_a_payment_while_the_provider_is_unreachable_is_the_documented_503(client, sm, now):
    with sm.begin() as s:
        patron = borrower(s, now, "tampere")
        add_fee(s, patron_id=patron, library_id=s.get(PatronCirculation, patron).library_id, kind="notice_fee",
                amount=money("tampere", "4.00"), reason="t", now=now, actor="t", dedup_key=None)
    answer = problem_of(client.post(f"{API}/me/payments", headers=patron_token(sm, now, patron)), 503)
    assert answer["type"].endswith("/payment-provider-unavailable")
    doc = client.get("/api/openapi.json").json["paths"][f"{API}/me/payments"]["post"]["responses"]["503"]
    assert "payment-provider-unavailable" in doc["description"]
    with sm.begin() as s:  # nothing kept: no pending payment, the fee still open
        assert s.scalar(select(func.count()).select_from(Payment)) == 0
        assert s.scalar(select(func.sum(FeeEntry.amount_minor)).where(FeeEntry.patron_id == patron)) == 400


def test_paytrails_callback_takes_every_signed_parameter_and_refuses_a_bad_signature(client, sm, now, monkeypatch):
    from app.circulation import api

    fake = FakePaytrail()
    monkeypatch.setattr(api, "provider_from_config", lambda config: provider(fake))
    with sm.begin() as s:
        patron = borrower(s, now, "tampere")
        add_fee(s, patron_id=patron, library_id=s.get(PatronCirculation, patron).library_id, kind="notice_fee",
                amount=money("tampere", "4.00"), reason="t", now=now, actor="t", dedup_key=None)
    started = client.post(f"{API}/me/payments", headers=patron_token(sm, now, patron))
    assert started.status_code == 201 and started.json["allowed"] is True and started.json["reason"] is None
    assert started.json["details"] == {"amount": {"amount": "4.00", "currency": "EUR", "minor": 400}}
    transaction = started.json["href"].rsplit("/", 1)[1]
    params = fake.result(transaction)
    del params["signature"]
    params["checkout-settlement-reference"] = "RF12 3456"  # a parameter our model does not list, signed as well
    from app.circulation.paytrail import signature

    params["signature"] = signature("SAIPPUAKAUPPIAS", params, "")
    tampered = {**params, "checkout-amount": "1"}
    answer = problem_of(client.get(f"{API}/payments/paytrail/callback", query_string=tampered), 401)
    assert answer["type"].endswith("/invalid-signature")
    problem_of(client.get(f"{API}/payments/paytrail/return", query_string={"signature": "x"}), 401)
    unsafe = {**params, "checkout-reference": "1\u00002"}
    assert list(fields(problem_of(client.get(f"{API}/payments/paytrail/callback", query_string=unsafe), 422))) == [
        "checkout-reference"]
    booked = client.get(f"{API}/payments/paytrail/callback", query_string=params)
    assert booked.status_code == 200 and booked.json == {"outcome": "booked"}
    back = client.get(f"{API}/payments/paytrail/return", query_string=params)
    assert back.status_code == 303 and back.headers["Location"] == "/?payment=already_booked"


def test_refusals_are_documented_per_operation_with_their_reasons(client, sm, now, desk):
    doc = client.get("/api/openapi.json").json
    components = doc["components"]["schemas"]
    expected = {("/checkouts", "post"): "CheckoutConflict", ("/holds", "post"): "HoldRefused",
                ("/holds/{hold_id}", "delete"): "LibraryCancelRefused", ("/checkins", "post"): "CheckinConflict",
                ("/me/holds/{hold_id}", "delete"): "PatronCancelRefused", ("/me/payments", "post"): "PaymentRefused"}
    for (path, method), model in expected.items():
        conflict = doc["paths"][API + path][method]["responses"]["409"]
        assert conflict["content"]["application/problem+json"]["schema"]["$ref"].endswith("/" + model)
    assert components["HoldRefused"]["properties"]["reason"]["enum"] == list(schemas.HOLD_REASONS)
    assert components["PatronCancelRefused"]["properties"]["reason"]["enum"] == [
        "hold_not_active", "ready_hold_cancelled_by_library"]
    every = {*schemas.CHECKOUT_REASONS, *schemas.RENEWAL_REASONS, *schemas.HOLD_REASONS, *schemas.PAYMENT_REASONS,
             *schemas.PATRON_CANCEL_REASONS, *schemas.CHECKIN_REASONS}
    assert every <= set(REASONS)  # each has its text
    # and a real refusal is what its operation documents (the contract check would fail the request otherwise)
    first = client.post(f"{API}/checkouts", headers=desk["headers"],
                        json={"card_number": desk["card"], "item_barcode": desk["barcode"], "branch": "mikkeli"})
    assert first.status_code == 201
    again = problem_of(client.post(f"{API}/checkouts", headers=desk["headers"], json={
        "card_number": desk["card"], "item_barcode": desk["barcode"], "branch": "mikkeli"}), 409)
    assert again["reason"] == "item_not_available" and again["details"] == {}
