"""Payments at the desk: refunds by supervisors (reason, audited, the balance unchanged), receipts as PDF
and by email, partial payments, and lost and damaged items charged the item's price plus the preset's
processing fee — through the pages and the API."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.accounts.models import Patron, StaffUser
from app.audit import AuditEvent
from app.circulation import service
from app.circulation.models import FeeEntry, Item, Loan, PatronCirculation, Payment
from app.circulation.service_common import add_fee, balance_of
from app.notify.models import OutboxMessage
from tests.circulation.helpers import borrower, item, lend, money
from tests.desk.conftest import CLERK, SUPERVISOR, login

pytestmark = pytest.mark.usefixtures("desk")


def make(sm: Any, now: Any, fee: str | None = None, **kw: Any) -> tuple[int, str]:
    with sm.begin() as s:
        patron_id = borrower(s, now, "lumme", **kw)
        if fee:
            add_fee(s, patron_id=patron_id, library_id=s.get(PatronCirculation, patron_id).library_id,
                    kind="overdue_fine", amount=money("lumme", fee), reason="overdue fine", now=now, actor="test",
                    dedup_key=f"pay:{patron_id}")
            service.recompute_billing_ban(s, patron_id, now=now)
        return patron_id, s.get(Patron, patron_id).card_number


def page_after(client: Any, resp: Any) -> str:
    assert resp.status_code == 302, resp.text
    return client.get(resp.headers["Location"]).text


def test_a_partial_payment_then_the_rest_with_receipts_as_pdf_and_email(client, sm, now):
    patron_id, card = make(sm, now, fee="12.00", email="payer@test.kuulo")
    login(client, CLERK)
    text = page_after(client, client.post(f"/staff/desk/patrons/{card}/pay", data={"amount": "4,00", "method": "cash"}))
    assert "Payment of €4.00 recorded." in text and "The borrowing ban is lifted." in text
    with sm.begin() as s:
        payment_id = s.scalar(select(Payment.id).where(Payment.patron_id == patron_id))
        assert balance_of(s, patron_id, "EUR") == money("lumme", "8.00")
    assert f"Receipt {payment_id} (PDF)" in text
    pdf = client.get(f"/staff/desk/patrons/{card}/payments/{payment_id}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and b"overdue fine" in pdf.data
    for _ in range(2):
        client.post(f"/staff/desk/patrons/{card}/payments/{payment_id}/email")
    with sm.begin() as s:
        mails = s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "payer@test.kuulo",
                                                      OutboxMessage.template == "circulation_desk_receipt")).all()
        assert len(mails) == 1 and "4.00" in mails[0].body and "overdue fine" in mails[0].body
    assert client.get(f"/staff/desk/patrons/{card}/payments/999999/receipt.pdf").status_code == 404
    other, other_card = make(sm, now)
    assert client.get(f"/staff/desk/patrons/{other_card}/payments/{payment_id}/receipt.pdf").status_code == 404


def test_only_a_supervisor_refunds_with_a_reason_and_never_more_than_was_paid(client, sm, now):
    patron_id, card = make(sm, now, fee="6.00")
    login(client, CLERK)
    client.post(f"/staff/desk/patrons/{card}/pay", data={"method": "card"})
    with sm.begin() as s:
        payment_id = s.scalar(select(Payment.id).where(Payment.patron_id == patron_id))
    url = f"/staff/desk/patrons/{card}/payments/{payment_id}/refund"
    assert client.post(url, data={"reason": "paid twice"}).status_code == 403
    client.post("/logout")
    login(client, SUPERVISOR)
    assert "Give a reason for the refund." in page_after(client, client.post(url, data={"amount": "1.00"}))
    assert "That is more than is left to refund" in page_after(client, client.post(
        url, data={"amount": "7.00", "reason": "paid twice"}))
    assert "€2.00 refunded." in page_after(client, client.post(url, data={"amount": "2.00", "reason": "paid twice"}))
    assert "€4.00 refunded." in page_after(client, client.post(url, data={"reason": "item found"}))
    assert "Nothing is left to refund" in page_after(client, client.post(url, data={"reason": "again"}))
    with sm.begin() as s:
        assert balance_of(s, patron_id, "EUR") == money("lumme", "0.00")  # the fee stays settled
        assert service.outstanding_debits(s, patron_id) == []
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "circulation.refund")).all()
        assert [e.details["reason"] for e in events] == ["paid twice", "item found"]


def test_a_lost_item_costs_its_price_and_the_processing_fee_once(client, sm, now):
    patron_id, card = make(sm, now)
    with sm.begin() as s:
        barcode = item(s, now, "lumme", price="24.90")
        loan_id = lend(s, now, "lumme", patron_id, barcode).id
    login(client, CLERK)
    text = page_after(client, client.post(f"/staff/desk/patrons/{card}/loans/{loan_id}/lost"))
    assert f"Title {barcode} recorded as lost: replacement €24.90 charged. Processing fee €5.00." in text
    assert "Borrowing is now barred" in text
    assert client.post(f"/staff/desk/patrons/{card}/loans/{loan_id}/lost").status_code == 404  # not open now
    with sm.begin() as s:
        kinds = sorted((f.kind, f.amount_minor) for f in s.scalars(select(FeeEntry).where(
            FeeEntry.patron_id == patron_id)))
        assert kinds == [("item_processing", 500), ("lost_item_replacement", 2490)]
        assert s.get(Loan, loan_id).status == "lost"


def test_a_damaged_item_is_checked_in_and_charged_its_price_or_the_amount_given(client, sm, now):
    patron_id, card = make(sm, now)
    with sm.begin() as s:
        barcode = item(s, now, "lumme", price="30.00")
        lend(s, now, "lumme", patron_id, barcode)
    login(client, CLERK)
    text = page_after(client, client.post(f"/staff/desk/patrons/{card}/damaged",
                                          data={"barcode": barcode, "amount": "8.50"}))
    assert f"Title {barcode} recorded as damaged: €8.50 charged. Processing fee €5.00." in text
    with sm.begin() as s:
        assert s.scalar(select(Item.status).where(Item.barcode == barcode)) == "damaged"
        assert s.scalar(select(Loan.status).where(Loan.patron_id == patron_id)) == "returned"
    other, other_card = make(sm, now)
    text = page_after(client, client.post(f"/staff/desk/patrons/{other_card}/damaged", data={"barcode": barcode}))
    assert "was not the last borrower" in text


def test_the_payment_api_refunds_receipts_and_charges_lost_items(client, sm, now):
    from app.accounts import service as accounts

    patron_id, card = make(sm, now, fee="5.00", email="")
    with sm.begin() as s:
        raw = {}
        for email in (CLERK, SUPERVISOR):
            user = s.scalar(select(StaffUser).where(StaffUser.email == email))
            raw[email] = {"Authorization": f"Bearer {accounts.issue_token(s, now=now, days=1, staff=user)[0]}"}
        barcode = item(s, now, "lumme", price="10.00")
        loan_id = lend(s, now, "lumme", patron_id, barcode).id
    base = f"/api/v1/circulation/patrons/{card}"
    paid = client.post(f"{base}/payments", headers=raw[CLERK], json={"amount": "5.00"})
    payment_id = paid.json["payment_id"]
    receipt = client.get(f"{base}/payments/{payment_id}", headers=raw[CLERK])
    assert receipt.status_code == 200 and receipt.json["lines"][0]["amount"]["amount"] == "5.00"
    assert client.post(f"{base}/payments/{payment_id}/receipt-email", headers=raw[CLERK]).status_code == 409
    refund = {"amount": "2.00", "reason": "goodwill"}
    assert client.post(f"{base}/payments/{payment_id}/refunds", headers=raw[CLERK], json=refund).status_code == 403
    resp = client.post(f"{base}/payments/{payment_id}/refunds", headers=raw[SUPERVISOR], json=refund)
    assert resp.status_code == 201 and resp.json["refunded_in_all"]["amount"] == "2.00"
    resp = client.post(f"{base}/payments/{payment_id}/refunds", headers=raw[SUPERVISOR],
                       json={"amount": "9.00", "reason": "x"})
    assert resp.status_code == 409 and resp.json["refundable"] == "3.00"
    resp = client.post(f"{base}/payments/{payment_id}/refunds", headers=raw[SUPERVISOR],
                       json={"amount": "lots", "reason": "x"})
    assert resp.status_code == 422
    lost = client.post(f"{base}/loans/{loan_id}/lost", headers=raw[CLERK])
    assert lost.status_code == 200 and lost.json["processing"]["amount"] == "5.00"
    assert lost.json["replacement"]["amount"] == "10.00"
