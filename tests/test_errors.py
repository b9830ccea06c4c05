"""Errors render: a DomainError with any params (detail, code, headers …) is problem+json or a page with its
status, and a payment while the payment provider is unreachable is the documented 503, not a 500."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.accounts import service as accounts
from app.accounts.models import Patron
from app.circulation.models import FeeEntry, PatronCirculation, Payment
from app.circulation.service_common import add_fee
from app.errors import DomainError
from tests.circulation import helpers
from tests.conftest import closed_port


@pytest.fixture()
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    # A 500 is answered and logged instead of raised into the test, as in production.
    return {**app_config, "PROPAGATE_EXCEPTIONS": False,
            "PAYTRAIL_API_URL": f"http://127.0.0.1:{closed_port()}"}


def test_a_payment_while_the_provider_is_unreachable_is_the_documented_503(app, client, sm, now):
    with app.app_context(), sm.begin() as s:
        helpers.build_libraries(s, now)
        patron = helpers.borrower(s, now, "tampere")
        add_fee(s, patron_id=patron, library_id=s.get(PatronCirculation, patron).library_id, kind="overdue_fine",
                amount=helpers.money("tampere", "4.00"), reason="test", now=now, actor="test", dedup_key=None)
        raw, _token = accounts.issue_token(s, now=now, days=30, patron=s.get(Patron, patron))
    resp = client.post("/api/v1/circulation/me/payments", headers={"Authorization": f"Bearer {raw}"})
    assert resp.status_code == 503, resp.text
    assert resp.mimetype == "application/problem+json"
    assert resp.json["type"].endswith("/payment-provider-unavailable")
    assert resp.json["title"] == "The payment service cannot be reached. Please try again later."
    assert "unreachable" in resp.json["detail"]  # the provider's own words, for the app's support people
    with sm.begin() as s:  # nothing was kept: no pending payment, the fee still open
        assert s.scalar(select(func.count()).select_from(Payment)) == 0
        assert s.scalar(select(func.sum(FeeEntry.amount_minor)).where(FeeEntry.patron_id == patron)) == 400


PARAMS = [{"detail": "the calendar has two 1 Mays"}, {"code": "tampere", "what": "library"},
          {"headers": "not a header"}, {"type": "x", "title": "y", "instance": "z", "reason": "kept"}]


@pytest.mark.parametrize("params", PARAMS, ids=lambda p: "-".join(p))
def test_a_domain_error_with_any_params_renders_as_problem_json_and_as_a_page(app, client, params):
    @app.get("/test-domain-error")
    def _raise() -> Any:
        raise DomainError("not-found", 404, **params)

    as_json = client.get("/test-domain-error", headers={"Accept": "application/json"})
    assert as_json.status_code == 404 and as_json.mimetype == "application/problem+json"
    body = as_json.json
    assert (body["type"], body["status"], body["instance"]) == (
        "https://kuulo.fi/problems/not-found", 404, "/test-domain-error")
    assert body["title"] == "The page or resource was not found."
    if "detail" in params:
        assert body["detail"] == params["detail"]
    for key in set(params) - {"detail", "headers", "type", "title", "instance"}:
        assert body[key] == params[key]
    page = client.get("/test-domain-error", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "The page or resource was not found." in page.text


def test_a_domain_error_may_name_its_status_by_keyword():
    assert DomainError("conflict", status=409, code="x").status == 409
