"""Payments: Tampere's online rules [003], Paytrail's signatures, booking exactly once; desk payments."""
from __future__ import annotations

import json
import threading
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import func, select

from app.circulation import service
from app.circulation.models import FeeEntry, PatronCirculation, Payment
from app.circulation.paytrail import PaytrailProvider, signature
from app.circulation.service_common import add_fee
from app.errors import DomainError
from tests.circulation.conftest import is_postgres
from tests.circulation.fake_paytrail import FakePaytrail, provider
from tests.circulation.helpers import borrower, money

pytestmark = pytest.mark.usefixtures("libraries")


def charge(s, now, patron, amount, kind="overdue_fine", library="tampere"):
    add_fee(s, patron_id=patron, library_id=s.get(PatronCirculation, patron).library_id, kind=kind,
            amount=money(library, amount), reason="test", now=now, actor="test", dedup_key=None)


def start(s, now, patron, fake):
    return service.start_online_payment(s, patron_id=patron, provider=provider(fake), return_url="http://k/return",
                                        callback_url="http://k/callback", now=now, actor="patron")


def test_paytrail_signatures_match_the_published_examples():
    body = {"stamp": "should-be-unique-for-merchant", "reference": "3759170", "amount": 1525, "currency": "EUR",
            "language": "FI", "items": [{"unitPrice": 1525, "units": 1, "vatPercentage": 24, "productCode": "#1234",
                                         "deliveryDate": "2018-09-01"}],
            "customer": {"email": "test.customer@example.com"},
            "redirectUrls": {"success": "https://ecom.example.com/cart/success",
                             "cancel": "https://ecom.example.com/cart/cancel"}}
    headers = {"checkout-account": "375917", "checkout-algorithm": "sha256", "checkout-method": "POST"}
    assert signature("SAIPPUAKAUPPIAS", headers, json.dumps(body, separators=(",", ":"))) == \
        "84b454005a4f087076ad86cee8b4a646b18982998de7221db57646743cda7b81"
    redirect = dict(parse_qsl(
        "checkout-account=375917&checkout-algorithm=sha256&checkout-amount=2964&checkout-stamp=15336332710015"
        "&checkout-reference=192387192837195&checkout-transaction-id=4b300af6-9a22-11e8-9184-abb6de7fd2d0"
        "&checkout-status=ok&checkout-provider=nordea"
        "&signature=b2d3ecdda2c04563a4638fcade3d4e77dfdc58829b429ad2c2cb422d0fc64080"))
    paytrail = PaytrailProvider(account="375917", secret="SAIPPUAKAUPPIAS")
    assert paytrail.verify_return(redirect).amount_minor == 2964
    assert paytrail.verify_return({**redirect, "checkout-amount": "1"}) is None


def test_online_payment_of_2_99_is_refused_3_00_is_allowed(sm, now, ctx):
    fake = FakePaytrail()
    with sm.begin() as s:
        small, enough = borrower(s, now, "tampere"), borrower(s, now, "tampere")
        charge(s, now, small, "2.99")
        charge(s, now, enough, "3.00")
        refused = start(s, now, small, fake).decision
        assert (refused.reason, str(refused.details["minimum"])) == ("below_minimum", "3.00 EUR")  # [003]
        started = start(s, now, enough, fake)
        assert started.href.startswith("https://pay.example/pay/") and started.payment.amount_minor == 300


def test_online_payment_refused_while_a_replacement_fee_is_outstanding(sm, now, ctx):
    with sm.begin() as s:
        patron = borrower(s, now, "tampere")
        charge(s, now, patron, "4.00")
        charge(s, now, patron, "40.00", kind="lost_item_replacement")
        assert start(s, now, patron, FakePaytrail()).decision.reason == "replacement_fee_outstanding"  # [003]


def test_only_borrowing_fees_are_paid_online_as_a_whole(sm, now, ctx):
    fake = FakePaytrail()
    with sm.begin() as s:
        patron = borrower(s, now, "tampere")
        charge(s, now, patron, "4.00")
        charge(s, now, patron, "5.00", kind="replacement_card")  # not borrowing-related: desk only
        assert service.start_online_payment(
            s, patron_id=patron, provider=provider(fake), return_url="r", callback_url="c", now=now, actor="p",
            amount=money("tampere", "3.00")).decision.reason == "partial_not_allowed"
        started = start(s, now, patron, fake)
        assert started.payment.amount_minor == 400


def test_return_and_callback_book_the_payment_once(sm, now, ctx):
    fake = FakePaytrail()
    with sm.begin() as s:
        patron = borrower(s, now, "tampere")
        charge(s, now, patron, "10.50")
        assert service.recompute_billing_ban(s, patron, now=now)
        transaction = start(s, now, patron, fake).payment.details["transaction_id"]
    params = fake.result(transaction)
    outcomes = []
    for _arrival in ("return", "callback", "return again"):
        with sm.begin() as s:
            outcomes.append(service.book_online_payment(s, params, provider=provider(fake), now=now).outcome)
    assert outcomes == ["booked", "already_booked", "already_booked"]
    with sm.begin() as s:
        assert s.scalar(select(func.count()).select_from(FeeEntry).where(FeeEntry.kind == "payment")) == 1
        assert service.patron_account_summary(s, patron, now=now).balance == money("tampere", "0.00")
        assert not s.get(PatronCirculation, patron).billing_banned  # lifted when paid [001,003]
        assert s.scalar(select(Payment.provider_reference)) == transaction


def test_tampered_or_wrong_amount_results_are_not_booked(sm, now, ctx):
    fake = FakePaytrail()
    with sm.begin() as s:
        patron = borrower(s, now, "tampere")
        charge(s, now, patron, "5.00")
        transaction = start(s, now, patron, fake).payment.details["transaction_id"]
        forged = fake.result(transaction, secret="not-the-secret")
        with pytest.raises(DomainError) as error:
            service.book_online_payment(s, forged, provider=provider(fake), now=now)
        assert error.value.status == 401
        assert service.book_online_payment(s, fake.result(transaction, amount=1), provider=provider(fake),
                                           now=now).outcome == "amount_mismatch"
        assert service.book_online_payment(s, fake.result(transaction, status="fail"), provider=provider(fake),
                                           now=now).outcome == "failed"
        assert service.patron_account_summary(s, patron, now=now).balance == money("tampere", "5.00")


def test_desk_payment_pays_the_oldest_fees_first(sm, now, ctx):
    with sm.begin() as s:
        patron = borrower(s, now, "czech")
        charge(s, now, patron, "100.00", kind="notice_fee", library="czech")
        charge(s, now, patron, "4.00", library="czech")
        service.pay_at_desk(s, patron_id=patron, amount=money("czech", "102.00"), now=now, actor="staff")
        left = service.outstanding_debits(s, patron)
        assert [(d.kind, str(d.outstanding)) for d in left] == [("overdue_fine", "2.00 CZK")]


@pytest.mark.postgres
def test_return_and_callback_at_the_same_moment_book_once(sm, now, ctx, database_url):
    if not is_postgres(database_url):
        pytest.skip("needs PostgreSQL (KUULO_TEST_DATABASE_URL)")
    fake = FakePaytrail()
    with sm.begin() as s:
        patron = borrower(s, now, "tampere")
        charge(s, now, patron, "6.00")
        transaction = start(s, now, patron, fake).payment.details["transaction_id"]
    params, barrier, outcomes = fake.result(transaction), threading.Barrier(4), []

    def arrive() -> None:
        with ctx.app_context(), sm() as s:
            barrier.wait()
            outcomes.append(service.book_online_payment(s, params, provider=provider(fake), now=now).outcome)
            s.commit()

    threads = [threading.Thread(target=arrive) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already_booked"] * 3 + ["booked"]
    with sm.begin() as s:
        assert s.scalar(select(func.sum(FeeEntry.amount_minor)).where(FeeEntry.patron_id == patron)) == 0
